#!/usr/bin/env bash
# scripts/plot and scripts/report on bad or thin input: a missing CSV (exit 2, the path named, no
# output directory made), a file that is not a results CSV (the missing column named), a CSV with
# no successful point, a CSV where no parameter varies (a clear message naming every skipped figure
# and why; only the per-benchmark figures made), unknown studies and directories without results
# for scripts/report (exit 2, nothing written).
# Usage: plot_errors.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"
# expect NAME CODE TEXT CMD...: CMD exits CODE and its stderr contains TEXT.
expect() {
  local name=$1 code=$2 text=$3; shift 3
  "$@" > "$t/out" 2> "$t/err"
  local rc=$?
  if [ $rc -eq "$code" ] && grep -qF -- "$text" "$t/err"; then
    echo "ok: $name"
  else
    echo "FAIL: $name: exit $rc (expected $code), stderr:"; cat "$t/err"; echo "--- expected to contain: $text"
    fail=1
  fi
}

# Missing CSV.
expect "missing CSV: exit 2 naming the path" 2 "$t/nowhere/results.csv: results file not found" \
  "$src/scripts/plot" "$t/nowhere/results.csv" --out "$t/o1"
check "missing CSV: no output directory" '[ ! -e "$t/o1" ]'
expect "a directory instead of a CSV" 2 "$t: not a file" "$src/scripts/plot" "$t" --out "$t/o1"

# Not a results CSV.
printf 'a,b\n1,2\n' > "$t/other.csv"
expect "foreign CSV: the missing columns named" 2 "$t/other.csv: column(s) benchmark, status, cycles missing" \
  "$src/scripts/plot" "$t/other.csv" --out "$t/o2"
check "foreign CSV: no output directory" '[ ! -e "$t/o2" ]'
printf 'point_id,benchmark,status,cycles\n' > "$t/empty.csv"
expect "header-only CSV" 2 "$t/empty.csv: no rows" "$src/scripts/plot" "$t/empty.csv" --out "$t/o2"

# A real tiny sweep, then variants of its CSV.
cat > "$t/s.json" <<'EOF'
{"name": "tiny", "benchmarks": [
  {"name":"t1","in_len":256,"out_len":256,"weight_density":0.1,"act_density":0.4,"seed":1},
  {"name":"t2","in_len":192,"out_len":320,"weight_density":0.05,"act_density":0.6,"seed":2}],
 "params": {"queue_depth": [1, 4], "num_pes": [2, 4]}}
EOF
"$src/scripts/sweep" "$t/s.json" --jobs 2 --out "$t/sw" --quiet > "$t/sweep.log" 2>&1 \
  || { echo "FAIL: sweep"; cat "$t/sweep.log"; exit 1; }
"$py" - "$t/sw/results.csv" "$t" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cols = list(rows[0].keys())
def write(name, rs):
    with open(f"{sys.argv[2]}/{name}", "w", newline="") as f:
        w = csv.DictWriter(f, cols, lineterminator="\n"); w.writeheader(); w.writerows(rs)
write("fixed.csv", [r for r in rows if r["queue_depth"] == "4" and r["num_pes"] == "4"])
write("capacity.csv", [dict(r, status="capacity", cycles="") for r in rows])
EOF
"$src/scripts/plot" "$t/fixed.csv" --out "$t/fixed" > "$t/fixed.out" 2> "$t/fixed.err"
rc=$?
check "no varying parameter: exit 0 (got $rc)" '[ $rc -eq 0 ]'
check "no varying parameter: says so" 'grep -q "no configuration parameter varies within a benchmark" "$t/fixed.out"'
for f in load_balance_vs_queue_depth speedup_vs_pes real_work_vs_pes spmat_vs_sram_width; do
  check "no varying parameter: $f skipped with the reason" 'grep -q "$f: .* does not vary in the CSV: every point has" "$t/fixed.out"'
  check "no varying parameter: no $f file" '[ ! -e "$t/fixed/$f.png" ]'
done
check "no varying parameter: per-benchmark bars and breakdown made" \
  '[ -s "$t/fixed/benchmarks_time_energy.png" ] && [ -s "$t/fixed/energy_breakdown.png" ]'
check "no varying parameter: the configuration is named (4 PEs, queue_depth=4)" \
  'grep -q "4 PEs, queue_depth=4" "$t/fixed.out"'
expect "no successful point: exit 2" 2 "$t/capacity.csv: no point with status ok (statuses: capacity)" \
  "$src/scripts/plot" "$t/capacity.csv" --out "$t/o3"
check "no successful point: no output directory" '[ ! -e "$t/o3" ]'

# scripts/report: every item checked before anything runs or is written.
expect "report: unknown study" 2 "unknown study 'no-such-study' (known:" \
  "$src/scripts/report" --studies "$t/sw,no-such-study" --out "$t/r1" --sweeps-dir "$t/sweeps"
check "report: unknown study: nothing written" '[ ! -e "$t/r1" ] && [ ! -e "$t/sweeps" ]'
mkdir "$t/bare"
expect "report: directory without results.csv" 2 "$t/bare: a directory without results.csv" \
  "$src/scripts/report" --studies "$t/bare" --out "$t/r2"
check "report: directory without results.csv: nothing written" '[ ! -e "$t/r2" ]'
expect "report: missing sweep file" 2 "$t/none.json: sweep file not found" \
  "$src/scripts/report" --studies "$t/none.json" --out "$t/r3"
echo '{"benchmarks": "all", "params": {"queue_depth": []}}' > "$t/bad.json"
expect "report: invalid sweep file (the field named)" 2 "queue_depth = [] is an empty range" \
  "$src/scripts/report" --studies "$t/sw,$t/bad.json" --out "$t/r4" --sweeps-dir "$t/sweeps"
check "report: invalid sweep file: nothing written" '[ ! -e "$t/r4" ] && [ ! -e "$t/sweeps" ]'
expect "report: --studies naming nothing" 2 "names no study" "$src/scripts/report" --studies "," --out "$t/r5"

[ $fail -eq 0 ] && echo "PASS" || echo "some checks FAILED"
exit $fail
