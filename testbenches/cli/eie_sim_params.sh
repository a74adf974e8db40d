#!/usr/bin/env bash
# eie-sim --list-params and --check-config (docs/eie-sim.md, "The parameter
# table for scripts"): the table matches the header's, every rule applies to
# whole configurations, and every error path exits 2 with a clear message.
# Usage: eie_sim_params.sh BUILD_DIR SOURCE_DIR
set -u
sim="$1/eie-sim"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# --- the table
"$sim" --list-params --json >"$t/table.json" || fail "--list-params --json exits $?"
/usr/bin/python3 - "$t/table.json" "$2/hw/arch_config.hpp" <<'PY' || fail "--list-params --json does not describe the table"
import json, re, sys
doc = json.load(open(sys.argv[1]))
assert doc["format"] == "eie-params" and doc["version"] == 1, doc.get("format")
ps = doc["params"]
by = {p["name"]: p for p in ps}
# every parameter of the for_each_param() table is listed, in its order
names = re.findall(r'f\(ParamSpec\{"(\w+)"', open(sys.argv[2]).read())
assert [p["name"] for p in ps] == names, ([p["name"] for p in ps], names)
for p in ps:
    assert set(p) == {"name", "type", "default", "min", "max", "unit", "doc", "class", "grown_by_encoder"}, p
    assert isinstance(p["grown_by_encoder"], bool), p
    assert p["type"] in ("uint32", "uint64", "double", "bool"), p
    assert p["class"] in ("timing", "layout", "quantisation"), p
    if p["type"] == "bool":
        assert isinstance(p["default"], bool), p
    else:
        assert p["min"] <= p["default"] <= p["max"], p
assert by["num_pes"] == {"name": "num_pes", "type": "uint32", "default": 64, "min": 1, "max": 4096,
                         "unit": "", "doc": "processing elements N", "class": "layout",
                         "grown_by_encoder": False}, by["num_pes"]
# what grow_memories enlarges (compress/encode.cpp; its unit test checks the encoder against the mark)
assert [p["name"] for p in ps if p["grown_by_encoder"]] == [
    "spmat_sram_bytes", "ptr_sram_bytes", "ptr_bits", "act_sram_entries", "codebook_slots"], ps
assert by["spmat_sram_bytes"]["max"] == 1 << 40 and isinstance(by["spmat_sram_bytes"]["max"], int)
assert by["clock_mhz"]["type"] == "double" and by["clock_mhz"]["default"] == 800.0
assert by["weight_bits"]["class"] == "quantisation" and by["queue_depth"]["class"] == "timing"
PY
"$sim" --list-params >"$t/table.txt" || fail "--list-params exits $?"
grep -q '^num_pes  *uint32  *64  *1 \.\. 4096  *layout  *no  *processing elements N$' "$t/table.txt" ||
    fail "--list-params text: no num_pes line: $(head -3 "$t/table.txt")"
grep -q '^ptr_bits  *uint32  *16  *4 \.\. 32  *layout  *yes  *bits: column pointer width$' "$t/table.txt" ||
    fail "--list-params text: ptr_bits not marked grown: $(grep '^ptr_bits' "$t/table.txt")"
[ "$(grep -c '^[a-z_0-9]* .* yes  ' "$t/table.txt")" -eq 5 ] ||
    fail "--list-params text: not the five grown parameters: $(grep -c ' yes  ' "$t/table.txt")"
[ "$(wc -l <"$t/table.txt")" -eq "$(($(grep -c '"name"' "$t/table.json") + 1))" ] ||
    fail "--list-params text: not one line per parameter plus the heading"

# --- valid configurations
printf '{"num_pes": 8, "grow_memories": true}\n' >"$t/one.json"
out=$("$sim" --check-config "$t/one.json") || fail "a valid object: exit $?"
[ "$out" = "$t/one.json: ok" ] || fail "a valid object prints '$out'"
out=$(printf '[{}, {"queue_depth": 4}]' | "$sim" --check-config - --json) || fail "valid array: exit $?"
/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] == 2 and d["invalid"] == 0, d
r = d["results"]
assert [x["source"] for x in r] == ["stdin[0]", "stdin[1]"], r
assert r[0]["config"]["num_pes"] == 64 and r[1]["config"]["queue_depth"] == 4, r
assert len(r[0]["config"]) > 10' "$out" || fail "--check-config --json on a valid array: $out"

# --- invalid configurations: exit 2, each error named, the valid ones still reported
printf '[{"num_pes": 8}, {"spmat_line_bits": 12}, {"bogus": 1}, 3, {"num_pes": 5000}, {"weight_bits": 8, "index_bits": 9}]' >"$t/mixed.json"
"$sim" --check-config "$t/mixed.json" >"$t/out" 2>"$t/err"
rc=$?
[ $rc -eq 2 ] || fail "invalid entries: exit $rc, expected 2"
[ "$(cat "$t/out")" = "$t/mixed.json[0]: ok" ] || fail "invalid entries: stdout '$(cat "$t/out")'"
for want in "mixed.json\[1\]: spmat_line_bits = 12 must be a multiple of 8" \
            "mixed.json\[2\]: unknown parameter 'bogus' \(known: num_pes, " \
            "mixed.json\[3\]: the configuration must be a JSON object" \
            "mixed.json\[4\]: num_pes = 5000 is out of range \(allowed: 1 \.\. 4096" \
            "mixed.json\[5\]: index_bits = 9 is out of range"; do
    grep -qE "^eie-sim: .*$want" "$t/err" || fail "no error '$want' in: $(cat "$t/err")"
done
out=$("$sim" --check-config "$t/mixed.json" --json 2>/dev/null)
rc=$?
[ $rc -eq 2 ] || fail "invalid entries with --json: exit $rc, expected 2"
/usr/bin/python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] == 1 and d["invalid"] == 5, d
r = d["results"][1]
assert r["ok"] is False and r["reason"] == "spmat_line_bits = 12 must be a multiple of 8", r
assert r["error"].endswith("[1]: " + r["reason"]), r' "$out" || fail "--check-config --json on invalid entries: $out"

# --- usage and file errors: exit 2, a message, nothing on stdout
expect_usage() {
    local what=$1 want=$2
    shift 2
    "$@" >"$t/out" 2>"$t/err" </dev/null
    local rc=$?
    [ $rc -eq 2 ] || fail "$what: exit $rc, expected 2"
    [ ! -s "$t/out" ] || fail "$what: stdout not empty: $(head -c 200 "$t/out")"
    grep -qE -- "$want" "$t/err" || fail "$what: stderr '$(cat "$t/err")' lacks '$want'"
}
expect_usage "missing file" "^eie-sim: --check-config $t/none.json: cannot open the file$" "$sim" --check-config "$t/none.json"
printf '[1' >"$t/cut.json"
expect_usage "not JSON" "^eie-sim: --check-config $t/cut.json: not valid JSON: " "$sim" --check-config "$t/cut.json"
printf '"x"' >"$t/str.json"
expect_usage "a string" "str.json: a configuration object or an array of them expected, not string" "$sim" --check-config "$t/str.json"
expect_usage "empty name" "--check-config: empty file name" "$sim" --check-config ""
expect_usage "with an image" "^eie-sim: --list-params takes no IMAGE_DIR$" "$sim" --list-params "$t"
expect_usage "with --set" "^eie-sim: --check-config takes no --set \(only --json\)$" "$sim" --check-config "$t/one.json" --set num_pes=4
expect_usage "with --stats" "^eie-sim: --list-params takes no --stats \(only --json\)$" "$sim" --list-params --stats "$t/s.json"
expect_usage "both" "^eie-sim: --list-params, --list-stats and --check-config are separate commands: give one$" "$sim" --list-params --check-config "$t/one.json"
expect_usage "two lists" "^eie-sim: --list-params, --list-stats and --check-config are separate commands: give one$" "$sim" --list-params --list-stats
expect_usage "--json alone" "^eie-sim: --json goes with --list-params, --list-stats or --check-config$" "$sim" "$t" --json
expect_usage "--list-stats with an image" "^eie-sim: --list-stats takes no IMAGE_DIR$" "$sim" --list-stats "$t"
expect_usage "--list-stats with --vcd" "^eie-sim: --list-stats takes no --vcd \(only --json\)$" "$sim" --list-stats --vcd "$t/w.vcd"
[ ! -e "$t/s.json" ] || fail "--stats written by --list-params"


# --- the statistics fields (docs/statistics.md, "The field list for scripts")
"$sim" --list-stats --json >"$t/fields.json" || fail "--list-stats --json exits $?"
/usr/bin/python3 - "$t/fields.json" <<'PY' || fail "--list-stats --json does not describe the counters"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["format"] == "eie-stats-fields" and doc["version"] == 1, doc.get("format")
pe = {f["name"]: f for f in doc["per_pe"]}
ccu = {f["name"]: f for f in doc["ccu"]}
assert list(pe)[:5] == ["busy_cycles", "padding_cycles", "empty_col_cycles", "starved_cycles", "stall_cycles"], list(pe)
assert pe["queue_max_occupancy"]["combine"] == "max" and pe["acc_writes"]["combine"] == "sum"
assert all(f["meaning"] for f in doc["per_pe"] + doc["ccu"])
assert "broadcasts" in ccu and "lnzd_node_activations" in ccu, list(ccu)
assert set(doc["derived"]) == {"time_us", "gops", "load_balance_efficiency", "useful_work", "real_work_ratio",
                               "padding_share"}, doc["derived"]
PY
"$sim" --list-stats >"$t/fields.txt" || fail "--list-stats exits $?"
grep -qE '^  queue_max_occupancy +max +highest activation-queue occupancy$' "$t/fields.txt" ||
    fail "--list-stats text: no queue_max_occupancy line: $(head -3 "$t/fields.txt")"

[ "$fails" -eq 0 ] || exit 1
echo "eie_sim_params: ok"
