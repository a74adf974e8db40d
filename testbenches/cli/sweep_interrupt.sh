#!/usr/bin/env bash
# scripts/sweep interrupted for real in the middle of a run, once by SIGINT (Ctrl-C) and once by
# SIGTERM (kill), then resumed. After each interruption: exit 130 and a message saying so, no
# eie-sim or eie-compress of the run still running, no temporary file or work directory left, every
# point file present complete and valid. The next run skips exactly the points already there
# (their files untouched) and computes only the others; the last run finishes the sweep and its
# CSV has one row per point, all bit-exact.
# Usage: sweep_interrupt.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"

# 16 points of about 0.15 s each (one PE, a dense-input layer): about 1.2 s of work on two jobs,
# so the run is certainly still going when the second point file appears.
cat > "$t/sweep.json" <<'EOF'
{
 "name": "interrupt",
 "benchmarks": [{"name": "mid", "in_len": 4096, "out_len": 2048, "weight_density": 0.1,
                 "act_density": 1.0, "seed": 3}],
 "base": {"grow_memories": true, "num_pes": 1},
 "params": {"queue_depth": {"from": 1, "to": 16}}
}
EOF
total=16
out="$t/out"
points() { find "$out/points" -name '*.json' 2>/dev/null | wc -l; }

# interrupt SIGNAL TAG: starts the sweep, waits until at least `need` more point files exist than
# before, sends SIGNAL, and checks the state it leaves.
interrupt() {
  local sig=$1 tag=$2 before need pid rc
  before=$(points)
  need=$((before + 2))
  "$src/scripts/sweep" "$t/sweep.json" --jobs 2 --out "$out" > /dev/null 2> "$t/err-$tag" &
  pid=$!
  for _ in $(seq 1 3000); do   # at most 30 s
    [ "$(points)" -ge "$need" ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.01
  done
  kill -s "$sig" "$pid" 2> /dev/null
  wait "$pid"
  rc=$?
  local after
  after=$(points)
  check "$tag: exit 130 after the signal (got $rc; points before $before, after $after of $total)" '[ $rc -eq 130 ]'
  check "$tag: says it was interrupted" 'grep -q "interrupted" "$t/err-$tag"'
  check "$tag: stopped in the middle (some new points, not all)" '[ "$after" -gt "$before" ] && [ "$after" -lt "$total" ]'
  check "$tag: no tool of the run still running" '! pgrep -f "$out/" > /dev/null'
  check "$tag: no temporary file or work directory left" \
    '[ -z "$(find "$out" \( -name ".tmp-*" -o -name "*.tmp-*" -o -name "*.old-*" -o -name ".staged*" \))" ] && [ ! -e "$out/tmp" ]'
  "$py" - "$out/points" > "$t/valid-$tag" 2>&1 <<'EOF'
import json, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    rec = json.load(open(os.path.join(d, f)))  # a half-written file fails here
    assert rec["point_id"] + ".json" == f and rec["status"] == "ok" and rec["stats"]["bit_exact"] is True, f
print("valid")
EOF
  check "$tag: every point file is complete and valid" 'grep -q "^valid" "$t/valid-$tag"'
  check "$tag: a results.csv, if any, is complete (header + rows, no torn line)" \
    '[ ! -e "$out/results.csv" ] || "$py" -c "
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
sys.exit(0 if rows and all(len(r) == len(rows[0]) for r in rows) else 1)" "$out/results.csv"'
}

interrupt INT sigint
n1=$(points)
sleep 1; touch "$t/stamp1"
interrupt TERM sigterm
check "sigterm run: '$n1 already done' and the $n1 finished points were skipped" \
  'grep -q "$n1 already done (skipped, not recomputed), $((total - n1)) to run" "$t/err-sigterm"'
check "sigterm run: none of the $n1 earlier point files rewritten" \
  '[ "$(find "$out/points" -name "*.json" ! -newer "$t/stamp1" | wc -l)" -eq "$n1" ]'

n2=$(points)
sleep 1; touch "$t/stamp2"
"$src/scripts/sweep" "$t/sweep.json" --jobs 2 --out "$out" > /dev/null 2> "$t/err-final"
rc=$?
check "final run exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "final run: $n2 skipped, $((total - n2)) computed" \
  'grep -q "$n2 already done (skipped, not recomputed), $((total - n2)) to run" "$t/err-final"'
check "final run: the $n2 earlier point files untouched, the others new" \
  '[ "$(find "$out/points" -name "*.json" ! -newer "$t/stamp2" | wc -l)" -eq "$n2" ] &&
   [ "$(find "$out/points" -name "*.json" -newer "$t/stamp2" | wc -l)" -eq "$((total - n2))" ]'
"$py" - "$out/results.csv" "$total" > "$t/csv" 2>&1 <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == int(sys.argv[2]), len(rows)
assert sorted(int(r["queue_depth"]) for r in rows) == list(range(1, 17))
assert all(r["status"] == "ok" and r["bit_exact"] == "true" for r in rows)
# deeper queues never make this layer slower
cyc = [int(r["cycles"]) for r in sorted(rows, key=lambda r: int(r["queue_depth"]))]
assert all(a >= b for a, b in zip(cyc, cyc[1:])), cyc
print("csv ok")
EOF
check "results.csv: one row per queue depth 1..16, all ok and bit-exact ($(tail -1 "$t/csv"))" 'grep -q "^csv ok" "$t/csv"'

echo "$([ $fail -eq 0 ] && echo PASS || echo FAILED): sweep_interrupt"
exit $fail
