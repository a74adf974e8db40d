#!/usr/bin/env bash
# Trained networks in from safetensors: the same weights saved as .npz and
# as .safetensors (written here byte by byte from the format's definition)
# give identical images in eie-compress and identical results in eie-train
# (fine-tuning an imported network); malformed safetensors files are clear
# errors (exit 2) naming the file and the tensor, with nothing written.
# Usage: import_safetensors.sh BUILD_DIR SOURCE_DIR
set -u
# libtorch's OpenMP threads sleep while they wait (docs/training.md, "Busy machines")
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build=$1
py=/usr/bin/python3
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$py" - <<'EOF' || { echo "FAIL: could not make the test models"; exit 1; }
import json, struct, numpy as np
r = np.random.default_rng(5)
arrays = {'fc1.weight': (r.standard_normal((32, 784)) * 0.05).astype(np.float32),
          'fc1.bias': (r.standard_normal(32) * 0.05).astype(np.float32),
          'fc2.weight': (r.standard_normal((10, 32)) * 0.2).astype(np.float32),
          'fc2.bias': np.zeros(10, np.float32)}
np.savez('net.npz', **arrays)
def safetensors(path, arrays, dtype_override=None, offsets_override=None, cut=0, f16=()):
    header, blobs, off = {}, [], 0
    for name, a in arrays.items():
        if name in f16: a = a.astype(np.float16)
        b = a.astype('<' + a.dtype.str[1:]).tobytes()
        header[name] = {'dtype': {'float32': 'F32', 'float16': 'F16'}[str(a.dtype)], 'shape': list(a.shape),
                        'data_offsets': [off, off + len(b)]}
        off += len(b); blobs.append(b)
    header['__metadata__'] = {'format': 'pt'}
    if dtype_override: header['fc2.bias']['dtype'] = dtype_override
    if offsets_override: header['fc2.weight']['data_offsets'] = offsets_override
    h = json.dumps(header).encode()
    data = struct.pack('<Q', len(h)) + h + b''.join(blobs)
    open(path, 'wb').write(data[:len(data) - cut])
safetensors('net.safetensors', arrays)
safetensors('half.safetensors', arrays, f16=('fc2.weight',))
np.savez('half.npz', **{k: (v.astype(np.float16) if k == 'fc2.weight' else v) for k, v in arrays.items()})
safetensors('bad_dtype.safetensors', arrays, dtype_override='C64')
safetensors('bad_offsets.safetensors', arrays, offsets_override=[0, 10**9])
safetensors('truncated.safetensors', arrays, cut=100)
open('short.safetensors', 'wb').write(b'\x05\x00')
open('bad_header.safetensors', 'wb').write(struct.pack('<Q', 5) + b'{"a":')
np.save('x.npy', r.random((300, 784)).astype(np.float32))
np.save('y.npy', (np.arange(300) % 10).astype(np.int64))
EOF
layers=fc1.weight:fc1.bias,fc2.weight:fc2.bias

# --- eie-compress: same image from both containers (F32, and F16 through both)
for pair in "net.npz net.safetensors" "half.npz half.safetensors"; do
  set -- $pair
  "$build/eie-compress" --npz "$1" --layers $layers --density 0.2 -o "img_$1" -q || fail "eie-compress $1 exited $?"
  "$build/eie-compress" --npz "$2" --layers $layers --density 0.2 -o "img_$2" -q || fail "eie-compress $2 exited $?"
  diff -rq -x manifest.json "img_$1" "img_$2" >/dev/null || fail "$2 gives another image than $1"
done

# --- bad safetensors files
check() {
  local name=$1; shift
  rm -rf out
  "$build/eie-compress" --npz "$name" --layers $layers -o out -q 2>err
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$name: exit $rc, expected 2"
  grep -q "$name" err || fail "$name: message does not name the file: $(cat err)"
  for p in "$@"; do grep -q -- "$p" err || fail "$name: message lacks '$p': $(cat err)"; done
  [ ! -e out ] || fail "$name: an image was written"
}
check bad_dtype.safetensors "fc2.bias" "C64" "not supported"
check bad_offsets.safetensors "fc2.weight" "data_offsets"
check truncated.safetensors "data_offsets"
check short.safetensors "header length"
check bad_header.safetensors "not valid JSON"

# --- eie-train: fine-tuning an imported network, same result from both containers
if grep -q '^EIE_WITH_TORCH:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  for f in net.npz net.safetensors; do
    "$build/eie-train" --import "$f" --layers $layers --train-images x.npy --train-labels y.npy --test-images x.npy \
      --test-labels y.npy --val-count 50 --retrain-epochs 1 --share-epochs 1 --prune-steps 1 --density 0.2 \
      --threads 2 --no-cycle-model -o "train_$f" --json "train_$f.json" -q 2>err || fail "eie-train --import $f: $(cat err)"
  done
  diff -rq -x manifest.json train_net.npz train_net.safetensors >/dev/null || fail "eie-train: the two imports differ"
  "$py" - <<'EOF' || fails=$((fails + 1))
import json, sys
a = json.load(open('train_net.npz.json')); b = json.load(open('train_net.safetensors.json'))
bad = []
if [s['step'] for s in a['steps']] != ['prune-1', 'share']: bad.append(f"steps {[s['step'] for s in a['steps']]}: the dense step was not skipped")
if a['accuracy'] != b['accuracy']: bad.append(f"accuracies differ: {a['accuracy']} vs {b['accuracy']}")
if a['sizes'] != [784, 32, 10]: bad.append(f"sizes {a['sizes']}")
for x in bad: print('FAIL:', x)
sys.exit(1 if bad else 0)
EOF
fi

if [ "$fails" -gt 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "safetensors import: all checks passed"
