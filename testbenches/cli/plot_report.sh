#!/usr/bin/env bash
# scripts/report on tiny studies: an existing result directory (used as it is) and a sweep file
# (run into --sweeps-dir, then reused on a second report). report.md embeds every figure by a
# relative path that exists, with its sentence and SVG link, lists every architecture parameter,
# the benchmarks and a comparison with the paper; a rerun reuses every point and replaces the old
# figures; no temporary file is left.
# Usage: plot_report.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"

benches='[{"name":"t1","title":"Tiny-1","in_len":256,"out_len":256,"weight_density":0.1,"act_density":0.4,"seed":1},
           {"name":"t2","in_len":192,"out_len":320,"weight_density":0.05,"act_density":0.6,"seed":2}]'
cat > "$t/grid.json" <<EOF
{"name": "grid", "description": "Tiny grid for the report test.", "benchmarks": $benches,
 "params": {"queue_depth": [1, 4], "num_pes": [2, 4]}}
EOF
cat > "$t/width.json" <<EOF
{"name": "width", "benchmarks": $benches, "base": {"num_pes": 4}, "params": {"spmat_line_bits": [32, 64, 128]}}
EOF
"$src/scripts/sweep" "$t/grid.json" --jobs 2 --out "$t/grid" --quiet > "$t/sweep.log" 2>&1 \
  || { echo "FAIL: sweep"; cat "$t/sweep.log"; exit 1; }

out="$t/report"
"$src/scripts/report" --studies "$t/grid,$t/width.json" --sweeps-dir "$t/sweeps" --out "$out" --jobs 2 \
  > "$t/r1.out" 2> "$t/r1.err"
rc=$?
check "report exits 0 (got $rc)" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || cat "$t/r1.err"
check "report.md written and announced" '[ -s "$out/report.md" ] && grep -q "report: $out/report.md" "$t/r1.out"'
check "the sweep file ran into --sweeps-dir" '[ -s "$t/sweeps/width/results.csv" ]'
check "the result directory was not rerun (no new point files)" \
  '[ "$(ls "$t/grid/points" | wc -l)" -eq 8 ] && ! grep -q "^grid: .* to run" "$t/r1.err"'

"$py" - "$out" "$src" <<'EOF' > "$t/md" 2>&1
import os, re, sys
out, src = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(src, "scripts"))
from eie_studies import params
md = open(os.path.join(out, "report.md")).read()
imgs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
svgs = re.findall(r"\[SVG\]\(([^)]+)\)", md)
want = {"figures/grid/load_balance_vs_queue_depth.png", "figures/grid/speedup_vs_pes.png",
        "figures/grid/real_work_vs_pes.png", "figures/width/spmat_vs_sram_width.png"}
assert want <= set(imgs), f"missing images: {want - set(imgs)}"
for p in imgs + svgs:
    assert not os.path.isabs(p), f"absolute path {p}"
    full = os.path.join(out, p)
    assert os.path.isfile(full) and os.path.getsize(full) > 5120, f"{p}: missing or small"
for p in imgs:
    with open(os.path.join(out, p), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", f"{p}: not a PNG"
assert len(svgs) == len(imgs), (len(svgs), len(imgs))
# One sentence under each figure, with numbers.
for p in imgs:
    after = md.split(f"]({p})", 1)[1].strip().split("\n", 1)[0]
    assert re.search(r"\d", after) and after.endswith(")"), f"{p}: no reading under it: {after!r}"
for section in ("## grid", "## width", "## Comparison with the paper", "### Configuration", "## Benchmarks",
                "Tiny grid for the report test."):
    assert section in md, f"missing {section!r}"
for n in params.names():
    assert f"| `{n}` |" in md, f"parameter {n} not listed"
assert "**swept**: 1, 4" in md and "**swept**: 32, 64, 128" in md, "swept values not listed"
assert "not comparable (no 1-PE point)" in md, "scaling comparison without a 1-PE point"
assert "| Queue depth 1 |" in md, "queue-depth comparison missing"
assert "| SRAM line width |" in md, "width comparison missing"
assert "Tiny-1" in md, "benchmark titles missing"
print("report ok", len(imgs), "images")
EOF
check "report.md: images, SVGs, sentences, sections, parameters ($(tail -1 "$t/md"))" 'grep -q "^report ok" "$t/md"'
[ "$fail" -eq 0 ] || cat "$t/md"
check "no temporary file left" '[ -z "$(find "$out" "$t/sweeps" \( -name ".tmp-*" -o -name "*.tmp-*" -o -name "*.old-*" -o -name ".staged*" \))" ]'

# Rerun: every point reused, stale figures replaced.
touch "$out/figures/width/stale.png"
"$src/scripts/report" --studies "$t/grid,$t/width.json" --sweeps-dir "$t/sweeps" --out "$out" --jobs 2 \
  > "$t/r2.out" 2> "$t/r2.err"
rc=$?
check "rerun exits 0 (got $rc)" '[ $rc -eq 0 ]'
check "rerun reuses every point of the sweep file" 'grep -q "6 points reused from earlier runs" "$out/report.md"'
check "rerun replaces the old figures" '[ ! -e "$out/figures/width/stale.png" ] && [ -s "$out/figures/width/spmat_vs_sram_width.png" ]'

[ $fail -eq 0 ] && echo "PASS" || echo "some checks FAILED"
exit $fail
