#!/usr/bin/env bash
# scripts/sweep with one job simulates in its own process through the Python
# module eie_model (docs/python.md) instead of an eie-sim subprocess per
# point; both paths must give the same point records: the same status,
# re-encoding, message and statistics (all but the host's wall-clock
# figures), for a point at the image's layout, a re-encoded one and one
# that does not fit. The runner's log must say which path ran.
# Usage: sweep_module.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/studies_common.bash" "$@"

if ! ls "$build"/python/eie_model*.so >/dev/null 2>&1; then
  echo "FAIL: the build has no Python module ($build/python); it is built when pybind11 is found"; exit 1
fi
cat > "$t/sweep.json" <<'EOF'
{
 "name": "test-module",
 "benchmarks": [
   {"name": "tiny", "title": "Tiny", "in_len": 64, "out_len": 48, "weight_density": 0.15,
    "act_density": 0.5, "seed": 7, "activation": "identity", "bias": true}
 ],
 "base": {"grow_memories": true},
 "points": [{"num_pes": 4, "queue_depth": 2}, {"num_pes": 4, "queue_depth": 8}, {"num_pes": 8, "queue_depth": 4},
            {"num_pes": 2, "spmat_sram_bytes": 64, "grow_memories": false}]
}
EOF
EIE_STUDIES_SUBPROCESS=1 "$src/scripts/sweep" "$t/sweep.json" --jobs 1 --out "$t/sub" 2> "$t/err_sub"
rc_sub=$?
"$src/scripts/sweep" "$t/sweep.json" --jobs 1 --out "$t/mod" 2> "$t/err_mod"
rc_mod=$?
check "subprocess run exits 0 (got $rc_sub)" '[ $rc_sub -eq 0 ]'
check "module run exits 0 (got $rc_mod)" '[ $rc_mod -eq 0 ]'
[ $rc_sub -eq 0 ] || cat "$t/err_sub"
[ $rc_mod -eq 0 ] || cat "$t/err_mod"
check "the module run says it simulated in process" 'grep -q "simulated in this process by eie_model" "$t/err_mod"'
check "the subprocess run does not" '! grep -q "simulated in this process" "$t/err_sub"'

"$py" - "$t/sub" "$t/mod" <<'EOF' > "$t/cmp" 2>&1
import json, os, sys
sub, mod = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
WALL = {"wall_seconds", "compute_wall_seconds", "simulate_wall_seconds", "pe_cycles_per_second"}
def strip(x, out):
    """x without wall-clock figures, with the output directory (in paths) as OUT."""
    if isinstance(x, dict):
        return {k: strip(v, out) for k, v in x.items() if k not in WALL}
    if isinstance(x, list):
        return [strip(v, out) for v in x]
    if isinstance(x, str):
        return x.replace(out, "OUT")
    return x
ids = sorted(os.listdir(os.path.join(sub, "points")))
assert ids == sorted(os.listdir(os.path.join(mod, "points"))), "different point sets"
assert len(ids) == 4, ids
statuses = []
for name in ids:
    a = json.load(open(os.path.join(sub, "points", name)))
    b = json.load(open(os.path.join(mod, "points", name)))
    for key in ("status", "reencoded", "message", "config", "image"):
        assert a[key] == b[key], f"{name}: {key}: {a[key]!r} (eie-sim) != {b[key]!r} (module)"
    assert strip(a["stats"], sub) == strip(b["stats"], mod), f"{name}: statistics differ"
    statuses.append((a["status"], a["reencoded"]))
assert sorted(statuses) == [("capacity", True), ("ok", False), ("ok", False), ("ok", True)], statuses
print("records equal:", statuses)
EOF
rc=$?
cat "$t/cmp"
check "both paths give the same point records" '[ $rc -eq 0 ]'
check "the same results.csv apart from wall-clock columns" \
  '"$py" -c "
import csv, sys
a, b = (list(csv.DictReader(open(p))) for p in sys.argv[1:])
drop = lambda r: {k: v for k, v in r.items() if \"wall\" not in k and \"per_second\" not in k and k != \"host\"}
sys.exit(0 if [drop(r) for r in a] == [drop(r) for r in b] else 1)" "$t/sub/results.csv" "$t/mod/results.csv"'
exit $fail
