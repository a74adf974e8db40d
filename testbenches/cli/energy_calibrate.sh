#!/usr/bin/env bash
# eie-energy-calibrate: recalibrating on Alex-7 reproduces the shipped
# default table exactly (so traces/energy/default-45nm.json and the
# compiled-in defaults are what the documented derivation gives); bad
# input exits 2 with a message naming the problem and writes nothing; the
# module and event tables (--list-modules) are all named in docs/energy-area.md.
# Usage: energy_calibrate.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
exe="$build/eie-energy-calibrate"
[ -x "$exe" ] || { echo "FAIL: $exe not built"; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0

# 1. the derivation reproduces the shipped table
if ! "$exe" --out "$t/table.json" > "$t/log" 2>&1; then
    echo "FAIL: calibration failed"; cat "$t/log"; fail=1
elif ! cmp -s "$t/table.json" "$src/traces/energy/default-45nm.json"; then
    echo "FAIL: recalibration differs from traces/energy/default-45nm.json"
    diff "$t/table.json" "$src/traces/energy/default-45nm.json"; fail=1
fi
# the calibrated modules match the paper (the log's model column)
grep -q "PE total: model 9.15" "$t/log" || { echo "FAIL: PE total not ~9.157 mW"; cat "$t/log"; fail=1; }

# 2. the module and event tables: every name they list is documented
if ! "$exe" --list-modules > "$t/tables.json" 2> "$t/e"; then
    echo "FAIL: --list-modules failed"; cat "$t/e"; fail=1
elif ! /usr/bin/python3 - "$t/tables.json" "$src/docs/energy-area.md" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
doc = open(sys.argv[2]).read()
names = [m["name"] for m in t["modules"]] + [m["paper_name"] for m in t["modules"]] + t["components"]
names += [e["name"] + "_pj" for e in t["events"] if e["name"] != "nonempty_bit_read"] + ["non-empty bit read"]
names += [c.strip() for e in t["events"] for c in e["counted_by"].split(",")[0].replace("ccu.", "").split("+")]
missing = sorted({n for n in names if n not in doc})
if missing:
    print("docs/energy-area.md does not name:", ", ".join(missing))
    sys.exit(1)
EOF
then
    echo "FAIL: energy tables and docs/energy-area.md disagree"; fail=1
fi

# 3. bad input: exit 2, message, nothing written
expect_error() {  # expect_error PATTERN ARGS...
    local pattern=$1; shift
    rm -f "$t/out.json"
    "$exe" "$@" --out "$t/out.json" > "$t/o" 2> "$t/e"
    local rc=$?
    if [ $rc -ne 2 ]; then echo "FAIL: $* exited $rc (expected 2)"; cat "$t/e"; fail=1; fi
    if ! grep -q -- "$pattern" "$t/e"; then echo "FAIL: $*: message lacks '$pattern'"; cat "$t/e"; fail=1; fi
    if [ -e "$t/out.json" ] || ls "$t"/out.json.* > /dev/null 2>&1; then echo "FAIL: $*: wrote output"; fail=1; fi
}
expect_error "unknown preset 'alex9'" --preset alex9
expect_error "cannot open energy table" --table "$t/missing.json"
/usr/bin/python3 - "$src/traces/energy/default-45nm.json" "$t" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
bad = dict(d); bad["leakage_mw_per_mm2"] = -1
json.dump(bad, open(sys.argv[2] + "/negative.json", "w"))
big = dict(d); big["leakage_mw_per_mm2"] = 100
json.dump(big, open(sys.argv[2] + "/leaky.json", "w"))
EOF
expect_error "leakage_mw_per_mm2 = -1" --table "$t/negative.json"
# leakage larger than a module's published power cannot be calibrated
expect_error "exceed its published power" --table "$t/leaky.json"
expect_error "goes with --report" --report-table "$t/negative.json"
# the output path is checked before the calibration runs
rm -f "$t/out.json"
"$exe" --out "$t/no/such/t.json" > "$t/o" 2> "$t/e"
rc=$?
if [ $rc -ne 2 ] || ! grep -q -- "--out '$t/no/such/t.json': parent directory '$t/no/such' does not exist" "$t/e" || [ -s "$t/o" ]; then
    echo "FAIL: --out in a missing directory: exit $rc, stdout $(head -c 200 "$t/o"), stderr $(cat "$t/e")"; fail=1
fi
expect_error "--layers: unknown preset 'alex9'" --report --layers alex7,alex9

[ $fail -eq 0 ] && echo "PASS"
exit $fail
