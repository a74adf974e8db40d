#!/usr/bin/env bash
# The five accuracy studies at the CI size (scripts/accuracy-studies --size
# tiny: 1,500 training images, one epoch per step, two or three points per
# curve): each runs, writes its CSV with the expected columns and sane
# values, a PNG and an SVG, and a one-sentence reading saying whether the
# paper's finding holds; the points shared between studies are computed
# once; a second run reuses every point; bad command lines exit 2 without a
# traceback. Not a timing test.
# Usage: accuracy_studies.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
py=/usr/bin/python3
[ -x "$build/eie-train" ] || { echo "SKIP: eie-train not built (EIE_WITH_TORCH=OFF)"; exit 0; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
export EIE_BUILD_DIR="$build"

"$src/scripts/accuracy-studies" --size tiny --out "$t/acc" > "$t/out.txt" 2> "$t/err.txt" ||
  { fail "accuracy-studies exited $?: $(tail -5 "$t/err.txt")"; }
"$py" - "$t/acc" <<'EOF2' || fails=$((fails + 1))
import csv, os, sys
out = sys.argv[1]
want = {'compression': (['method', 'density', 'weight_bits', 'compression', 'accuracy'], 'accuracy_vs_compression'),
        'bits': (['network', 'weight_bits', 'accuracy', 'dense_float'], 'accuracy_vs_bits'),
        'init': (['init', 'weight_bits', 'accuracy'], 'kmeans_init'),
        'precision': (['bits', 'accuracy_fixed_point', 'accuracy_float'], 'accuracy_vs_precision'),
        'pe-cost': (['num_pes', 'cycles', 'energy_pj', 'synthetic_cycles', 'synthetic_energy_pj', 'act_density'], 'cost_vs_pes')}
bad = []
for name, (cols, fig) in want.items():
    d = os.path.join(out, name)
    try:
        rows = list(csv.reader(open(os.path.join(d, 'results.csv'))))
    except OSError as e:
        bad.append(f'{name}: {e}'); continue
    if rows[0] != cols: bad.append(f'{name}: columns {rows[0]}, expected {cols}')
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    if len(body) < 2: bad.append(f'{name}: {len(body)} rows')
    for r in body:
        for k, v in r.items():
            if k.startswith('accuracy') or k == 'dense_float':
                # 1-bit weights (one shared value per layer) may well be at chance
                low = 0.0 if name == 'bits' and r['weight_bits'] == '1' else 0.2
                if not low <= float(v) <= 1 or not float(v) > low: bad.append(f'{name}: {k} = {v} (chance is 0.1)')
        if name == 'compression' and not float(r['compression']) > 1: bad.append(f'{name}: compression {r["compression"]}')
        if name == 'pe-cost':
            for k in ('cycles', 'energy_pj', 'synthetic_cycles', 'synthetic_energy_pj'):
                if not float(r[k]) > 0: bad.append(f'{name}: {k} = {r[k]}')
            if not all(0 < float(a) <= 1 for a in r['act_density'].split(';')): bad.append(f'{name}: act_density {r["act_density"]}')
    if name == 'compression' and {r['method'] for r in body} != {'pruning', 'quantisation', 'pruning+quantisation'}:
        bad.append(f'{name}: methods {sorted({r["method"] for r in body})}')
    if name == 'init' and {r['init'] for r in body} != {'linear', 'density', 'random'}:
        bad.append(f'{name}: inits {sorted({r["init"] for r in body})}')
    if name == 'pe-cost':
        c = [float(r['cycles']) for r in body]
        if not c[0] > c[-1]: bad.append(f'{name}: cycles do not fall with more PEs: {c}')
    for ext in ('png', 'svg'):
        p = os.path.join(d, f'{fig}.{ext}')
        if not (os.path.exists(p) and os.path.getsize(p) > 1000): bad.append(f'{name}: {p} missing or empty')
    reading = open(os.path.join(d, 'reading.txt')).read().strip()
    if not (reading.endswith('.') and ('holds' in reading or 'does not hold' in reading) and reading.count('\n') == 0):
        bad.append(f'{name}: reading is not one sentence saying whether the finding holds: {reading!r}')
report = open(os.path.join(out, 'report.md')).read()
if report.count('\n## ') != 5: bad.append(f'report.md has {report.count(chr(10) + "## ")} sections')
for b in bad: print('FAIL:', b)
sys.exit(1 if bad else 0)
EOF2
# shared points: the quantisation-only point is the bits study's unpruned 4-bit point, ...
n=$(ls "$t/acc/cache/tiny/points/"*.json 2>/dev/null | wc -l)
[ "$n" -eq 10 ] || fail "expected 10 distinct points (shared between the studies), found $n"
# ... and a second run computes nothing
"$src/scripts/accuracy-studies" --size tiny --out "$t/acc" bits > /dev/null 2> "$t/err2.txt" || fail "second run exited $?"
grep -q "point\|training" "$t/err2.txt" && fail "the second run recomputed: $(cat "$t/err2.txt")"
# bad command lines
for args in "frobnicate" "--size huge" "--quick --size tiny" "--jobs 0"; do
  "$src/scripts/accuracy-studies" $args --out "$t/bad" > /dev/null 2> "$t/err3.txt"
  rc=$?
  [ "$rc" -eq 2 ] || fail "'$args': exit $rc, expected 2"
  grep -q Traceback "$t/err3.txt" && fail "'$args': a traceback"
  [ -e "$t/bad" ] && fail "'$args': wrote $t/bad"
done
if [ "$fails" -gt 0 ]; then echo "$fails failure(s)"; cat "$t/out.txt"; exit 1; fi
cat "$t/out.txt"
echo "accuracy studies (tiny): all checks passed"
