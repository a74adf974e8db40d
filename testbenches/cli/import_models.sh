#!/usr/bin/env bash
# Trained networks in from TorchScript (.pt) and ONNX (.onnx): the test makes
# its own small MLPs with Debian's python3-torch (torch.jit.script and
# torch.jit.trace, then save) and python3-onnx (onnx.helper: Gemm with
# transB = 1 and = 0, alpha/beta, MatMul + Add, Relu between), saves the
# same weights as .npz, and checks that eie-compress of each model gives the
# image of the .npz, bit for bit, and that eie-train --import of each gives
# the result of the .npz. Then every bad model: unsupported operator or
# module, missing bias, shape mismatch, truncated and garbage files, a wrong
# extension: exit 2, a message naming the file and the node or module,
# nothing written.
# Usage: import_models.sh BUILD_DIR SOURCE_DIR
set -u
# libtorch's OpenMP threads sleep while they wait (docs/training.md, "Busy machines")
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build=$(cd "$1" && pwd)
py=/usr/bin/python3
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
cache="$build/CMakeCache.txt"
with_torch=0; grep -q '^EIE_WITH_TORCH:BOOL=ON' "$cache" 2>/dev/null && with_torch=1
with_onnx=0; grep -q '^EIE_WITH_ONNX:BOOL=ON' "$cache" 2>/dev/null && with_onnx=1

# (from a file: torch.jit.script reads the source of the classes it compiles)
cat > make_models.py <<'EOF2'
import sys, numpy as np
with_torch, with_onnx = sys.argv[1] == '1', sys.argv[2] == '1'
r = np.random.default_rng(11)
W1 = (r.standard_normal((24, 784)) * 0.05).astype(np.float32); B1 = (r.standard_normal(24) * 0.05).astype(np.float32)
W2 = (r.standard_normal((16, 24)) * 0.2).astype(np.float32); B2 = (r.standard_normal(16) * 0.1).astype(np.float32)
W3 = (r.standard_normal((10, 16)) * 0.3).astype(np.float32); B3 = (r.standard_normal(10) * 0.1).astype(np.float32)
np.savez('net.npz', w1=W1, b1=B1, w2=W2, b2=B2, w3=W3, b3=B3)
np.savez('net_nobias2.npz', w1=W1, b1=B1, w2=W2, w3=W3, b3=B3)
# alpha = 0.5, beta = 2 on the second layer: the file holds 2 W2 and B2 / 2
np.save('x.npy', r.random((300, 784)).astype(np.float32))
np.save('y.npy', (np.arange(300) % 10).astype(np.int64))
open('garbage.pt', 'wb').write(r.bytes(3000))
open('garbage.onnx', 'wb').write(b'\xff' * 64 + r.bytes(3000))
if with_torch:
    import torch
    from torch import nn
    def seq(bias2=True):
        m = nn.Sequential(nn.Linear(784, 24), nn.ReLU(), nn.Linear(24, 16, bias=bias2), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 10))
        with torch.no_grad():
            m[0].weight.copy_(torch.from_numpy(W1)); m[0].bias.copy_(torch.from_numpy(B1))
            m[2].weight.copy_(torch.from_numpy(W2))
            if bias2: m[2].bias.copy_(torch.from_numpy(B2))
            m[5].weight.copy_(torch.from_numpy(W3)); m[5].bias.copy_(torch.from_numpy(B3))
        return m.eval()
    torch.jit.script(seq()).save('scripted.pt')
    torch.jit.trace(seq(), torch.zeros(1, 784)).save('traced.pt')
    torch.jit.script(seq(bias2=False)).save('nobias2.pt')
    class Functional(nn.Module):  # ReLU called in forward(): no ReLU modules
        def __init__(self):
            super().__init__()
            s = seq(); self.fc1, self.fc2, self.fc3 = s[0], s[2], s[5]
        def forward(self, x):
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))
    torch.jit.script(Functional()).save('functional.pt')
    conv = nn.Sequential(nn.Linear(784, 24), nn.ReLU(), nn.Conv1d(1, 1, 3))
    torch.jit.script(conv).save('conv.pt')
    bad = nn.Sequential(nn.Linear(784, 24), nn.ReLU(), nn.Linear(30, 10))
    torch.jit.script(bad).save('shape.pt')
    sig = nn.Sequential(nn.Linear(784, 24), nn.Sigmoid(), nn.Linear(24, 10))
    torch.jit.script(sig).save('sigmoid.pt')
    data = open('scripted.pt', 'rb').read()
    open('truncated.pt', 'wb').write(data[:len(data) // 2])
    open('scripted_pt.onnx', 'wb').write(data)   # a TorchScript file under an ONNX name
if with_onnx:
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    def model(nodes, inits, name, out='y', extra_inputs=()):
        g = helper.make_graph(nodes, 'mlp', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 784])] + list(extra_inputs),
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 10])],
                              [numpy_helper.from_array(a, n) for n, a in inits.items()])
        onnx.save(helper.make_model(g), name)
    gemm = lambda i, o, w, b, **kw: helper.make_node('Gemm', [i, w] + ([b] if b else []), [o], name=f'fc_{w}', **kw)
    relu = lambda i, o: helper.make_node('Relu', [i], [o], name=f'relu_{i}')
    # Gemm as torch.onnx exports nn.Linear (transB = 1), the second with
    # transB = 0 (weights stored in x out) and alpha/beta, the third MatMul + Add.
    inits = {'W1': W1, 'B1': B1, 'W2t': np.ascontiguousarray((2 * W2).T), 'B2': B2 / 2, 'W3t': np.ascontiguousarray(W3.T), 'B3': B3}
    nodes = [gemm('x', 'h1', 'W1', 'B1', transB=1), relu('h1', 'a1'),
             gemm('a1', 'h2', 'W2t', 'B2', alpha=0.5, beta=2.0), relu('h2', 'a2'),
             helper.make_node('MatMul', ['a2', 'W3t'], ['m3'], name='fc3_matmul'),
             helper.make_node('Add', ['m3', 'B3'], ['y'], name='fc3_add')]
    model(nodes, inits, 'net.onnx')
    # the same weights as float64 initializers
    model(nodes, {k: v.astype(np.float64) for k, v in inits.items()}, 'net64.onnx')
    # bad models
    model([gemm('x', 'h1', 'W1', 'B1', transB=1), relu('h1', 'a1'), helper.make_node('Sigmoid', ['a1'], ['s'], name='act2'),
           gemm('s', 'y', 'W3t', 'B3')], {'W1': W1, 'B1': B1, 'W3t': W3.T.copy(), 'B3': B3}, 'sigmoid.onnx')
    model([gemm('x', 'h1', 'W1', 'Bmissing', transB=1), relu('h1', 'a1'), gemm('a1', 'y', 'W3t', 'B3')],
          {'W1': W1, 'W3t': W3.T.copy(), 'B3': B3}, 'missing_bias.onnx',
          extra_inputs=[helper.make_tensor_value_info('Bmissing', TensorProto.FLOAT, [24])])
    model([gemm('x', 'h1', 'W1', 'B1', transB=1), relu('h1', 'a1'), gemm('a1', 'y', 'W3t', 'B3')],
          {'W1': W1, 'B1': B1, 'W3t': W3.T.copy()[:10], 'B3': B3}, 'shape.onnx')
    model([gemm('x', 'h1', 'W1', 'B1', transA=1, transB=1), relu('h1', 'a1'), gemm('a1', 'y', 'W3t', 'B3')],
          {'W1': W1, 'B1': B1, 'W3t': np.zeros((24, 10), np.float32), 'B3': B3}, 'transa.onnx')
    model([gemm('x', 'h1', 'W1', 'B1', transB=1), relu('h1', 'a1'), helper.make_node('Add', ['a1', 'B1'], ['y'], name='stray_add')],
          {'W1': W1, 'B1': B1}, 'stray_add.onnx')
    data = open('net.onnx', 'rb').read()
    open('truncated.onnx', 'wb').write(data[:len(data) // 2])
EOF2
"$py" make_models.py "$with_torch" "$with_onnx" || { echo "FAIL: could not make the test models"; exit 1; }

# --- round trips: the image of each model equals the image of the .npz
layers=w1:b1,w2:b2,w3:b3
args=(--density 0.3 --weight-bits 4 -q)
"$build/eie-compress" --npz net.npz --layers $layers "${args[@]}" -o img_npz || fail "eie-compress net.npz exited $?"
"$build/eie-compress" --npz net_nobias2.npz --layers w1:b1,w2,w3:b3 "${args[@]}" -o img_npz_nobias2 ||
  fail "eie-compress net_nobias2.npz exited $?"
same_image() {  # image directories equal except the manifest's names and source
  diff -rq -x manifest.json "$1" "$2" >/dev/null || { fail "$3: the image differs from the .npz image"; return; }
  "$py" - "$1" "$2" "$3" <<'EOF2' || fails=$((fails + 1))
import json, sys
a, b = (json.load(open(d + '/manifest.json')) for d in sys.argv[1:3])
strip = lambda m: [{k: v for k, v in L.items() if k != 'name'} for L in m['layers']]
if strip(a) != strip(b): print(f'FAIL: {sys.argv[3]}: the manifest layers differ from the .npz image'); sys.exit(1)
EOF2
}
models=()
[ "$with_torch" = 1 ] && models+=(scripted.pt traced.pt functional.pt)
[ "$with_onnx" = 1 ] && models+=(net.onnx net64.onnx)
for m in "${models[@]}"; do
  "$build/eie-compress" --npz "$m" "${args[@]}" -o "img_$m" 2>err || { fail "eie-compress $m exited $?: $(cat err)"; continue; }
  same_image img_npz "img_$m" "$m"
  echo "ok   eie-compress $m: the image of net.npz"
done
if [ "$with_torch" = 1 ]; then
  "$build/eie-compress" --npz nobias2.pt "${args[@]}" -o img_nobias2 2>err || fail "eie-compress nobias2.pt: $(cat err)"
  same_image img_npz_nobias2 img_nobias2 nobias2.pt
fi

# --- eie-train --import: the same run from each container
train() {
  local src=$1; shift
  "$build/eie-train" --import "$src" "$@" --train-images x.npy --train-labels y.npy --test-images x.npy \
    --test-labels y.npy --val-count 50 --retrain-epochs 1 --share-epochs 1 --prune-steps 1 --density 0.3 \
    --threads 2 --no-cycle-model --no-easy -o "train_$src" --json "train_$src.json" -q 2>err ||
    fail "eie-train --import $src: $(cat err)"
}
if [ "$with_torch" = 1 ] && [ -x "$build/eie-train" ]; then
  train net.npz --layers $layers
  for m in "${models[@]}"; do
    train "$m"
    diff -rq -x manifest.json train_net.npz "train_$m" >/dev/null || fail "eie-train: --import $m differs from net.npz"
    echo "ok   eie-train --import $m: the run of net.npz"
    "$py" - "train_$m.json" <<'EOF2' || fails=$((fails + 1))
import json, sys
a = json.load(open('train_net.npz.json')); b = json.load(open(sys.argv[1]))
if a['accuracy'] != b['accuracy'] or a['sizes'] != b['sizes']:
    print(f"FAIL: {sys.argv[1]}: accuracies {b['accuracy']} / sizes {b['sizes']} differ from the .npz run's {a['accuracy']} / {a['sizes']}"); sys.exit(1)
EOF2
  done
fi

# --- bad models: exit 2, the file and the node or module named, nothing written
check() {
  local tool=$1 name=$2 before=$fails; shift 2
  rm -rf out out.json
  if [ "$tool" = compress ]; then
    "$build/eie-compress" --npz "$name" -o out -q 2>err
  else
    [ -x "$build/eie-train" ] || return 0
    "$build/eie-train" --import "$name" --train-images x.npy --train-labels y.npy --test-images x.npy \
      --test-labels y.npy -o out --json out.json -q 2>err
  fi
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$tool $name: exit $rc, expected 2: $(cat err)"
  grep -qF -- "$name" err || fail "$tool $name: the message does not name the file: $(cat err)"
  for p in "$@"; do grep -qF -- "$p" err || fail "$tool $name: the message lacks '$p': $(cat err)"; done
  [ ! -e out ] && [ ! -e out.json ] || fail "$tool $name: something was written"
  ls -a | grep -qE '\.tmp' && fail "$tool $name: a temporary file was left"
  [ "$fails" -eq "$before" ] && echo "ok   $tool $name: $(head -c 240 err)"
}
if [ "$with_torch" = 1 ]; then
  check compress conv.pt "module '2'" "Conv1d" "not supported"
  check compress sigmoid.pt "module '1'" "Sigmoid" "not supported"
  check compress shape.pt "layer '2'" "in_len must be 24"
  check compress truncated.pt "not a TorchScript model"
  check compress garbage.pt "not a TorchScript model"
  check compress scripted_pt.onnx "not an ONNX model"
  check train conv.pt "Conv1d"
else
  check compress scripted.pt "EIE_WITH_TORCH" "libtorch-dev"
fi
if [ "$with_onnx" = 1 ]; then
  check compress sigmoid.onnx "node 'act2' (Sigmoid)" "not supported" "Gemm"
  check compress missing_bias.onnx "node 'fc_W1' (Gemm)" "'Bmissing'" "not an initializer"
  check compress shape.onnx "fc_W3t" "in_len must be 24"
  check compress transa.onnx "node 'fc_W1' (Gemm)" "transA = 1"
  check compress stray_add.onnx "node 'stray_add' (Add)" "bias of a MatMul"
  check compress truncated.onnx "not an ONNX model"
  check compress garbage.onnx "not an ONNX model"
  check train sigmoid.onnx "node 'act2' (Sigmoid)"
else
  check compress garbage.onnx "EIE_WITH_ONNX" "libonnx-dev"
fi
# --layers belongs to the archives; an .npz without it, or a model with it
rm -rf out; "$build/eie-compress" --npz net.npz -o out -q 2>err; rc=$?
{ [ "$rc" -eq 2 ] && grep -qF -- "--layers" err && [ ! -e out ]; } || fail "net.npz without --layers: exit $rc: $(cat err)"
if [ "$with_onnx" = 1 ]; then
  rm -rf out; "$build/eie-compress" --npz net.onnx --layers w1 -o out -q 2>err; rc=$?
  { [ "$rc" -eq 2 ] && grep -qF "gives its layers itself" err && [ ! -e out ]; } || fail "net.onnx with --layers: exit $rc: $(cat err)"
fi

if [ "$fails" -gt 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "TorchScript / ONNX import: all checks passed"
