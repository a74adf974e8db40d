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
 "params": {"queue_depth": [1, 4], "num_pes": [2, 4, 16]}}
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
# Ragged and foreign tables.
lines = open(sys.argv[1]).read().splitlines()
open(f"{sys.argv[2]}/long.csv", "w").write("\n".join(lines[:3] + [lines[3] + ",x"] + lines[4:]) + "\n")
open(f"{sys.argv[2]}/short.csv", "w").write("\n".join(lines[:2] + [",".join(lines[2].split(",")[:7])]) + "\n")
write("textnum.csv", [dict(r, queue_depth="deep") if i == 1 else r for i, r in enumerate(rows)])
open(f"{sys.argv[2]}/few.csv", "w").write("benchmark,status,cycles\nfoo,ok,12\nbar,ok,14\n")
open(f"{sys.argv[2]}/binary.csv", "wb").write(bytes(range(256)))
open(f"{sys.argv[2]}/quote.csv", "w").write('benchmark,status,cycles\n"foo,ok,12\n')
EOF
expect "ragged CSV (a row too long): exit 2, file, line and field counts named" 2 \
  "$t/long.csv: line 4: $(( $(head -1 "$t/sw/results.csv" | tr ',' '\n' | wc -l) + 1 )) field(s), but the header has" \
  "$src/scripts/plot" "$t/long.csv" --out "$t/o4"
expect "ragged CSV (a row too short)" 2 "$t/short.csv: line 3: 7 field(s), but the header has" \
  "$src/scripts/plot" "$t/short.csv" --out "$t/o4"
expect "text in a number column: the line, column and value named" 2 \
  "$t/textnum.csv: line 3: column queue_depth = 'deep' is not a number" "$src/scripts/plot" "$t/textnum.csv" --out "$t/o4"
expect "a CSV no figure can use: exit 2, each figure's missing columns named" 2 \
  "benchmarks_time_energy: the CSV has no column time_us, clock_mhz" "$src/scripts/plot" "$t/few.csv" --out "$t/o4"
expect "a binary file" 2 "$t/binary.csv: not a text (UTF-8) CSV file" "$src/scripts/plot" "$t/binary.csv" --out "$t/o4"
expect "an unterminated quote" 2 "$t/quote.csv: line" "$src/scripts/plot" "$t/quote.csv" --out "$t/o4"
check "bad CSVs: no output directory" '[ ! -e "$t/o4" ]'
for f in long short textnum few binary quote; do
  "$src/scripts/plot" "$t/$f.csv" --out "$t/o4" > /dev/null 2> "$t/tb"
  check "$f.csv: no traceback" '! grep -q Traceback "$t/tb"'
done

# Two parameters vary: small multiples (a panel per benchmark, a line per num_pes), the legend lists
# num_pes in numeric order (2, 4, 16), not as text (16, 2, 4), each with its own line style.
"$src/scripts/plot" "$t/sw/results.csv" --out "$t/two" > "$t/two.out" 2>&1
check "two-parameter sweep: figures made" '[ -s "$t/two/load_balance_vs_queue_depth.svg" ]'
cat > "$t/order.py" <<'PY'
import re, sys
svg = open(sys.argv[1]).read()
labels = re.findall(r">(num_pes=\d+)<", svg)
panels = re.findall(r">(t[12])<", svg)
print(labels, panels)
sys.exit(labels != ["num_pes=2", "num_pes=4", "num_pes=16"] or panels != ["t1", "t2"])
PY
check "two-parameter sweep: legend in numeric order" '"$py" "$t/order.py" "$t/two/load_balance_vs_queue_depth.svg"'
check "two-parameter sweep: three distinct line styles" '"$py" -c "
import sys; sys.path.insert(0, sys.argv[1] + \"/scripts\")
from eie_studies import plots
sys.exit(len({str(s) for s in plots.LINESTYLES[:3]}) != 3 or len({str(s) for s in plots.LINESTYLES}) != 8)" "$src"'
check "queue-depth figure titled with the PE counts and the placement" \
  'grep -q "2/4/16 PEs, uniform placement" "$t/two/load_balance_vs_queue_depth.svg"' 
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
