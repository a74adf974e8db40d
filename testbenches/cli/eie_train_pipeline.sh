#!/usr/bin/env bash
# eie-train end to end on a subset of Fashion-MNIST (2,000 training images,
# two epochs per step): accuracy well above chance after every step, pruned
# weights exactly zero after retraining, at most 2^b - 1 shared values per
# layer with the k-means assignments unchanged by trained quantisation,
# a resumed run equal to an uninterrupted one, and the image bit-exact in
# eie-sim, whose accuracy on the test images (eie-sim --inputs --labels)
# equals the golden model's. Skipped (exit 0 with a note) when eie-train is not built
# (EIE_WITH_TORCH=OFF).
# Usage: eie_train_pipeline.sh BUILD_DIR SOURCE_DIR
set -u
# libtorch's OpenMP threads sleep while they wait (docs/training.md, "Busy machines")
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build=$1
exe="$build/eie-train"
sim="$build/eie-sim"
py=/usr/bin/python3
if grep -q '^EIE_WITH_TORCH:BOOL=OFF' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP: eie-train not built (EIE_WITH_TORCH=OFF)"; exit 0
fi
[ -x "$exe" ] || { echo "FAIL: $exe not built"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

common=(--train-limit 2000 --val-count 200 --test-limit 1000 --epochs 2 --retrain-epochs 2 --share-epochs 2
        --prune-steps 2 --density 0.1,0.12,0.3 --weight-bits 4 --threads 2 --seed 3)

# --- an uninterrupted run (with the cycle model on every test image)
"$exe" "${common[@]}" --checkpoints ck_a -o img_a --json rep_a.json >out_a 2>err_a \
  || { fail "uninterrupted run exited $?"; cat err_a; exit 1; }
grep -q "epoch 2/2  loss" err_a || fail "no per-epoch progress line: $(head -3 err_a)"
grep -q "about .* left" err_a || fail "progress shows no time left"
grep -q "Top-1 accuracy on 1000 test images" out_a || fail "no accuracy table in the report"

# --- the same run interrupted after prune-1 and resumed
"$exe" "${common[@]}" --checkpoints ck_b --stop-after prune-1 >out_b1 2>err_b1 || fail "stop-after run exited $?"
[ ! -e ck_b/prune-2 ] || fail "--stop-after prune-1 went on to prune-2"
[ ! -e img_b ] || fail "--stop-after wrote an image"
# (the cycle model is not run again here: eie-sim checks the image below)
"$exe" "${common[@]}" --checkpoints ck_b --resume --no-cycle-model -o img_b --json rep_b.json >out_b2 2>err_b2 \
  || { fail "resumed run exited $?"; cat err_b2; }
grep -q "dense: resumed from checkpoint" err_b2 || fail "resume did not load the dense checkpoint"
grep -q "prune-2: epoch 1/2" err_b2 || fail "resume did not train prune-2"

"$py" - "$t" <<'EOF' || fails=$((fails + 1))
import json, sys, os, numpy as np
t = sys.argv[1]
bad = []
a = json.load(open(f'{t}/rep_a.json'))
b = json.load(open(f'{t}/rep_b.json'))
layers = ['fc1', 'fc2', 'fc3']
# accuracy well above chance (10 classes) after every step, and through the golden model
for s in a['steps']:
    if s['test_accuracy'] < 0.4: bad.append(f"step {s['step']}: test accuracy {s['test_accuracy']} not above 0.4")
acc = a['accuracy']
for k in ('dense_float', 'pruned_float', 'quantised_float', 'golden_fixed_point'):
    if acc[k] < 0.4: bad.append(f'{k} = {acc[k]} not above 0.4')
if abs(acc['golden_fixed_point'] - acc['quantised_float']) > 0.03:
    bad.append(f"16-bit fixed point {acc['golden_fixed_point']} far from float {acc['quantised_float']}")
# the cycle model: every test image, bit-exact, the golden model's accuracy
cm = a.get('cycle_model')
if not cm: bad.append('no cycle-model figures in the report')
else:
    if not cm['bit_exact']: bad.append('cycle model not bit-exact with the golden model')
    if cm['inputs'] != 1000: bad.append(f"cycle model ran {cm['inputs']} test images, want 1000")
    if acc['cycle_model'] != acc['golden_fixed_point']:
        bad.append(f"cycle-model accuracy {acc['cycle_model']} != golden {acc['golden_fixed_point']}")
# pruned weights exactly zero: each pruning step keeps exactly round(d * n) weights,
# the zeros of a step stay zero in every later step
prev = None
for step, dens in (('prune-1', None), ('prune-2', [0.1, 0.12, 0.3]), ('share', [0.1, 0.12, 0.3])):
    cur = {}
    for l, name in enumerate(layers):
        w = np.load(f'{t}/ck_a/{step}/{name}.weight.npy')
        cur[name] = w
        if dens is not None:
            want = round(dens[l] * w.size)
            if np.count_nonzero(w) != want: bad.append(f'{step} {name}: {np.count_nonzero(w)} non-zeros, want {want}')
        if prev is not None and np.any(w[prev[name] == 0] != 0):
            bad.append(f'{step} {name}: a weight pruned earlier is non-zero')
    prev = cur
# trained quantisation: <= 2^4 - 1 distinct non-zero values per layer over [W | b],
# and values that k-means put together are still together (and only they)
for name in layers:
    w = np.load(f'{t}/ck_a/share/{name}.weight.npy'); bias = np.load(f'{t}/ck_a/share/{name}.bias.npy')
    v = np.concatenate([w.ravel(), bias])
    k = np.load(f'{t}/ck_a/share/{name}.kmeans.npy')
    nz = v[v != 0]
    if len(np.unique(nz)) > 15: bad.append(f'{name}: {len(np.unique(nz))} distinct values > 15')
    if not np.array_equal(k == 0, v == 0): bad.append(f'{name}: zero pattern changed by fine-tuning')
    pairs = set(zip(k[k != 0].tolist(), v[k != 0].tolist()))
    if len(pairs) != len(np.unique(k[k != 0])) or len(pairs) != len(np.unique(v[k != 0])):
        bad.append(f'{name}: the assignment of values to shared weights changed during fine-tuning')
    if np.array_equal(k, v): bad.append(f'{name}: fine-tuning did not move any shared weight')
# resumed == uninterrupted
for name in layers:
    for part in ('weight', 'bias'):
        x = np.load(f'{t}/ck_a/share/{name}.{part}.npy'); y = np.load(f'{t}/ck_b/share/{name}.{part}.npy')
        if not np.array_equal(x, y): bad.append(f'resumed run: {name}.{part} differs from the uninterrupted run')
if {k: v for k, v in a['accuracy'].items() if k != 'cycle_model'} != {k: v for k, v in b['accuracy'].items() if k != 'cycle_model'}: bad.append(f"resumed accuracy {b['accuracy']} != {a['accuracy']}")
# the report's table rows
if a['total']['ratio_huffman'] <= a['total']['ratio_quantised']: bad.append('Huffman coding did not improve the ratio')
ez = a.get('easy_version')
if ez is None: bad.append('no easy version in the report')
for x in bad: print('FAIL:', x)
sys.exit(1 if bad else 0)
EOF

# --- the image runs bit-exact in the cycle model, and its accuracy there on the same 1,000 test
# images (eie-sim's batch inference with the labels) equals the golden model's
fm=/usr/share/datasets/fashion-mnist
if [ -x "$sim" ]; then
  "$sim" img_a >sim_out 2>sim_err || fail "eie-sim on the trained image exited $?: $(tail -3 sim_err)"
  "$sim" img_a --inputs $fm/t10k-images-idx3-ubyte.gz --labels $fm/t10k-labels-idx1-ubyte.gz --count 1000 --jobs 2 \
    --stats sim_stats.json >sim_out2 2>sim_err2 || fail "eie-sim --inputs on the trained image exited $?: $(tail -3 sim_err2)"
  "$py" - <<'EOF' || fails=$((fails + 1))
import json, sys
s = json.load(open('sim_stats.json')); a = json.load(open('rep_a.json'))['accuracy']
bad = []
if s.get('bit_exact') is not True: bad.append(f"eie-sim --inputs: bit_exact = {s.get('bit_exact')}")
acc = (s.get('batch') or {}).get('accuracy') or {}
if acc.get('count') != 1000: bad.append(f"eie-sim ran {acc.get('count')} labelled inputs, want 1000")
if round(a['golden_fixed_point'] * 1000) != acc.get('top1_correct'):
    bad.append(f"eie-sim top-1 {acc.get('top1_correct')}/1000 != golden {a['golden_fixed_point']}")
for x in bad: print('FAIL:', x)
sys.exit(1 if bad else 0)
EOF
fi
diff -rq img_a img_b -x manifest.json >/dev/null || fail "resumed run's image differs from the uninterrupted run's"

if [ "$fails" -gt 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "eie-train pipeline: all checks passed"
