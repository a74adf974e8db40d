#!/usr/bin/env bash
# scripts/sweep --slurm on a real one-node Slurm cluster that this test starts on localhost (its own
# munge key and munged, slurm.conf, state, spool and ports under a temporary directory; the node is
# this host with its real cores) and stops by PID at the end, pass or fail; nothing of it may be
# left running. Checked:
#  - errors before anything is written: no sbatch on PATH, a controller that does not answer, an
#    unknown partition (Slurm's message with the option), a directory of another sweep;
#  - a sweep through --slurm gives the same results.csv and the same per-point JSON as the local
#    backend (host timings, host and task fields aside); --status and --collect;
#  - a task that fails is reported with its log and its points, and a rerun retries exactly those;
#  - SIGINT and SIGTERM while waiting cancel the array (scancel): exit 130, no task or tool left,
#    only complete point files; the rerun submits only the missing points and completes the CSV;
#  - --no-wait returns after submitting; a second submission while the array runs is refused.
# Usage: sweep_slurm.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"
. "$(dirname "$0")/slurm_cluster.bash"
for c in munged slurmctld slurmd sbatch; do
  command -v "$c" > /dev/null || { echo "FAIL: $c not installed (scripts/setup installs munge and slurm-wlm)"; exit 1; }
done
trap 'cluster_stop; [ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
trap 'exit 1' INT TERM HUP   # a killed test (a CTest time-out) still stops its cluster via EXIT
sweep="$src/scripts/sweep"

# the same comparison everywhere: results without host timings; per-point JSON without host fields
# (IMAGE=any: how a point got its image may differ, as after any resume: the image planning sees
# only the points still to run, so a point re-encoded in one run can have its own image in another.)
same_results() {
  "$py" - "$1" "$2" "${IMAGE:-same}" <<'EOF'
import csv, json, os, sys
a_out, b_out, image = sys.argv[1:4]
a, b = (list(csv.DictReader(open(os.path.join(p, "results.csv")))) for p in (a_out, b_out))
how = ({"reencoded", "image", "command_line", "message", "reencode_reason", "arch_changes"}
       if image == "any" else set())
drop = lambda r: {k: v for k, v in r.items() if "wall_seconds" not in k and "per_second" not in k and k not in how}
assert len(a) == len(b) and [drop(r) for r in a] == [drop(r) for r in b], "CSV rows differ"
HOST = {"tool_wall_seconds", "host", "slurm_task", "wall_seconds", "simulate_wall_seconds",
        "compute_wall_seconds", "pe_cycles_per_second", "host_seconds", "inferences_per_second"} | how
def strip(obj, out):
    if isinstance(obj, dict):
        return {k: strip(v, out) for k, v in obj.items() if k not in HOST}
    if isinstance(obj, list):
        return [strip(v, out) for v in obj]
    return obj.replace(out, "OUT") if isinstance(obj, str) else obj
for r in a:
    f = "points/" + r["point_id"] + ".json"
    ra, rb = (strip(json.load(open(os.path.join(p, f))), p) for p in (a_out, b_out))
    assert ra == rb, f"{f} differs"
print("same")
EOF
}
points() { find "$1/points" -name '*.json' 2>/dev/null | wc -l; }

cat > "$t/a.json" <<'EOF'
{"name": "slurm-a",
 "benchmarks": [{"name": "tiny", "in_len": 64, "out_len": 48, "weight_density": 0.15, "act_density": 0.5,
                 "seed": 7, "activation": "identity", "bias": true},
                {"name": "small", "in_len": 96, "out_len": 80, "weight_density": 0.2, "act_density": 0.4,
                 "seed": 11, "placement": "skewed"}],
 "base": {"grow_memories": true},
 "params": {"num_pes": [2, 8], "queue_depth": [1, 8]}}
EOF

# --- before any cluster: no Slurm commands
mkdir "$t/nobin"
PATH="$t/nobin" "$sweep" "$t/a.json" --slurm --out "$t/o-nobin" 2> "$t/err-nobin"
rc=$?
check "no sbatch on PATH: exit 2, says so, nothing written ($(head -1 "$t/err-nobin"))" \
  '[ $rc -eq 2 ] && grep -q "sbatch.*not found on PATH" "$t/err-nobin" && [ ! -e "$t/o-nobin" ]'

# --- bad command lines: exit 2, one line, nothing written
bad_cli() {  # NAME 'regex' ARGS...
  local name=$1 re=$2; shift 2
  "$sweep" "$t/a.json" --out "$t/o-bad" "$@" > /dev/null 2> "$t/err-bad"
  local rc=$?
  check "$name: exit 2, '$(head -1 "$t/err-bad")'" \
    '[ $rc -eq 2 ] && grep -Eq -- "$re" "$t/err-bad" && [ "$(wc -l < "$t/err-bad")" -eq 1 ] && [ ! -e "$t/o-bad" ]'
}
bad_cli "cluster option without --slurm" "--partition needs --slurm" --partition cpu
bad_cli "--points-per-task 0" "--points-per-task = 0 is not allowed" --slurm --points-per-task 0
bad_cli "--array-max 0" "--array-max = 0 is not allowed" --slurm --array-max 0
bad_cli "--poll 0" "--poll = 0.0 is not allowed" --slurm --poll 0
bad_cli "--slurm with --check" "--check and --slurm cannot be combined" --slurm --check
bad_cli "--status of a directory never run" "no such output directory" --status
bad_cli "--collect of a directory never run" "no points directory" --collect

cluster_start "$t/cluster" || { echo "FAIL: the test cluster did not start"; exit 1; }

# --- a controller that does not answer: the cluster's configuration with a port nobody listens on
sed -e "s/^SlurmctldPort=.*/SlurmctldPort=$(_free_port)/" "$SLURM_CONF" > "$t/dead.conf"
echo "MessageTimeout=2" >> "$t/dead.conf"
SLURM_CONF="$t/dead.conf" "$sweep" "$t/a.json" --slurm --out "$t/o-dead" 2> "$t/err-dead"
rc=$?
check "controller not answering: exit 2, says so, nothing written ($(head -c 150 "$t/err-dead"))" \
  '[ $rc -eq 2 ] && grep -q "controller does not answer" "$t/err-dead" && [ ! -e "$t/o-dead" ]'

# --- an unknown partition: Slurm's own message, with the option that caused it
"$sweep" "$t/a.json" --slurm --partition nosuch --out "$t/o-part" 2> "$t/err-part"
rc=$?
check "unknown partition: exit 2, names --partition nosuch and Slurm's message, nothing written" \
  '[ $rc -eq 2 ] && grep -q -- "--partition nosuch: Slurm refused the job: .*invalid partition" "$t/err-part" &&
   [ "$(wc -l < "$t/err-part")" -eq 1 ] && [ ! -e "$t/o-part" ]'

# --- the same sweep, local and on the cluster
"$sweep" "$t/a.json" --jobs 2 --out "$t/o-local" 2> "$t/err-local"
check "local run exits 0" '[ $? -eq 0 ]'
"$sweep" "$t/a.json" --slurm --points-per-task 3 --poll 0.3 --out "$t/o-slurm" 2> "$t/err-slurm"
rc=$?
check "--slurm run exits 0 (got $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || cat "$t/err-slurm"
check "--slurm: 8 points as 3 array tasks, progress from the queue" \
  'grep -q "8 to submit as 3 array task(s)" "$t/err-slurm" && grep -q "8/8 points done, 0 running, 0 pending, 0 failed" "$t/err-slurm"'
same_results "$t/o-local" "$t/o-slurm" > "$t/same1" 2>&1
check "--slurm results equal the local ones: CSV and every point file ($(tail -1 "$t/same1"))" 'grep -q "^same" "$t/same1"'
check "the point files name the task that ran them" \
  'grep -q "\"slurm_task\": \"[0-9]*_[0-9]\"" "$t/o-slurm/points/"*.json'
check "no work files left" '[ -z "$(find "$t/o-slurm" \( -name ".tmp-*" -o -name "*.tmp-*" -o -name "*.old-*" -o -name ".staged*" \))" ] && [ ! -e "$t/o-slurm/tmp" ]'
"$sweep" "$t/a.json" --status --out "$t/o-slurm" > "$t/status1" 2>&1
check "--status: all done, the array ended ($(head -1 "$t/status1"))" \
  'grep -q "8/8 points done" "$t/status1" && grep -q "ended; points 0 running, 0 pending, 0 failed" "$t/status1"'
rm "$t/o-slurm/results.csv"
"$sweep" "$t/a.json" --collect --out "$t/o-slurm" 2> "$t/err-collect"
same_results "$t/o-local" "$t/o-slurm" > "$t/same2" 2>&1
check "--collect rebuilds the same results.csv" '[ -f "$t/o-slurm/results.csv" ] && grep -q "^same" "$t/same2"'
"$sweep" "$t/a.json" --slurm --out "$t/o-slurm" 2> "$t/err-again"
check "--slurm on a finished sweep: nothing submitted, exit 0" \
  '[ $? -eq 0 ] && grep -q "all already done: nothing to submit" "$t/err-again" && [ ! -e "$t/o-slurm/slurm/submit-2" ]'

# --- a user network over real inputs (batch inference: 40 Debian Fashion-MNIST test images per
# point) through the same backend, against the local run
data=/usr/share/datasets/fashion-mnist
if "$py" "$src/scripts/fashion-net" "$t/net" --sizes 784,64,10 --train 3000 --epochs 3 > "$t/net.log" 2>&1; then
  cat > "$t/net.json" <<EOF
{"name": "slurm-net",
 "benchmarks": [{"kind": "network", "name": "fmlp", "npz": "net.npz", "layers": "w1:b1,w2:b2", "density": "0.2,0.5",
                 "calibration": "net-calibration.npy", "inputs": "$data/t10k-images-idx3-ubyte.gz",
                 "labels": "$data/t10k-labels-idx1-ubyte.gz", "count": 40}],
 "params": {"num_pes": [8, 16]}}
EOF
  "$sweep" "$t/net.json" --jobs 2 --out "$t/o-net-local" 2> "$t/err-net-local"
  rc_local=$?
  "$sweep" "$t/net.json" --slurm --points-per-task 1 --poll 0.3 --out "$t/o-net-slurm" 2> "$t/err-net-slurm"
  rc=$?
  check "user network, local and --slurm: both exit 0 (got $rc_local, $rc)" '[ $rc_local -eq 0 ] && [ $rc -eq 0 ]'
  same_results "$t/o-net-local" "$t/o-net-slurm" > "$t/same-net" 2>&1
  check "...the same accuracy, latency and every point file ($(tail -1 "$t/same-net"))" 'grep -q "^same" "$t/same-net"'
  check "...with accuracy columns" 'head -1 "$t/o-net-slurm/results.csv" | grep -q accuracy_top1'
else
  check "scripts/fashion-net builds the test network ($(tail -1 "$t/net.log"))" 'false'
fi

# --- a directory of another sweep is refused
sed -e 's/"slurm-a"/"slurm-other"/' "$t/a.json" > "$t/other.json"
"$sweep" "$t/other.json" --slurm --out "$t/o-slurm" 2> "$t/err-other"
rc=$?
check "a directory of another sweep: exit 2, names both sweeps, nothing submitted" \
  '[ $rc -eq 2 ] && grep -q "holds the sweep .slurm-a.*not .slurm-other." "$t/err-other" && [ ! -e "$t/o-slurm/slurm/submit-2" ]'
"$sweep" "$t/other.json" --out "$t/o-local" 2> "$t/err-other2"
check "...and by the local backend too" '[ $? -eq 2 ] && grep -q "holds the sweep" "$t/err-other2"'

# --- a failing task: reported with its log and points; the rerun retries exactly those
"$sweep" "$t/a.json" --slurm --points-per-task 2 --poll 0.3 --out "$t/o-fail" \
  --setup '[ "$SLURM_ARRAY_TASK_ID" != 1 ] || { echo "setup refuses task 1" >&2; exit 7; }' 2> "$t/err-fail"
rc=$?
failed_points=$("$py" -c "import json,sys; print(' '.join(p for p, _ in json.load(open(sys.argv[1]))['shards'][1]))" \
  "$t/o-fail/slurm/submit-1/plan.json")
check "a failing task: exit 1 (got $rc), 6 of 8 points done" '[ $rc -eq 1 ] && [ "$(points "$t/o-fail")" -eq 6 ]'
check "...the failure names the task, its log and its points" \
  'grep -q "Slurm task [0-9]*_1 failed.*log $t/o-fail/slurm/submit-1/logs/task-1.log; its 2 point(s) not done: $failed_points" "$t/err-fail"'
check "...and the log holds the task's own message" 'grep -q "setup refuses task 1" "$t/o-fail/slurm/submit-1/logs/task-1.log"'
"$sweep" "$t/a.json" --status --out "$t/o-fail" > "$t/status-fail" 2>&1
check "--status names the failed task and its points" \
  'grep -q "6/8 points done" "$t/status-fail" && grep -q "failed task [0-9]*_1 .*log .*task-1.log; points: $failed_points" "$t/status-fail"'
"$sweep" "$t/a.json" --slurm --points-per-task 2 --poll 0.3 --out "$t/o-fail" 2> "$t/err-retry"
rc=$?
retried=$("$py" -c "import json,sys; print(' '.join(sorted(p for s in json.load(open(sys.argv[1]))['shards'] for p, _ in s)))" \
  "$t/o-fail/slurm/submit-2/plan.json")
check "the rerun retries exactly the failed task's points and finishes (exit $rc)" \
  '[ $rc -eq 0 ] && grep -q "6 already done (skipped, not recomputed), 2 to submit" "$t/err-retry" &&
   [ "$retried" = "$(echo $failed_points | tr " " "\n" | sort | tr "\n" " " | sed "s/ $//")" ]'
IMAGE=any same_results "$t/o-local" "$t/o-fail" > "$t/same3" 2>&1
check "...and its results equal the local ones ($(tail -1 "$t/same3"))" 'grep -q "^same" "$t/same3"'

# --- cancelled while waiting (SIGINT, then SIGTERM), then resumed
# 16 points of about 0.15 s each (one PE, a dense-input layer), one point per task, two at a time.
cat > "$t/b.json" <<'EOF'
{"name": "slurm-b",
 "benchmarks": [{"name": "mid", "in_len": 4096, "out_len": 2048, "weight_density": 0.1, "act_density": 1.0,
                 "seed": 3}],
 "base": {"grow_memories": true, "num_pes": 1},
 "params": {"queue_depth": {"from": 1, "to": 16}}}
EOF
ob="$t/o-cancel"
cancel_run() {
  local sig=$1 tag=$2 before need pid rc job after
  before=$(points "$ob")
  need=$((before + 2))
  "$sweep" "$t/b.json" --slurm --points-per-task 1 --array-max 2 --poll 0.2 --out "$ob" > /dev/null 2> "$t/err-$tag" &
  pid=$!
  for _ in $(seq 1 600); do   # at most 60 s
    [ "$(points "$ob")" -ge "$need" ] && break
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -s "$sig" "$pid" 2> /dev/null
  wait "$pid"
  rc=$?
  after=$(points "$ob")
  job=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['job'])" "$ob/slurm/current.json")
  check "$tag: exit 130 (got $rc; points before $before, after $after of 16)" '[ $rc -eq 130 ]'
  check "$tag: says it cancelled the array" 'grep -q "cancelled Slurm job $job (scancel)" "$t/err-$tag"'
  check "$tag: stopped in the middle" '[ "$after" -gt "$before" ] && [ "$after" -lt 16 ]'
  check "$tag: no task of the array left in the queue" '[ -z "$(squeue -h -j "$job" 2> /dev/null)" ]'
  # (once seen: a process of the sweep still listed right after the array had left the queue;
  # printed when it happens, and it must be gone within 10 s)
  local left
  left=$(pgrep -af "$ob/" | cut -c1-300)
  [ -z "$left" ] || echo "  note: still there right after the cancel: $left"
  for _ in $(seq 1 100); do [ -z "$(pgrep -f "$ob/")" ] && break; sleep 0.1; done
  left=$(pgrep -af "$ob/" | cut -c1-300)
  check "$tag: no tool of the sweep still running${left:+: $left}" '[ -z "$left" ]'
  check "$tag: no temporary file or work directory left" '[ -z "$(find "$ob" \( -name ".tmp-*" -o -name "*.tmp-*" -o -name "*.old-*" -o -name ".staged*" \))" ] && [ ! -e "$ob/tmp" ]'
  "$py" - "$ob/points" > "$t/valid-$tag" 2>&1 <<'EOF'
import json, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    rec = json.load(open(os.path.join(d, f)))  # a half-written file fails here
    assert rec["point_id"] + ".json" == f and rec["status"] == "ok" and rec["stats"]["bit_exact"] is True, f
print("valid")
EOF
  check "$tag: every point file is complete and valid" 'grep -q "^valid" "$t/valid-$tag"'
}
cancel_run INT sigint
n1=$(points "$ob")
"$sweep" "$t/b.json" --status --out "$ob" > "$t/status-cancel" 2>&1
check "--status after the cancel: $n1/16 done, says it was cancelled" \
  'grep -q "$n1/16 points done" "$t/status-cancel" && grep -q "was cancelled" "$t/status-cancel"'
cancel_run TERM sigterm
check "sigterm run submitted only the $((16 - n1)) missing points" \
  'grep -q "$n1 already done (skipped, not recomputed), $((16 - n1)) to submit" "$t/err-sigterm"'
n2=$(points "$ob")
"$sweep" "$t/b.json" --slurm --points-per-task 4 --poll 0.3 --out "$ob" 2> "$t/err-resume"
rc=$?
check "resumed run: exit 0, $n2 skipped, $((16 - n2)) submitted" \
  '[ $rc -eq 0 ] && grep -q "$n2 already done (skipped, not recomputed), $((16 - n2)) to submit" "$t/err-resume"'
"$py" - "$ob/results.csv" > "$t/csv-b" 2>&1 <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert sorted(int(r["queue_depth"]) for r in rows) == list(range(1, 17)), len(rows)
assert all(r["status"] == "ok" and r["bit_exact"] == "true" for r in rows)
print("csv ok")
EOF
check "results.csv: one row per queue depth 1..16, all bit-exact ($(tail -1 "$t/csv-b"))" 'grep -q "^csv ok" "$t/csv-b"'

# --- --no-wait, a second submission refused while the first runs, --collect afterwards
oc="$t/o-nowait"
"$sweep" "$t/b.json" --slurm --points-per-task 8 --array-max 1 --no-wait --out "$oc" 2> "$t/err-nowait"
rc=$?
job=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['job'])" "$oc/slurm/current.json" 2> /dev/null)
check "--no-wait: exit 0 right after submitting job $job" '[ $rc -eq 0 ] && grep -q "not waiting (--no-wait)" "$t/err-nowait"'
"$sweep" "$t/b.json" --slurm --out "$oc" 2> "$t/err-twice"
rc=$?
check "a second --slurm while the array runs: exit 2, names the job" \
  '[ $rc -eq 2 ] && grep -q "still running as Slurm job $job" "$t/err-twice"'
"$sweep" "$t/b.json" --out "$oc" 2> "$t/err-local-while"
rc=$?
check "...and so is a local run into the same directory" \
  '[ $rc -eq 2 ] && grep -q "still running as Slurm job $job" "$t/err-local-while"'
for _ in $(seq 1 600); do [ -z "$(squeue -h -j "$job" 2> /dev/null)" ] && break; sleep 0.1; done
"$sweep" "$t/b.json" --collect --out "$oc" 2> "$t/err-collect2"
check "--collect after the array ended: all 16 points in results.csv" \
  'grep -q "16/16 points in" "$t/err-collect2" && [ "$(($(wc -l < "$oc/results.csv") - 1))" -eq 16 ]'

# --- the cluster stopped: nothing of it left running
cluster_stop
left=$(cluster_leftovers)
check "nothing of the cluster left running (daemons, job steps, tools)" '[ -z "$left" ] && ! pgrep -f "$t/" > /dev/null'

echo "$([ $fail -eq 0 ] && echo PASS || echo FAILED): sweep_slurm"
exit $fail
