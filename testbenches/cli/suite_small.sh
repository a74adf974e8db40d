#!/usr/bin/env bash
# scripts/suite on two layers (the Alex-8 benchmark and a small spec file): the table has a row per
# layer with every column and a total line whose figures are the sums / suite-wide ratios of the
# rows; images are cached (a timing change reuses the image, a layout change makes a new one, a
# repeated configuration reuses the simulation); a bad --set exits 2 and creates nothing.
# Usage: suite_small.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"

cat > "$t/mini.json" <<'EOF'
{"name": "mini", "title": "Mini", "in_len": 200, "out_len": 150, "weight_density": 0.1, "act_density": 0.3, "seed": 5}
EOF
out="$t/out"
"$src/scripts/suite" --bench "alex8,$t/mini.json" --out "$out" --jobs 2 > "$t/table1" 2> "$t/err1"
rc=$?
check "suite exits 0 (got $rc)" '[ $rc -eq 0 ]'
cat "$t/table1"
[ $rc -eq 0 ] || cat "$t/err1"
check "a row per layer and a total line, all bit-exact" \
  'grep -Eq "^Alex-8 .* yes$" "$t/table1" && grep -Eq "^Mini .* yes$" "$t/table1" && grep -Eq "^total .* yes$" "$t/table1"'

# The total line agrees with the rows and with results.csv.
"$py" - "$t/table1" "$out/results.csv" <<'EOF'
import csv, sys
lines = [l.split() for l in open(sys.argv[1]) if l.split() and l.split()[0] in ("Alex-8", "Mini", "total")]
rows = {l[0]: l for l in lines}
num = lambda s: float(s.replace(",", "").rstrip("%"))
a, m, tot = rows["Alex-8"], rows["Mini"], rows["total"]
assert len(a) == 9 and len(tot) == 9, a
# cycles, time and energy add up
for i in (1, 2, 6):
    assert abs(num(a[i]) + num(m[i]) - num(tot[i])) <= 0.0015 * max(1, num(tot[i])), (i, a[i], m[i], tot[i])
# suite power = total energy / total time
assert abs(num(tot[6]) / num(tot[2]) * 1e3 - num(tot[7])) < 0.15, tot
csvrows = {r["benchmark"]: r for r in csv.DictReader(open(sys.argv[2]))}
assert int(csvrows["alex8"]["cycles"]) == num(a[1]) and int(csvrows["mini"]["cycles"]) == num(m[1])
print("totals ok")
EOF
check "total line = sums of the rows, power = energy / time, rows = results.csv" '[ $? -eq 0 ]'
check "two images made" '[ "$(ls "$out/images" | wc -l)" -eq 2 ]'

# Same configuration again: nothing compressed, nothing simulated.
sleep 1; touch "$t/stamp"
"$src/scripts/suite" --bench "alex8,$t/mini.json" --out "$out" > "$t/table2" 2> "$t/err2"
check "same configuration: same table, both points reused" \
  'grep -q "2 already done (skipped" "$t/err2" && diff <(grep -E "^(Alex-8|Mini|total) " "$t/table1") <(grep -E "^(Alex-8|Mini|total) " "$t/table2") > /dev/null'
check "...and no file rewritten" '[ -z "$(find "$out/points" "$out/images" -newer "$t/stamp" -type f)" ]'

# A timing parameter: the cached images are used as they are.
"$src/scripts/suite" --bench "alex8,$t/mini.json" --out "$out" --set queue_depth=1 > "$t/table3" 2> "$t/err3"
check "queue_depth=1: simulated again, no new image, slower" \
  '[ "$(ls "$out/images" | wc -l)" -eq 2 ] && grep -q "0 already done" "$t/err3" && grep -q "queue_depth=1" "$t/table3" &&
   [ "$(awk "/^total/{gsub(\",\",\"\",\$2); print \$2}" "$t/table3")" -gt "$(awk "/^total/{gsub(\",\",\"\",\$2); print \$2}" "$t/table1")" ]'

# A layout parameter: new images at that layout (not re-encoded on every run).
"$src/scripts/suite" --bench "alex8,$t/mini.json" --out "$out" --pes 16 > "$t/table4" 2> "$t/err4"
check "num_pes=16: two more images" '[ "$(ls "$out/images" | wc -l)" -eq 4 ] && grep -Eq "^total .* yes$" "$t/table4"'
check "num_pes=16: no re-encoding needed" '"$py" -c "
import csv, sys; sys.exit(any(r[\"reencoded\"] != \"false\" for r in csv.DictReader(open(sys.argv[1]))))" "$out/results.csv"'

# A layer that does not fit: "not run" with the capacity message naming the benchmark, a partial
# total over the layers that ran, exit 3.
"$src/scripts/suite" --bench "alex8,$t/mini.json" --out "$t/cap" --set spmat_sram_bytes=4096 > "$t/table5" 2> "$t/err5"
rc=$?
cat "$t/table5"
check "capacity: exit 3 (got $rc)" '[ $rc -eq 3 ]'
check "capacity: Alex-8 not run, its capacity message inline naming the benchmark" \
  'grep -Eq "^Alex-8 +- .* not run$" "$t/table5" && grep -q "layer 0 .alex8. does not fit the sparse-matrix SRAM" "$t/table5" &&
   ! grep -q "synthetic" "$t/table5"'
check "capacity: total marked partial, over Mini alone, bit-exact yes" \
  'grep -Eq "^partial +72 .* yes$" "$t/table5" && grep -q "without Alex-8 (not run)" "$t/table5" &&
   ! grep -Eq "^total" "$t/table5" && [ "$(awk "/^Mini/{print \$2}" "$t/table5")" = "$(awk "/^partial/{print \$2}" "$t/table5")" ]'

# Bad overrides: exit 2, clear message, nothing created.
"$src/scripts/suite" --bench alex8 --out "$t/bad1" --set num_pes=0 > /dev/null 2> "$t/e1"
check "--set num_pes=0: exit 2, names the field, creates nothing" \
  '[ $? -eq 2 ] && grep -q "num_pes = 0 is out of range" "$t/e1" && [ ! -e "$t/bad1" ]'
"$src/scripts/suite" --bench alex8,nope --out "$t/bad2" > /dev/null 2> "$t/e2"
check "unknown benchmark: exit 2, lists the known ones, creates nothing" \
  '[ $? -eq 2 ] && grep -q "unknown benchmark .nope. (known: alex6" "$t/e2" && [ ! -e "$t/bad2" ]'

echo "$([ $fail -eq 0 ] && echo PASS || echo FAILED): suite_small"
exit $fail
