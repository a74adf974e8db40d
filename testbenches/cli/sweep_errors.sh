#!/usr/bin/env bash
# scripts/sweep on bad sweep files: each must exit 2 with a message naming the file, the field and
# the offending value, before anything runs: no output directory may be created. Also checks that
# the parameter table scripts read from hw/arch_config.hpp agrees with the tools: a value just
# outside each parameter's range is refused by both scripts/sweep and eie-compress.
# Usage: sweep_errors.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
export EIE_BUILD_DIR=$build
py=/usr/bin/python3
[ -x "$build/eie-compress" ] || { echo "FAIL: $build/eie-compress not built"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
n=0

# expect NAME 'JSON' 'regex the message must match'
expect() {
  n=$((n + 1))
  local f="$t/$1.json" out="$t/out-$1"
  printf '%s\n' "$2" > "$f"
  "$src/scripts/sweep" "$f" --out "$out" > "$t/stdout" 2> "$t/stderr"
  local rc=$?
  local msg
  msg=$(cat "$t/stderr")
  if [ $rc -ne 2 ]; then
    echo "FAIL: $1: exit $rc, expected 2 ($msg)"; fail=1
  elif ! grep -q "$f" "$t/stderr" || ! grep -Eq "$3" "$t/stderr"; then
    echo "FAIL: $1: message does not name the file and match /$3/: $msg"; fail=1
  elif [ -e "$out" ]; then
    echo "FAIL: $1: output directory $out was created"; fail=1
  elif [ "$(wc -l < "$t/stderr")" -ne 1 ] || grep -q Traceback "$t/stderr"; then
    echo "FAIL: $1: not a one-line message: $msg"; fail=1
  else
    echo "ok: $1: $msg"
  fi
}

expect unknown_param '{"benchmarks": ["alex8"], "params": {"queue_dept": [1, 2]}}' \
  "unknown parameter 'queue_dept'.*known: num_pes, queue_depth"
expect empty_list '{"benchmarks": ["alex8"], "params": {"queue_depth": []}}' \
  "queue_depth = \[\] is an empty range"
expect empty_range '{"benchmarks": ["alex8"], "params": {"num_pes": {"from": 64, "to": 8, "scale": "pow2"}}}' \
  "num_pes: from = 64 > to = 8 is an empty range"
expect num_pes_zero '{"benchmarks": ["alex8"], "params": {"num_pes": [0, 4]}}' \
  "num_pes = 0 is out of range \(allowed: an integer in 1 \.\. 4096\)"
expect negative_depth '{"benchmarks": ["alex8"], "params": {"queue_depth": [-1]}}' \
  "queue_depth = -1 is out of range"
expect fractional_pes '{"benchmarks": ["alex8"], "points": [{"num_pes": 2.5}]}' \
  "points\[0\]: num_pes = 2.5 is not an integer"
expect unknown_bench '{"benchmarks": ["alex8", "alex9"], "params": {"num_pes": [4]}}' \
  "benchmarks\[1\]: unknown benchmark 'alex9' \(known: alex6, .*ntlstm"
expect malformed '{"benchmarks": ["alex8"], "params": {"num_pes": [4,' \
  "not valid JSON"
expect not_object '[1, 2]' "must hold a JSON object"
expect unknown_field '{"benchmarks": ["alex8"], "parms": {"num_pes": [4]}}' "unknown field 'parms'"
expect no_benchmarks '{"params": {"num_pes": [4]}}' "field 'benchmarks' is missing"
expect both_forms '{"benchmarks": ["alex8"], "params": {"num_pes": [4]}, "points": [{"num_pes": 8}]}' \
  "either 'params'.*or 'points'"
expect bad_scale '{"benchmarks": ["alex8"], "params": {"num_pes": {"from": 1, "to": 8, "scale": "log"}}}' \
  "num_pes.scale = \"log\" is not allowed"
expect bool_range '{"benchmarks": ["alex8"], "params": {"grow_memories": {"from": 0, "to": 1}}}' \
  "grow_memories is true/false"
expect bad_bool '{"benchmarks": ["alex8"], "base": {"grow_memories": 1}}' \
  "base: grow_memories = 1 is not allowed \(true or false\)"
expect cross_field '{"benchmarks": ["alex8"], "params": {"spmat_line_bits": [64, 12]}}' \
  "spmat_line_bits = 12 must be a multiple of 8"
expect inline_spec '{"benchmarks": [{"name": "x", "in_len": 8, "out_len": 8, "weight_density": 0, "act_density": 0.5}]}' \
  "benchmarks\[0\]: weight_density = 0 is not allowed \(a number in \(0, 1\]\)"
expect spec_file '{"benchmarks": ["nowhere/spec.json"]}' "benchmark spec file 'nowhere/spec.json' not found"
expect bad_placement '{"benchmarks": "all", "placement": "clustered"}' \
  "placement = \"clustered\" is not allowed \(uniform or skewed\)"

# --- the parameter table of the scripts agrees with the tools
"$py" - "$src" > "$t/bounds" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1] + "/scripts")
from eie_studies import params
for p in params.table():
    if p.is_bool:
        continue
    bad_hi = p.max + 1 if p.is_int else p.max * 2
    bad_lo = p.min - 1 if p.is_int else p.min / 2
    for v in (bad_lo, bad_hi):
        if p.is_int and v < 0:
            v = -1
        print(p.name, int(v) if p.is_int else repr(v))
EOF
while read -r name value; do
  printf '{"benchmarks": ["alex8"], "points": [{"%s": %s}]}\n' "$name" "$value" > "$t/bound.json"
  "$src/scripts/sweep" "$t/bound.json" --check > /dev/null 2>&1
  rs=$?
  "$build/eie-compress" --synthetic 8,8 --set "$name=$value" -o "$t/bound-image" --quiet > /dev/null 2>&1
  rc=$?
  if [ $rs -ne 2 ] || [ $rc -ne 2 ]; then
    echo "FAIL: $name = $value: scripts/sweep exit $rs, eie-compress exit $rc (both must refuse it, exit 2)"; fail=1
  fi
done < "$t/bounds"
echo "ok: $(wc -l < "$t/bounds") out-of-range values refused by both scripts/sweep and eie-compress"
# ... and the defaults the scripts read are the tool's defaults
"$build/eie-compress" --synthetic 8,8 -o "$t/default-image" --quiet
"$py" - "$src" "$t/default-image/manifest.json" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[1] + "/scripts")
from eie_studies import params
arch = json.load(open(sys.argv[2]))["arch"]
d = params.defaults()
assert set(arch) == set(d), (sorted(arch), sorted(d))
bad = {k: (d[k], arch[k]) for k in d if d[k] != arch[k]}
assert not bad, bad
EOF
if [ $? -eq 0 ]; then echo "ok: defaults read from hw/arch_config.hpp equal eie-compress's"; else echo "FAIL: defaults differ"; fail=1; fi

echo "$([ $fail -eq 0 ] && echo PASS || echo FAILED): sweep_errors ($n bad sweep files)"
exit $fail
