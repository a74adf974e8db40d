#!/usr/bin/env bash
# eie-compress end to end: a synthetic preset and a two-layer .npz network
# with biases. The image is checked from the outside with numpy: the hex
# files are decoded independently of the C++ reader, the non-zero pattern is
# compared with the float weights, and the expected outputs are recomputed
# with the documented fixed-point rules (docs/fixed-point.md).
# Usage: eie_compress_images.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
exe="$build/eie-compress"
py=/usr/bin/python3
[ -x "$exe" ] || { echo "FAIL: $exe not built"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
passed=0
step() {  # step NAME COMMAND...: runs a check, counts it
  local name=$1; shift
  if "$@" >"$t/log" 2>&1; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; sed 's/^/  /' "$t/log"; fails=$((fails + 1))
  fi
}

# --- 1. the Alex-8 preset
step "preset alex8 compresses" "$exe" --preset alex8 -o "$t/alex8" --json "$t/alex8.json" --quiet
check_alex8() {
  "$py" - "$t/alex8" "$t/alex8.json" <<'EOF'
import json, sys, os, numpy as np
d, rep = sys.argv[1], json.load(open(sys.argv[2]))
m = json.load(open(os.path.join(d, 'manifest.json')))
assert m['format'] == 'eie-image' and m['format_version'] == 1, m['format']
assert m['arch']['num_pes'] == 64 and len(m['pes']) == 64
L = m['layers'][0]
assert (L['in_len'], L['out_len']) == (4096, 1000), (L['in_len'], L['out_len'])
x = np.load(os.path.join(d, 'input.npy'))
y = np.load(os.path.join(d, 'expected_L0.npy'))
yf = np.load(os.path.join(d, 'expected_float_L0.npy'))
xf = np.load(os.path.join(d, 'input_float.npy'))
assert x.dtype == np.int32 and x.shape == (4096,), (x.dtype, x.shape)
assert xf.dtype == np.float64 and xf.shape == (4096,)
assert y.dtype == np.int32 and y.shape == (1000,), (y.dtype, y.shape)
assert yf.dtype == np.float64 and yf.shape == (1000,)
assert abs(np.count_nonzero(xf) / 4096 - 0.375) < 0.01          # Alex-8 activation density
assert (y >= 0).all()                                            # ReLU
# the fixed-point output tracks the float reference
err = np.abs(y / 2.0 ** L['formats']['out_frac'] - yf).max()
assert err < 0.05 * np.abs(yf).max(), err
r = rep['layers'][0]
assert abs(r['prune']['density_after'] - 0.25) < 0.001, r['prune']
assert r['fixed_vs_float']['snr_db'] > 30, r['fixed_vs_float']
assert rep['storage']['total']['bits']['dense'] == 32 * 4096 * 1000
assert m['report']['storage'] == rep['storage']
for p in range(64):
    for f in ('spmat.hex', 'ptr_even.hex', 'ptr_odd.hex', 'codebook.hex'):
        assert os.path.isfile(os.path.join(d, 'pe_%04d' % p, f)), (p, f)
print('alex8 image ok, max |fixed - float| =', err)
EOF
}
step "alex8 image content" check_alex8

# --- 2. a two-layer network with biases from an .npz
"$py" - <<'EOF' || { echo "FAIL: numpy could not make the network"; exit 1; }
import numpy as np
r = np.random.default_rng(3)
w1 = (r.standard_normal((37, 50)) * (r.random((37, 50)) < 0.3)).astype(np.float32)
b1 = (r.standard_normal(37) * 0.2).astype(np.float32)
b1[::5] = 0
w2 = (r.standard_normal((9, 37)) * (r.random((9, 37)) < 0.5) * 0.5).astype(np.float32)
b2 = (r.standard_normal(9) * 0.2).astype(np.float32)
np.savez('net.npz', fc1=w1, fc1_b=b1, fc2=w2, fc2_b=b2)
x = np.maximum(r.standard_normal(50), 0)
np.save('x.npy', x)
np.save('cal.npy', np.maximum(r.standard_normal((3, 50)), 0) * 2)
EOF
step "npz network compresses" "$exe" --npz net.npz --layers fc1:fc1_b,fc2:fc2_b --input x.npy --calibration cal.npy \
  --pes 4 --set act_rf_entries=4 -o "$t/net" --json "$t/net.json"
check_net() {
  "$py" - "$t/net" "$t/net.npz" "$t/x.npy" <<'EOF'
import json, sys, os, numpy as np
d = sys.argv[1]
net = np.load(sys.argv[2])
xin = np.load(sys.argv[3])
m = json.load(open(os.path.join(d, 'manifest.json')))
a = m['arch']
N, R, wb, ib = a['num_pes'], a['act_rf_entries'], a['weight_bits'], a['index_bits']
lb, ab = a['spmat_line_bits'], a['act_bits']
eb = wb + ib
epl = lb // eb
lo, hi = -(1 << (ab - 1)), (1 << (ab - 1)) - 1

def hexfile(p, digits):
    lines = open(os.path.join(d, p)).read().split('\n')
    assert lines[-1] == '', p
    lines = lines[:-1]
    assert all(len(s) == digits for s in lines), p
    return [int(s, 16) for s in lines]

pes = []
for pe in m['pes']:
    lines = hexfile(pe['files']['spmat'], lb // 4)
    ent = []
    for v in lines:
        for k in range(epl):
            ent.append((v >> (k * eb)) & ((1 << eb) - 1))
    ev = hexfile(pe['files']['ptr_even'], (a['ptr_bits'] + 3) // 4)
    od = hexfile(pe['files']['ptr_odd'], (a['ptr_bits'] + 3) // 4)
    ptr = [0] * (len(ev) + len(od))
    ptr[0::2], ptr[1::2] = ev, od
    pes.append((ent, ptr))

names = [('fc1', 'fc1_b'), ('fc2', 'fc2_b')]
x = np.load(os.path.join(d, 'input.npy'))
assert x.dtype == np.int32 and x.shape == (50,), (x.dtype, x.shape)
x = x.astype(np.int64)
L0 = m['layers'][0]
assert (x == np.clip(np.round(xin * 2.0 ** L0['formats']['in_frac']), lo, hi)).all()
for li, L in enumerate(m['layers']):
    W, B = net[names[li][0]], net[names[li][1]]
    out_len, in_len = W.shape
    assert (L['in_len'], L['out_len'], L['has_bias']) == (in_len, out_len, True)
    nc = in_len + 1
    codes = np.zeros((out_len, nc), np.int64)
    # decode the interleaved CSC of every PE and batch
    for p, (ent, ptr) in enumerate(pes):
        for b in range(L['num_batches']):
            q0 = L['ptr_base'] + b * (nc + 1)
            for j in range(nc):
                row = 0
                for e in range(ptr[q0 + j], ptr[q0 + j + 1]):
                    v = ent[L['entry_base'] + e]
                    row += (v >> wb) + 1
                    code = v & ((1 << wb) - 1)
                    if code:
                        codes[((b * R + row - 1) * N) + p, j] = code
    dense = np.concatenate([W, B[:, None]], axis=1)
    assert ((codes != 0) == (dense != 0)).all(), 'non-zero pattern differs from [W|b]'
    cbf = np.array(L['codebook_float'])
    assert np.abs(cbf[codes] - dense).max() <= 0.5 * np.abs(dense).max()
    # fixed point: inputs by index (non-zeros only), then the bias column (1.0);
    # term = (a*w + 2^(s-1)) >> s, saturate after every add, then ReLU/identity.
    cb = np.array(L['codebook'], np.int64)
    f = L['formats']
    s = f['in_frac'] + f['w_frac'] - f['out_frac']
    assert s == f['shift'] and s > 0
    act = np.concatenate([x, [1 << f['in_frac']]])
    acc = np.zeros(out_len, np.int64)
    for j in range(nc):
        if act[j] == 0:
            continue
        term = (act[j] * cb[codes[:, j]] + (1 << (s - 1))) >> s
        acc = np.clip(acc + term, lo, hi)
    if L['activation'] == 'relu':
        acc = np.maximum(acc, 0)
    y = np.load(os.path.join(d, 'expected_L%d.npy' % li))
    assert y.dtype == np.int32 and y.shape == (out_len,), (y.dtype, y.shape)
    assert (y == acc).all(), ('layer', li, np.nonzero(y != acc))
    yf = np.load(os.path.join(d, 'expected_float_L%d.npy' % li))
    assert yf.dtype == np.float64 and yf.shape == (out_len,)
    xf = np.load(os.path.join(d, 'input_float.npy')) if li == 0 else prev_f
    ref = cbf[codes] @ np.concatenate([xf, [1.0]])
    if L['activation'] == 'relu':
        ref = np.maximum(ref, 0)
    assert np.allclose(ref, yf, rtol=1e-9, atol=1e-9)
    prev_f = yf
    x = acc
assert [L['activation'] for L in m['layers']] == ['relu', 'identity']
assert m['report']['calibration_vectors'] == 3
print('npz image ok: hex decode, pattern and fixed-point recomputation agree')
EOF
}
step "npz image decodes and recomputes in numpy" check_net

# --- 3. writing again over an image replaces it; --quiet prints nothing
step "overwrite an image" "$exe" --npz net.npz --layers fc1:fc1_b,fc2 --pes 2 -o "$t/net" --quiet
check_replaced() {
  "$py" -c "
import json; m = json.load(open('$t/net/manifest.json'))
assert m['arch']['num_pes'] == 2 and len(m['pes']) == 2 and not m['layers'][1]['has_bias']
" && [ ! -d "$t/net/pe_0003" ] && ! ls -a "$t" | grep -qE '\.(tmp|old)-'
}
step "image replaced, no leftovers" check_replaced
check_quiet() {
  "$exe" --preset ntwe -o "$t/q" --quiet >"$t/q.out" 2>&1 && [ ! -s "$t/q.out" ]
}
step "--quiet prints nothing" check_quiet
check_report() {
  "$exe" --weights <("$py" -c "
import numpy as np, sys
np.save(sys.stdout.buffer, np.arange(-6, 6, dtype=np.float32).reshape(3, 4))") -o "$t/w" --density 0.5 >"$t/w.out" 2>&1 &&
    grep -q "Storage" "$t/w.out" && grep -q "Fixed point vs float" "$t/w.out" && grep -q "capacity" "$t/w.out"
}
step "report is printed" check_report

echo "$passed passed, $fails failed"
[ "$fails" -eq 0 ]
