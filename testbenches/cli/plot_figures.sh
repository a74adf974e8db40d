#!/usr/bin/env bash
# scripts/plot on tiny sweeps: two small inline synthetic benchmarks x queue_depth {1,4} x num_pes
# {2,4}, and the same two x spmat_line_bits {32,64}. Every figure the varying parameters call for
# exists as a valid PNG (magic bytes, > 5 KB) and an SVG; the figure whose parameter does not vary is
# reported as skipped with the reason; the sentences' numbers are the CSV's (recomputed here); the
# default output directory is plots/ next to the CSV; no temporary file is left.
# Usage: plot_figures.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"

benches='[{"name":"t1","title":"Tiny-1","in_len":256,"out_len":256,"weight_density":0.1,"act_density":0.4,"seed":1},
           {"name":"t2","in_len":192,"out_len":320,"weight_density":0.05,"act_density":0.6,"seed":2}]'
cat > "$t/grid.json" <<EOF
{"name": "grid", "benchmarks": $benches, "params": {"queue_depth": [1, 4], "num_pes": [2, 4]}}
EOF
cat > "$t/width.json" <<EOF
{"name": "width", "benchmarks": $benches, "base": {"num_pes": 4}, "params": {"spmat_line_bits": [32, 64]}}
EOF
for s in grid width; do
  "$src/scripts/sweep" "$t/$s.json" --jobs 2 --out "$t/$s" --quiet > "$t/$s.sweep.log" 2>&1 \
    || { echo "FAIL: sweep $s"; cat "$t/$s.sweep.log"; exit 1; }
done

# png_ok FILE: PNG magic bytes and more than 5 KB.
png_ok() {
  [ -f "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] \
    && [ "$(stat -c %s "$1")" -gt 5120 ]
}
svg_ok() { [ -f "$1" ] && head -c 400 "$1" | grep -q "<svg" && tail -c 100 "$1" | grep -q "</svg>"; }

"$src/scripts/plot" "$t/grid/results.csv" --out "$t/figs" > "$t/grid.out" 2> "$t/grid.err"
rc=$?
check "plot grid exits 0 (got $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || cat "$t/grid.err"
for f in load_balance_vs_queue_depth speedup_vs_pes real_work_vs_pes benchmarks_time_energy energy_breakdown; do
  check "grid: $f.png valid PNG > 5 KB" 'png_ok "$t/figs/$f.png"'
  check "grid: $f.svg is an SVG" 'svg_ok "$t/figs/$f.svg"'
  check "grid: $f named in the output" 'grep -q "$f.png" "$t/grid.out"'
done
check "grid: the width figure is not made" '[ ! -e "$t/figs/spmat_vs_sram_width.png" ]'
check "grid: the width figure is reported skipped with the reason" \
  'grep -q "spmat_vs_sram_width: spmat_line_bits does not vary in the CSV: every point has 64" "$t/grid.out"'
check "grid: the varying parameters are named" 'grep -q "varying: num_pes, queue_depth" "$t/grid.out"'
check "grid: no temporary file left" '[ -z "$(find "$t/figs" \( -name ".tmp-*" -o -name "*.tmp-*" -o -name "*.old-*" -o -name ".staged*" \))" ]'

# The sentences carry the CSV's numbers.
"$py" - "$t/grid/results.csv" "$t/grid.out" <<'EOF' > "$t/numbers" 2>&1
import csv, re, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
out = open(sys.argv[2]).read()
def mean(key, col, val):
    v = [float(r[key]) for r in rows if r[col] == val]
    return 100 * sum(v) / len(v)
m = re.search(r"goes from ([\d.]+)% at depth 1 to ([\d.]+)% at depth 4", out)
assert m, "no queue-depth sentence"
assert abs(float(m.group(1)) - mean("load_balance_efficiency", "queue_depth", "1")) < 0.06, m.group(0)
assert abs(float(m.group(2)) - mean("load_balance_efficiency", "queue_depth", "4")) < 0.06, m.group(0)
# Speedup at 4 PEs over 2 PEs: the smallest and largest of the lines.
sp = []
for b in ("t1", "t2"):
    for q in ("1", "4"):
        c = {r["num_pes"]: float(r["cycles"]) for r in rows if r["benchmark"] == b and r["queue_depth"] == q}
        sp.append(c["2"] / c["4"])
m = re.search(r"at 4 PEs ranges from ([\d.]+)x .*? to ([\d.]+)x", out)
assert m, "no speedup sentence"
assert abs(float(m.group(1)) - min(sp)) < 0.051 and abs(float(m.group(2)) - max(sp)) < 0.051, (m.group(0), sp)
assert "Tiny-1" in out, "benchmark title from sweep.json not used"
print("numbers ok")
EOF
check "grid: sentences match the CSV ($(tail -1 "$t/numbers"))" 'grep -q "numbers ok" "$t/numbers"'

"$src/scripts/plot" "$t/width/results.csv" > "$t/width.out" 2> "$t/width.err"
rc=$?
check "plot width exits 0 (got $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || cat "$t/width.err"
check "width: default output directory plots/ next to the CSV" 'png_ok "$t/width/plots/spmat_vs_sram_width.png"'
check "width: SVG" 'svg_ok "$t/width/plots/spmat_vs_sram_width.svg"'
check "width: queue-depth and PE figures skipped" \
  'grep -q "load_balance_vs_queue_depth: queue_depth does not vary" "$t/width.out" && grep -q "speedup_vs_pes: num_pes does not vary" "$t/width.out"'
check "width: bars at one configuration (64-bit lines, the default)" \
  'grep -q "benchmarks_time_energy.png.*4 PEs" "$t/width.out" && png_ok "$t/width/plots/benchmarks_time_energy.png"'
"$py" - "$t/width/results.csv" "$t/width.out" <<'EOF' > "$t/wnumbers" 2>&1
import csv, re, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
out = open(sys.argv[2]).read()
best = {}
for b in ("t1", "t2"):
    e = {r["spmat_line_bits"]: float(r["energy_component_pj_spmat_sram"]) for r in rows if r["benchmark"] == b}
    best[b] = min(e, key=e.get)
top = max(set(best.values()), key=lambda w: (list(best.values()).count(w), -int(w)))
n = list(best.values()).count(top)
m = re.search(r"lowest at (\d+)-bit lines for (\d+) of the 2 lines", out)
assert m and m.group(1) == top and int(m.group(2)) == n, (m and m.group(0), best)
print("width numbers ok")
EOF
check "width: minimum read energy as in the CSV ($(tail -1 "$t/wnumbers"))" 'grep -q "width numbers ok" "$t/wnumbers"'

[ $fail -eq 0 ] && echo "PASS" || echo "some checks FAILED"
exit $fail
