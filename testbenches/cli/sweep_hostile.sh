#!/usr/bin/env bash
# scripts/sweep on hostile sweep files (docs/input-safety.md): invalid UTF-8,
# deep nesting, degenerate steps, point counts too large to run, names that
# would leave the output directory, energy tables that are not tables. Each
# must exit 2 with one line naming the file and what is wrong, quickly (a
# timeout catches hangs), with nothing created. Then a property-based fuzz of
# sweep files (python3-hypothesis) checks that no input gives a traceback.
# Usage: sweep_hostile.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
export EIE_BUILD_DIR=$build
py=/usr/bin/python3
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fail=0
n=0
mkdir -p root/out

# expect NAME FILE 'regex'
expect() {
  n=$((n + 1))
  local f=$2 out="$t/root/out/$1"
  timeout 60 "$py" "$src/scripts/sweep" "$f" --out "$out" > "$t/stdout" 2> "$t/stderr"
  local rc=$? msg
  msg=$(head -c 400 "$t/stderr")
  if [ $rc -ne 2 ]; then
    echo "FAIL: $1: exit $rc, expected 2 ($msg)"; fail=1
  elif ! grep -q "$f" "$t/stderr" || ! grep -Eq "$3" "$t/stderr"; then
    echo "FAIL: $1: message does not name the file and match /$3/: $msg"; fail=1
  elif [ -e "$out" ] || [ -n "$(ls -A "$t/root/out")" ]; then
    echo "FAIL: $1: something was created under the output root"; fail=1
  elif [ "$(wc -l < "$t/stderr")" -ne 1 ] || grep -q Traceback "$t/stderr"; then
    echo "FAIL: $1: not a one-line message: $msg"; fail=1
  else
    echo "ok: $1: $msg"
  fi
}
put() { printf '%s\n' "$2" > "$t/$1.json"; }

printf '{"name": "\xff\xfe", "benchmarks": ["alex8"]}' > utf8.json
expect utf8 "$t/utf8.json" "not valid UTF-8 at byte"
"$py" -c "open('deep.json','w').write('{\"benchmarks\": ' + '[' * 100000 + ']' * 100000 + '}')"
expect deep "$t/deep.json" "nests arrays or objects too deeply|not valid JSON"
put tiny_step '{"benchmarks": ["alex8"], "params": {"clock_mhz": {"from": 1, "to": 2, "step": 5e-324}}}'
expect tiny_step "$t/tiny_step.json" "clock_mhz: the range has more than 100000 values"
put pow2_step '{"benchmarks": ["alex8"], "params": {"queue_depth": {"from": 1, "to": 256, "scale": "pow2", "step": 1e18}}}'
expect pow2_step "$t/pow2_step.json" "queue_depth.step = 1e\+18 is not allowed \(an integer in 1 .. 64"
put product '{"benchmarks": "all", "params": {"queue_depth": {"from": 1, "to": 1000}, "clock_mhz": {"from": 1, "to": 1000}}}'
expect product "$t/product.json" "[0-9]+ points \([0-9]+ x 1000 x 1000: benchmarks x values per parameter\) is more than a sweep can run \(at most 100000\)"
for name in "../../.." "a/b" ".." "" "-x"; do
  put traversal "{\"name\": \"$name\", \"benchmarks\": [\"alex8\"], \"points\": [{\"num_pes\": 4}]}"
  expect "name '$name'" "$t/traversal.json" "name = \"[^\"]*\" is not allowed \(one path component"
done
# a default output directory (no --out) from a hostile name must not be used either
n=$((n + 1))
put traversal '{"name": "../../../escaped", "benchmarks": ["alex8"], "points": [{"num_pes": 4}]}'
timeout 60 "$py" "$src/scripts/sweep" "$t/traversal.json" > /dev/null 2>&1
[ $? -eq 2 ] && [ ! -e "$src/../escaped" ] && [ ! -e "$src/escaped" ] || { echo "FAIL: traversal without --out"; fail=1; }
echo '[1, 2]' > notable.json
put energy "{\"benchmarks\": [\"alex8\"], \"points\": [{\"num_pes\": 4}], \"energy_table\": \"$t/notable.json\"}"
expect energy "$t/energy.json" "energy_table = .*an energy table is a JSON object"
printf '\xff' > badtable.json
put energy2 "{\"benchmarks\": [\"alex8\"], \"points\": [{\"num_pes\": 4}], \"energy_table\": \"$t/badtable.json\"}"
expect energy2 "$t/energy2.json" "energy_table = .*not a readable JSON energy table"

# property-based: random JSON-ish sweep files must give a sweep or StudyError, never another exception
n=$((n + 1))
if ! timeout 300 "$py" "$src/testbenches/fuzz/fuzz_sweepfile.py" --examples 300; then
  echo "FAIL: fuzz_sweepfile.py found an input that is not handled"; fail=1
fi

echo "sweep hostile: $n cases"
exit $fail
