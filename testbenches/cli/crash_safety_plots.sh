#!/usr/bin/env bash
# Crash safety of the figure writers (docs/input-safety.md, "Outputs and
# kills"): scripts/plot and scripts/report killed with SIGKILL as soon as
# their staging directory appears (mid-drawing) and after fixed delays,
# stopped with SIGTERM, and failing on a bad CSV. After each, every figure
# and report.md under its final name is the old file or a complete new one
# (a report's figures/STUDY/ wholly old or wholly new), other files in the
# output directory are untouched, and a rerun succeeds, gives the new output
# and leaves no temporary (it removes the killed run's).
# Usage: crash_safety_plots.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"
victim=""
trap '[ -n "$victim" ] && kill -9 -- "-$victim" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
mid_write=0

# kill_at SIGNAL MOMENT TEMP -- COMMAND...: COMMAND in a process group of its
# own, sent SIGNAL at MOMENT: "tmp" (as soon as a path matching the glob TEMP,
# PID standing for the command's pid, exists) or a delay in seconds. Sets rc.
kill_at() {
  local sig=$1 moment=$2 temp=$3; shift 4
  setsid "$@" >"$t/victim.out" 2>"$t/victim.err" &
  victim=$!
  local pattern=${temp//PID/$victim} i
  if [ "$moment" = tmp ]; then
    for ((i = 0; i < 100000; i++)); do
      compgen -G "$pattern" >/dev/null && break
      kill -0 "$victim" 2>/dev/null || break
      sleep 0.005
    done
  else
    sleep "$moment"
  fi
  compgen -G "$pattern" >/dev/null && mid_write=$((mid_write + 1))
  kill -"$sig" -- "-$victim" 2>/dev/null
  wait "$victim" 2>/dev/null
  rc=$?
  victim=""
}
temporaries() { find "$1" -name '*.tmp-*' -o -name '*.old-*' -o -name '.staged*' | head -3 | tr '\n' ' '; }

# Two sweeps of one tiny layer whose figures differ: "old" and "new" outputs.
bench='[{"name":"t1","in_len":256,"out_len":256,"weight_density":0.1,"act_density":0.4,"seed":1}]'
for v in old new; do
  mkdir -p "$t/$v"
  if [ $v = old ]; then qd='[1, 4]'; else qd='[1, 2, 4, 8]'; fi
  printf '{"name": "grid", "benchmarks": %s, "params": {"queue_depth": %s, "num_pes": [2, 4]}}\n' \
    "$bench" "$qd" > "$t/$v/grid.json"
  "$src/scripts/sweep" "$t/$v/grid.json" --jobs 2 --out "$t/$v/grid" --quiet > "$t/sweep.log" 2>&1 ||
    { echo "FAIL: sweep $v"; cat "$t/sweep.log"; exit 1; }
done

# verify_dir OUT SNAPSHOT NEWREF: every file of OUT (temporaries aside) is its
# SNAPSHOT copy, its NEWREF copy, or a complete figure of the new output (a name NEWREF has, PNG
# ending in IEND, SVG ending in </svg>); every SNAPSHOT file is still there.
verify_dir() {
  "$py" - "$@" <<'PY'
import os, sys
out, snap, ref = sys.argv[1:4]
def temporary(rel):  # the killed run's leftovers: the rerun removes them (checked below)
    return any(".tmp-" in c or ".old-" in c or c.startswith(".staged") for c in rel.split(os.sep))
def files(d):
    return {rel for r, _, fs in os.walk(d) for f in fs
            for rel in [os.path.relpath(os.path.join(r, f), d)] if not temporary(rel)}
def complete(p):
    data = open(p, "rb").read()
    if p.endswith(".png"):
        return data.startswith(b"\x89PNG") and data[-12:-4] == b"\0\0\0\0IEND"
    if p.endswith(".svg"):
        return data.rstrip().endswith(b"</svg>")
    return False
have, old, new = files(out), files(snap), files(ref)
assert old <= have, f"old files lost: {sorted(old - have)[:3]}"
for f in have:
    mine = open(os.path.join(out, f), "rb").read()
    if f in old and mine == open(os.path.join(snap, f), "rb").read():
        continue
    if f in new and mine == open(os.path.join(ref, f), "rb").read():
        continue  # a finished file of the new run (report.md once the run completed)
    assert f in new and complete(os.path.join(out, f)), f"{f}: neither the old file nor a complete new one"
PY
}

# --- scripts/plot: figures among other files in --out
plot="$src/scripts/plot"
"$plot" "$t/new/grid/results.csv" --out "$t/plot-ref" > /dev/null 2>&1 || { echo "FAIL: plot (reference)"; exit 1; }
out="$t/plots"
fresh_old() {
  rm -rf "$out" "$t/plot-snap"
  "$plot" "$t/old/grid/results.csv" --out "$out" > /dev/null 2>&1 || { echo "FAIL: plot (old output)"; exit 1; }
  echo "the user's" > "$out/notes.txt"
  cp -a "$out" "$t/plot-snap"
  cp "$out/notes.txt" "$t/plot-ref/notes.txt"
}
for moment in tmp 0.5 1 2; do
  fresh_old
  kill_at KILL "$moment" "$out/.staged.tmp-PID-*" -- "$plot" "$t/new/grid/results.csv" --out "$out"
  check "plot killed at $moment: each figure old or complete new, notes.txt kept" \
    'verify_dir "$out" "$t/plot-snap" "$t/plot-ref"'
done
"$plot" "$t/new/grid/results.csv" --out "$out" > /dev/null 2> "$t/err"
rc=$?
check "plot rerun after a kill: exit 0 (got $rc: $(head -c 300 "$t/err"))" '[ $rc -eq 0 ]'
check "plot rerun: every new figure present" \
  '[ -z "$(cd "$t/plot-ref" && find . -type f | while read -r f; do [ -s "$out/$f" ] || echo "$f"; done)" ]'
check "plot rerun: no temporary left ($(temporaries "$out"))" '[ -z "$(temporaries "$out")" ]'

fresh_old
kill_at TERM tmp "$out/.staged.tmp-PID-*" -- "$plot" "$t/new/grid/results.csv" --out "$out"
check "plot stopped by SIGTERM: exit 130 (got $rc), no traceback" \
  '[ $rc -eq 130 ] && ! grep -q Traceback "$t/victim.err"'
check "plot stopped by SIGTERM: the old figures unchanged, no temporary ($(temporaries "$out"))" \
  'diff -r "$out" "$t/plot-snap" > /dev/null && [ -z "$(temporaries "$out")" ]'

# A bad CSV (a ragged row): exit 2 and the old output as it was. (An exception
# while drawing is the helpers' unit test, testbenches/studies/test_atomic.py.)
sed '3s/,ok,/,ok,x/' "$t/new/grid/results.csv" > "$t/ragged.csv"
"$plot" "$t/ragged.csv" --out "$out" > /dev/null 2> "$t/err"
rc=$?
check "plot of a bad CSV: exit 2 (got $rc), no traceback" '[ $rc -eq 2 ] && ! grep -q Traceback "$t/err"'
check "plot of a bad CSV: the old figures unchanged, no temporary" \
  'diff -r "$out" "$t/plot-snap" > /dev/null && [ -z "$(temporaries "$out")" ]'

# --- scripts/report: report.md and figures/STUDY/ as units
report="$src/scripts/report"
"$report" --studies "$t/new/grid" --out "$t/report-ref" > /dev/null 2>&1 || { echo "FAIL: report (reference)"; exit 1; }
out="$t/report"
fresh_report() {
  rm -rf "$out" "$t/report-snap"
  "$report" --studies "$t/old/grid" --out "$out" > /dev/null 2>&1 || { echo "FAIL: report (old output)"; exit 1; }
  cp -a "$out" "$t/report-snap"
}
# The report and its figures: report.md the old or the new one (the same day,
# the same commit: byte for byte the reference's); figures/grid wholly old or
# wholly new.
verify_report() {
  { cmp -s "$out/report.md" "$t/report-snap/report.md" || cmp -s "$out/report.md" "$t/report-ref/report.md"; } &&
    { diff -r "$out/figures/grid" "$t/report-snap/figures/grid" > /dev/null ||
      [ "$(ls "$out/figures/grid")" = "$(ls "$t/report-ref/figures/grid")" ]; } &&
    verify_dir "$out" "$t/report-snap" "$t/report-ref"
}
for moment in tmp 1.5 3; do
  fresh_report
  kill_at KILL "$moment" "$out/figures/grid.tmp-PID-*" -- "$report" --studies "$t/new/grid" --out "$out"
  check "report killed at $moment: report.md and figures/grid each wholly old or new" verify_report
done
"$report" --studies "$t/new/grid" --out "$out" > /dev/null 2> "$t/err"
rc=$?
check "report rerun after a kill: exit 0 (got $rc: $(head -c 300 "$t/err"))" '[ $rc -eq 0 ]'
check "report rerun: the new report and figures" \
  'cmp -s "$out/report.md" "$t/report-ref/report.md" && [ "$(ls "$out/figures/grid")" = "$(ls "$t/report-ref/figures/grid")" ]'
check "report rerun: no temporary left ($(temporaries "$out"))" '[ -z "$(temporaries "$out")" ]'

fresh_report
kill_at TERM tmp "$out/figures/grid.tmp-PID-*" -- "$report" --studies "$t/new/grid" --out "$out"
check "report stopped by SIGTERM: exit 130 (got $rc), no traceback" \
  '[ $rc -eq 130 ] && ! grep -q Traceback "$t/victim.err"'
check "report stopped by SIGTERM: the old report unchanged, no temporary ($(temporaries "$out"))" \
  'diff -r "$out" "$t/report-snap" > /dev/null && [ -z "$(temporaries "$out")" ]'

check "at least 3 kills landed while a staging directory existed (got $mid_write)" '[ $mid_write -ge 3 ]'
exit $fail
