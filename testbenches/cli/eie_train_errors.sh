#!/usr/bin/env bash
# eie-train on bad input: every case exits non-zero with the expected code,
# prints a message naming what is wrong, and writes no image and no report.
# A diverging run (NaN loss) keeps its last good checkpoint.
# Skipped when eie-train is not built (EIE_WITH_TORCH=OFF).
# Usage: eie_train_errors.sh BUILD_DIR SOURCE_DIR
set -u
# libtorch's OpenMP threads sleep while they wait (docs/training.md, "Busy machines")
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
build=$1
exe="$build/eie-train"
py=/usr/bin/python3
if grep -q '^EIE_WITH_TORCH:BOOL=OFF' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP: eie-train not built (EIE_WITH_TORCH=OFF)"; exit 0
fi
[ -x "$exe" ] || { echo "FAIL: $exe not built"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fm=/usr/share/datasets/fashion-mnist

"$py" - <<'EOF' || { echo "FAIL: could not make the test files"; exit 1; }
import gzip, struct, numpy as np
imgs = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()
open('bad-magic-images-idx3-ubyte', 'wb').write(b'\x00\x00\x07\x03' + imgs[4:4000])
open('truncated-images-idx3-ubyte', 'wb').write(imgs[:16 + 784 * 10 + 100])
np.save('x.npy', np.random.default_rng(1).random((300, 784)).astype(np.float32))
np.save('y.npy', (np.arange(300) % 10).astype(np.int64))
np.save('y_short.npy', (np.arange(299) % 10).astype(np.int64))
np.save('y_neg.npy', -(np.arange(300) % 10).astype(np.int64))
labels = gzip.open('/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz').read()
open('bad-magic-labels-idx1-ubyte', 'wb').write(b'\x00\x00\x08\x03' + labels[4:])
open('truncated-labels-idx1-ubyte', 'wb').write(labels[:8 + 5000])
np.save('x100.npy', np.random.default_rng(2).random((300, 100)).astype(np.float32))
rng = np.random.default_rng(3)
np.savez('net.npz', w1=rng.normal(0, 0.05, (32, 784)).astype(np.float32), b1=np.zeros(32, np.float32),
         w2=rng.normal(0, 0.1, (10, 32)).astype(np.float32), b2=np.zeros(10, np.float32))
open('garbage.npz', 'wb').write(b'PK\x03\x04 this is not a zip archive' * 10)
EOF
# npy [NAME VALUE]...: the .npy data set, with some of its options replaced
npy() {
  local -A o=([--train-images]=x.npy [--train-labels]=y.npy [--test-images]=x.npy [--test-labels]=y.npy [--val-count]=50)
  while [ $# -gt 0 ]; do o[$1]=$2; shift 2; done
  for k in "${!o[@]}"; do printf '%s\n%s\n' "$k" "${o[$k]}"; done
}
mapfile -t data < <(npy)
mkdir -p notimage && echo keep >notimage/file.txt
small=(--epochs 1 --retrain-epochs 1 --share-epochs 1 --prune-steps 1 --threads 2 --no-easy --no-cycle-model)

fails=0
cases=0
# check NAME EXPECTED_CODE PATTERN... -- ARGS...
check() {
  local name=$1 code=$2; shift 2
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  cases=$((cases + 1))
  rm -rf "$t/out" "$t/r.json"
  "$exe" "$@" -o "$t/out" --json "$t/r.json" -q >"$t/stdout" 2>"$t/stderr"
  local rc=$? bad=""
  [ "$rc" -eq "$code" ] || bad="exit code $rc, expected $code"
  for p in "${patterns[@]}"; do
    grep -qiE -- "$p" "$t/stderr" || bad="$bad; message lacks '$p'"
  done
  [ ! -e "$t/out" ] || bad="$bad; an image directory was written"
  [ ! -e "$t/r.json" ] || bad="$bad; a JSON report was written"
  ls "$t" | grep -q 'tmp-' && bad="$bad; temporaries left: $(ls "$t" | grep tmp-)"
  if grep -q Traceback "$t/stderr"; then bad="$bad; a traceback"; fi
  if [ -n "$bad" ]; then
    echo "FAIL $name: $bad"; echo "  stderr: $(head -c 400 "$t/stderr")"; fails=$((fails + 1))
  fi
}

check sizes_vs_data 2 "layer sizes do not fit the data" "784" -- "${data[@]}" "${small[@]}" --sizes 100,10 --density 0.5
check labels_vs_outputs 2 "label 9" "10 outputs" -- "${data[@]}" "${small[@]}" --sizes 784,30,5 --density 0.5
check one_size 2 "--sizes" "at least two" -- "${data[@]}" --sizes 784
check bad_magic 2 "bad-magic-images-idx3-ubyte" "magic" -- --train-images bad-magic-images-idx3-ubyte --train-limit 10
check truncated_idx 2 "truncated-images-idx3-ubyte" -- --train-images truncated-images-idx3-ubyte
check bad_magic_labels 2 "bad-magic-labels-idx1-ubyte" "magic" -- --train-images $fm/t10k-images-idx3-ubyte.gz \
  --train-labels bad-magic-labels-idx1-ubyte
check truncated_labels 2 "truncated-labels-idx1-ubyte" -- --train-images $fm/t10k-images-idx3-ubyte.gz \
  --train-labels truncated-labels-idx1-ubyte
check bad_magic_test_set 2 "bad-magic-images-idx3-ubyte" "magic" -- --test-images bad-magic-images-idx3-ubyte
check label_count 2 "y_short.npy" "299 labels" "300 images" -- $(npy --train-labels y_short.npy)
check idx_label_count 2 "labels" "10000" "60000" -- --train-labels $fm/t10k-labels-idx1-ubyte.gz
check negative_label 2 "y_neg.npy" "label" -- $(npy --train-labels y_neg.npy)
check missing_file 2 "nonexistent.npy" -- $(npy --train-images nonexistent.npy)
check density_zero 2 "--density" "out of range" -- "${data[@]}" --density 0
check density_big 2 "--density" "1.5" "out of range" -- "${data[@]}" --density 0.1,1.5,0.3
check density_negative 2 "--density" "-0.1" "out of range" -- "${data[@]}" --density -0.1
check density_nan 2 "--density" "nan" -- "${data[@]}" --density nan
check density_count 2 "--density" "2 values given for 3 layers" -- "${data[@]}" --density 0.1,0.2
check weight_bits 2 "weight_bits" "9" -- "${data[@]}" --weight-bits 9
check weight_bits_zero 2 "weight_bits" "0" -- "${data[@]}" --weight-bits 0
check index_bits 2 "index_bits" "0" -- "${data[@]}" --index-bits 0
check val_all 2 "validation" "300" -- $(npy --val-count 300)
check optimizer 2 "--optimizer" "adam, sgd" -- "${data[@]}" --optimizer lbfgs
check lr_negative 2 "--lr" "out of range" -- "${data[@]}" --lr -1
# integers are digits only, as --set takes them (docs/input-safety.md): "4.0" and "1e3" were once rounded
check epochs_fraction 2 "--epochs: '4\.0' is not an integer \(allowed: 0 \.\. 10000\)" -- "${data[@]}" --epochs 4.0
check batch_exponent 2 "--batch: '1e3' is not an integer" -- "${data[@]}" --batch 1e3
check seed_blank 2 "--seed: ' 4' is not an integer" -- "${data[@]}" --seed " 4"
check lr_text 2 "--lr: 'fast' is not a finite number \(allowed: 0 < x <= " -- "${data[@]}" --lr fast
check easy_output_not_image 2 "--easy-output '.*notimage': exists and is not an image directory" -- "${data[@]}" \
  --easy-output "$t/notimage"
check stop_after_unknown 2 "--stop-after" "prune-1" -- "${data[@]}" "${small[@]}" --checkpoints ck0 --stop-after nope
# an imported network: unreadable, not a model, or not fitting the data
check import_missing 2 "nonexistent.npz" -- "${data[@]}" "${small[@]}" --import nonexistent.npz --layers w1:b1,w2:b2
check import_garbage 2 "garbage.npz" -- "${data[@]}" "${small[@]}" --import garbage.npz --layers w1:b1,w2:b2
mkdir -p dir.npz
check import_directory 2 "dir.npz" -- "${data[@]}" "${small[@]}" --import dir.npz --layers w1:b1,w2:b2
check import_sizes_vs_data 2 "do not fit the data" "784" "100" -- $(npy --train-images x100.npy --test-images x100.npy) \
  "${small[@]}" --import net.npz --layers w1:b1,w2:b2 --density 0.5
check resume_without_dir 2 "--resume needs --checkpoints" -- "${data[@]}" --resume

# A diverging run: NaN loss -> exit 4, a message naming the step, the last good checkpoint kept.
diverging=(--epochs 1 --retrain-epochs 3 --share-epochs 1 --prune-steps 1 --threads 2 --no-easy --no-cycle-model
           --optimizer sgd --lr 1 --retrain-lr 1e12)
check diverged 4 "step prune-1" "diverged" "last good checkpoint: .*ck1/dense" -- \
  "${data[@]}" "${diverging[@]}" --checkpoints ck1
[ -f ck1/dense/state.json ] || { echo "FAIL diverged: the dense checkpoint is gone"; fails=$((fails + 1)); }
[ ! -e ck1/prune-1 ] || { echo "FAIL diverged: a checkpoint of the diverged step was written"; fails=$((fails + 1)); }

# Resuming with other settings mixes two runs: refused, naming the setting.
check resume_other_settings 2 "--resume" "densities" -- "${data[@]}" "${diverging[@]}" --checkpoints ck1 --resume \
  --density 0.5

echo "$cases cases, $fails failed"
[ "$fails" -eq 0 ]
