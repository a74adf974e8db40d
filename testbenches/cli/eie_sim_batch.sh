#!/usr/bin/env bash
# eie-sim --inputs: a small Fashion-MNIST network built by scripts/fashion-net
# and compressed by eie-compress, a few hundred Debian Fashion-MNIST test
# images through the model. Checks: bit-exact; --jobs 2 equals --jobs 1
# (outputs, per-input rows, whole-run statistics); accuracy, top-5 and the
# confusion matrix recomputed independently in numpy from the outputs and the
# IDX labels; the selection options; one batch input equals the single run
# of the same input; raw fixed-point inputs; every bad-input case: exit 2, a
# message naming what is wrong, nothing left on disk.
# Usage: eie_sim_batch.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd) || { echo "FAIL: no build directory $1"; exit 1; }
src=$(cd "$2" && pwd) || { echo "FAIL: no source directory $2"; exit 1; }
sim="$build/eie-sim"
comp="$build/eie-compress"
py=/usr/bin/python3
data=/usr/share/datasets/fashion-mnist
for x in "$sim" "$comp"; do [ -x "$x" ] || { echo "FAIL: $x not built"; exit 1; }; done
[ -r "$data/t10k-images-idx3-ubyte.gz" ] || { echo "FAIL: $data missing (Debian package dataset-fashion-mnist)"; exit 1; }
t=$(mktemp -d)
trap 'chmod -R u+w "$t"; rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
passed=0
step() {
  local name=$1; shift
  if "$@" >"$t/log" 2>&1; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; sed 's/^/  /' "$t/log"; fails=$((fails + 1))
  fi
}
run() {
  local name=$1 want=$2; shift 2
  "$sim" "$@" >"$t/$name.out" 2>"$t/$name.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "eie-sim $* exited $rc (expected $want)"; cat "$t/$name.err"; return 1
  fi
}
contains() { grep -qF -- "$2" "$t/$1" || { echo "'$2' not in $1:"; cat "$t/$1"; return 1; }; }
empty_dir() { [ -z "$(ls -A "$1")" ] || { echo "left behind in $1:"; ls -A "$1"; return 1; }; }

IMG="$data/t10k-images-idx3-ubyte.gz"
LAB="$data/t10k-labels-idx1-ubyte.gz"
setup() {
  "$py" "$src/scripts/fashion-net" net --sizes 784,64,10 --train 3000 --epochs 3 &&
  "$comp" --npz net.npz --layers w1:b1,w2:b2 --density 0.2,0.5 --calibration net-calibration.npy --pes 16 -o img -q
}
step "build and compress a Fashion-MNIST network" setup

sel=(--inputs "$IMG" --labels "$LAB" --first 3 --count 240 --every 2)
batch_j1() {
  run j1 0 img "${sel[@]}" --jobs 1 --stats j1.json --outputs j1.npy --raw-outputs j1raw.npy --per-input j1.csv &&
  contains j1.out "BIT-EXACT: all 240 inputs" && contains j1.out "Accuracy over 240 labelled inputs" &&
  contains j1.out "arch: 16 PEs"
}
step "240 test images, --jobs 1, bit-exact" batch_j1

batch_j2() {
  run j2 0 img "${sel[@]}" --jobs 2 --stats j2.json --outputs j2.npy --raw-outputs j2raw.npy --per-input j2.csv &&
  cmp j1.npy j2.npy && cmp j1raw.npy j2raw.npy && cmp j1.csv j2.csv &&
  "$py" - <<'PY'
import json
a, b = json.load(open("j1.json")), json.load(open("j2.json"))
assert b["batch"]["jobs"] == 2 and a["batch"]["jobs"] == 1
for k in ("layers", "totals", "io", "bit_exact"):
    assert a[k] == b[k], k
skip = {"jobs", "host_seconds", "inferences_per_second"}
for k in a["batch"]:
    if k not in skip:
        assert a["batch"][k] == b["batch"][k], k
PY
}
step "--jobs 2 equals --jobs 1 exactly" batch_j2

check_accuracy() {
  "$py" - "$LAB" <<'PY'
import csv, gzip, json, sys
import numpy as np
raw = gzip.open(sys.argv[1]).read()
assert raw[:4] == b"\x00\x00\x08\x01"
labels = np.frombuffer(raw, np.uint8, offset=8).astype(np.int64)
rows = np.arange(3, 3 + 2 * 240, 2)
y = labels[rows]
q = np.load("j1raw.npy")
f = np.load("j1.npy")
s = json.load(open("j1.json"))
b = s["batch"]
assert q.shape == (240, 10) and q.dtype == np.int32 and f.dtype == np.float32, (q.shape, q.dtype, f.dtype)
assert np.array_equal(f, (q * 2.0 ** -b["out_frac"]).astype(np.float32))
pred = q.argmax(axis=1)
acc = b["accuracy"]
assert acc["count"] == 240 and acc["top1_correct"] == int((pred == y).sum()), (acc["top1_correct"], (pred == y).sum())
top5 = sum(int((q[i] > q[i, y[i]]).sum() < 5) for i in range(240))
assert acc["top5_correct"] == top5, (acc["top5_correct"], top5)
conf = np.zeros((10, 10), np.int64)
for l, p in zip(y, pred):
    conf[l, p] += 1
assert np.array_equal(np.array(acc["confusion"]), conf)
assert acc["top1"] > 0.4, acc["top1"]  # well above chance (0.1)
with open("j1.csv") as fh:
    r = list(csv.DictReader(fh))
assert len(r) == 240
assert [int(x["file_row"]) for x in r] == list(rows)
assert [int(x["predicted"]) for x in r] == list(pred)
assert [int(x["label"]) for x in r] == list(y)
cyc = np.array([int(x["cycles"]) for x in r])
d = b["per_inference"]["cycles"]
assert d["min"] == cyc.min() and d["max"] == cyc.max()
assert abs(d["median"] - np.median(cyc)) < 1e-9 and abs(d["p99"] - np.percentile(cyc, 99)) < 1e-6
assert abs(d["mean"] - cyc.mean()) < 1e-6
assert s["totals"]["cycles"] == cyc.sum(), (s["totals"]["cycles"], cyc.sum())
print("top-1", acc["top1"])
PY
}
step "accuracy, top-5, confusion, distributions recomputed in numpy" check_accuracy

one_equals_single() {
  run single 0 img --stats single.json &&
  run one 0 img --inputs img/input_float.npy --stats one.json -q &&
  "$py" -c "
import json, numpy as np
a, b = json.load(open('single.json')), json.load(open('one.json'))
assert a['layers'] == b['layers'], 'per-layer statistics differ'
assert a['totals'] == b['totals']
assert b['batch']['count'] == 1
" &&
  # the same input as raw fixed point (integers) gives the same run
  "$py" -c "
import numpy as np
np.save('raw_in.npy', np.load('img/input.npy').astype(np.int32).reshape(1, -1))" &&
  run raw 0 img --inputs raw_in.npy --stats raw.json -q &&
  "$py" -c "
import json
a, b = json.load(open('one.json')), json.load(open('raw.json'))
assert a['layers'] == b['layers'] and b['batch']['inputs']['kind'] == 'raw fixed point'"
}
step "a batch of the image's own input equals the single run (float and raw)" one_equals_single

summary_head() {
  contains single.out "Output of the last layer (10 values" && contains single.out "arg-max:"
}
step "single run summary shows the output head and the arg-max" summary_head

# --- bad input: exit 2, a clear message, nothing written
mkdir -p out
bad() {  # bad NAME MESSAGE ARGS...
  local name=$1 msg=$2; shift 2
  run "$name" 2 img "$@" --outputs out/o.npy --raw-outputs out/r.npy --per-input out/p.csv --stats out/s.json &&
  contains "$name.err" "$msg" && empty_dir out && empty_dir "$t/out"
}
"$py" -c "
import numpy as np
np.save('short.npy', np.zeros((3, 100), np.float32))
x = np.zeros((4, 784), np.float32); x[2, 5] = np.nan; np.save('nan.npy', x)
x = np.zeros((4, 784), np.float32); x[1, 7] = np.inf; np.save('inf.npy', x)
np.save('labels_short.npy', np.zeros(9999, np.int64))
l = np.zeros(10000, np.int64); l[42] = 10; np.save('labels_range.npy', l)
np.save('labels_float.npy', np.zeros(10000, np.float32))
np.save('big_raw.npy', np.full((1, 784), 1 << 20, np.int32))
"
gunzip -c "$IMG" | head -c 100000 >trunc-images-idx3-ubyte
step "inputs of the wrong length" bad short "takes 784" --inputs short.npy
step "NaN in the inputs" bad nan "input 2 value 5 is NaN" --inputs nan.npy
step "Inf in the inputs" bad inf "input 1 value 7 is +Inf" --inputs inf.npy
step "label count differs" bad lshort "9999 labels" --inputs "$IMG" --labels labels_short.npy --count 10
step "label out of range" bad lrange "label 42 is 10, out of range" --inputs "$IMG" --labels labels_range.npy --count 50
step "labels not integers" bad lfloat "labels must be integers" --inputs "$IMG" --labels labels_float.npy --count 5
step "truncated IDX file" bad trunc "trunc-images-idx3-ubyte" --inputs trunc-images-idx3-ubyte
step "IDX labels given as images" bad wrongtype "t10k-labels-idx1-ubyte.gz" --inputs "$LAB"
step "raw integer input out of range" bad bigraw "outside the 16-bit fixed-point range" --inputs big_raw.npy
step "--first beyond the inputs" bad first "--first 10000 but the file holds 10000 inputs" --inputs "$IMG" --first 10000
step "--count 0" bad count0 "--count: 0" --inputs "$IMG" --count 0
step "--every 0" bad every0 "--every: 0" --inputs "$IMG" --every 0
step "--jobs 0" bad jobs0 "--jobs: 0" --inputs "$IMG" --jobs 0
step "--labels without --inputs" bad noinputs "--labels needs --inputs" --labels "$LAB"
unwritable() {
  mkdir -p ro && chmod a-w ro &&
  run ro 2 img --inputs "$IMG" --count 5 --outputs ro/o.npy --per-input out/p.csv &&
  contains ro.err "not writable" && empty_dir ro && empty_dir out &&
  run nodir 2 img --inputs "$IMG" --count 5 --outputs missing/o.npy && contains nodir.err "does not exist"
}
[ "$(id -u)" -eq 0 ] && unwritable() { run nodir 2 img --inputs "$IMG" --count 5 --outputs missing/o.npy && contains nodir.err "does not exist" && empty_dir out; }
step "unwritable --outputs path" unwritable
same_file() { run same 2 img --inputs "$IMG" --outputs out/x --raw-outputs out/x && contains same.err "name the same file" && empty_dir out; }
step "two outputs naming one file" same_file

# --- a sweep over the user network: points reuse the image, results gain accuracy columns
cat >netsweep.json <<JSON
{"name": "net", "benchmarks": [{"kind": "network", "name": "fmlp", "npz": "net.npz", "layers": "w1:b1,w2:b2",
  "density": "0.2,0.5", "calibration": "net-calibration.npy", "inputs": "$IMG", "labels": "$LAB", "count": 40}],
 "params": {"num_pes": [8, 16], "weight_bits": [3, 4]}}
JSON
sweep_network() {
  "$py" "$src/scripts/sweep" netsweep.json --out sw --jobs 2 --quiet &&
  "$py" - <<'PY'
import csv
rows = list(csv.DictReader(open("sw/results.csv")))
assert len(rows) == 4 and all(r["status"] == "ok" and r["bit_exact"] == "true" for r in rows), rows
for r in rows:
    for k in ("accuracy_top1", "accuracy_top5", "per_inference_time_us_median", "per_inference_time_us_p99"):
        assert r[k] != "", k
    assert r["inputs"] == "40"
acc = {(r["num_pes"], r["weight_bits"]): r["accuracy_top1"] for r in rows}
# layout does not change what is computed; the quantisation points were recompressed
assert acc[("8", "4")] == acc[("16", "4")] and acc[("8", "3")] == acc[("16", "3")], acc
import os
assert len(os.listdir("sw/images")) == 2, os.listdir("sw/images")
PY
}
step "sweep over a user network: accuracy and latency columns, recompressed per quantisation" sweep_network
changed_count() {
  # A different input selection is a different point: the rerun must not reuse the 40-input results.
  sed 's/"count": 40/"count": 24/' netsweep.json >netsweep.json.new && mv netsweep.json.new netsweep.json &&
  "$py" "$src/scripts/sweep" netsweep.json --out sw --jobs 2 --quiet &&
  "$py" - <<'PY'
import csv
rows = list(csv.DictReader(open("sw/results.csv")))
assert len(rows) == 4 and all(r["inputs"] == "24" for r in rows), [r["inputs"] for r in rows]
PY
}
step "sweep over a user network: a changed --count reruns its points" changed_count
missing_npz() {
  sed 's/"net.npz"/"nothere.npz"/' netsweep.json >bad.json
  "$py" "$src/scripts/sweep" bad.json --out badsw --quiet >badsw.out 2>&1
  local rc=$?
  [ "$rc" -eq 2 ] && contains badsw.out "npz file 'nothere.npz' not found" && [ ! -e badsw ] && ! grep -q Traceback badsw.out
}
step "sweep: a user network's missing .npz is exit 2 before anything runs" missing_npz

echo "$passed passed, $fails failed"
[ "$fails" -eq 0 ]
