#!/usr/bin/env bash
# eie-sim end to end: a small synthetic layer and a two-layer network (one
# layer batched through the activation SRAM, then a register-file swap) made
# by eie-compress, simulated bit-exact; the statistics JSON is checked from
# the outside (fields present, every PE cycle classified exactly once, the
# derived figures recomputed from the per-PE counts); timing and layout
# overrides; stall injection; a windowed VCD that GTKWave's vcd2fst accepts.
# Usage: eie_sim_run.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd) || { echo "FAIL: no build directory $1"; exit 1; }
sim="$build/eie-sim"
comp="$build/eie-compress"
py=/usr/bin/python3
for x in "$sim" "$comp"; do [ -x "$x" ] || { echo "FAIL: $x not built"; exit 1; }; done
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
passed=0
step() {  # step NAME COMMAND...: runs a check, counts it
  local name=$1; shift
  if "$@" >"$t/log" 2>&1; then
    echo "ok   $name"; passed=$((passed + 1))
  else
    echo "FAIL $name"; sed 's/^/  /' "$t/log"; fails=$((fails + 1))
  fi
}
# run NAME EXPECTED_EXIT ARGS...: eie-sim with stdout/stderr kept in NAME.out/.err
run() {
  local name=$1 want=$2; shift 2
  "$sim" "$@" >"$t/$name.out" 2>"$t/$name.err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "eie-sim $* exited $rc (expected $want)"; cat "$t/$name.err"; return 1
  fi
}
contains() { grep -qF -- "$2" "$t/$1" || { echo "'$2' not in $1:"; cat "$t/$1"; return 1; }; }
lacks() { ! grep -qF -- "$2" "$t/$1" || { echo "'$2' unexpectedly in $1:"; cat "$t/$1"; return 1; }; }

# The statistics checker: fields, the cycle classification, derived figures.
cat >"$t/check_stats.py" <<'EOF'
import json, math, sys
path, want_pes, want_layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want_reencoded = sys.argv[4] == "reencoded" if len(sys.argv) > 4 else None
s = json.load(open(path))
for k in ("tool", "version", "stats_format_version", "command_line", "image", "arch", "arch_changes", "reencoded",
          "reencode_reason", "stall", "layers", "totals", "io", "area", "energy_table", "bit_exact",
          "first_mismatch", "wall_seconds", "simulate_wall_seconds", "compute_wall_seconds",
          "pe_cycles_per_second", "vcd"):
    assert k in s, "missing field " + k
assert s["tool"] == "eie-sim" and isinstance(s["version"], str)
assert s["bit_exact"] is True and s["first_mismatch"] is None
assert s["arch"]["num_pes"] == want_pes, s["arch"]["num_pes"]
assert len(s["layers"]) == want_layers, len(s["layers"])
if want_reencoded is not None:
    assert s["reencoded"] == want_reencoded, s["reencoded"]
    assert (s["reencode_reason"] is not None) == want_reencoded
clock = s["arch"]["clock_mhz"]
n = want_pes
tot_cycles = 0
first = 0
for L in s["layers"]:
    for k in ("name", "in_len", "out_len", "batches", "cycles", "writeback_cycles", "closed_form_cycles",
              "closed_form_equal", "first_cycle", "time_us", "useful_macs", "gops", "load_balance_efficiency",
              "useful_work", "real_work_ratio", "padding_share", "total", "ccu", "per_pe", "energy"):
        assert k in L, "layer field " + k
    assert len(L["per_pe"]) == n, len(L["per_pe"])
    cyc, wb = L["cycles"], L["writeback_cycles"]
    assert L["first_cycle"] == first
    first += cyc
    for p, pe in enumerate(L["per_pe"]):
        five = pe["busy_cycles"] + pe["padding_cycles"] + pe["empty_col_cycles"] + pe["starved_cycles"] + pe["stall_cycles"]
        assert five == cyc - wb, (L["name"], p, five, cyc, wb)
        assert pe["queue_max_occupancy"] <= s["arch"]["queue_depth"]
    lb = sum(1 - pe["starved_cycles"] / cyc for pe in L["per_pe"]) / n
    assert math.isclose(lb, L["load_balance_efficiency"], rel_tol=1e-9), (lb, L["load_balance_efficiency"])
    uw = sum(pe["acc_writes"] for pe in L["per_pe"]) / (n * cyc)
    assert math.isclose(uw, L["useful_work"], rel_tol=1e-9)
    busy = sum(pe["busy_cycles"] for pe in L["per_pe"])
    entries = busy + sum(pe["padding_cycles"] for pe in L["per_pe"])
    assert math.isclose(busy / entries, L["real_work_ratio"], rel_tol=1e-9)
    assert L["useful_macs"] == busy
    assert math.isclose(2 * busy / (cyc / (clock * 1e6)) / 1e9, L["gops"], rel_tol=1e-9)
    assert L["cycles"] >= L["closed_form_cycles"]
    assert L["closed_form_equal"] == (L["cycles"] == L["closed_form_cycles"])
    assert L["energy"]["total_pj"] > 0 and "component_pj" in L["energy"]
    tot_cycles += cyc
T = s["totals"]
assert T["cycles"] == tot_cycles and T["layers"] == want_layers
assert math.isclose(T["time_us"], tot_cycles / clock, rel_tol=1e-9)
assert math.isclose(T["energy"]["total_pj"], sum(L["energy"]["total_pj"] for L in s["layers"]), rel_tol=1e-9)
assert s["io"]["cycles"] > 0 and s["io"]["bytes"] > 0 and s["io"]["time_us"] > 0
assert s["wall_seconds"] > 0 and s["compute_wall_seconds"] > 0 and s["pe_cycles_per_second"] > 0
print("stats ok:", want_layers, "layers,", tot_cycles, "cycles, LB", round(T["load_balance_efficiency"], 4))
EOF

# --- 1. a small synthetic layer, the tool's defaults otherwise
step "compress synthetic 300x250 on 8 PEs" "$comp" --synthetic 300,250 --weight-density 0.1 --pes 8 -o "$t/syn" --quiet
step "eie-sim synthetic: exit 0" run syn 0 "$t/syn" --stats "$t/syn.json"
step "summary says BIT-EXACT" contains syn.out "BIT-EXACT"
step "summary has the figures" bash -c "grep -q 'GOP/s' '$t/syn.out' && grep -q 'LB efficiency' '$t/syn.out' \
  && grep -q 'closed form' '$t/syn.out' && grep -q 'I/O mode' '$t/syn.out' && grep -q 'PE-cycles/s' '$t/syn.out' \
  && grep -q 'mW' '$t/syn.out'"
step "stats JSON of the synthetic layer" "$py" "$t/check_stats.py" "$t/syn.json" 8 1 not-reencoded
step "no temporary files left" bash -c "! ls '$t' | grep -q 'tmp-'"

# --- 2. a two-layer network: 700 outputs on 4 PEs is 3 batches through the activation SRAM
cat >"$t/mknet.py" <<'EOF'
import numpy as np, sys
rng = np.random.default_rng(5)
w1 = rng.laplace(size=(700, 300)).astype(np.float32)
b1 = rng.normal(size=700).astype(np.float32) * 0.1
w2 = rng.laplace(size=(200, 700)).astype(np.float32)
np.savez(sys.argv[1], w1=w1, b1=b1, w2=w2)
EOF
step "make a two-layer .npz" "$py" "$t/mknet.py" "$t/net.npz"
step "compress the network on 4 PEs" "$comp" --npz "$t/net.npz" --layers w1:b1,w2 --density 0.08 --pes 4 -o "$t/net" --quiet
step "eie-sim network: exit 0" run net 0 "$t/net" --stats "$t/net.json"
step "network summary says BIT-EXACT" contains net.out "BIT-EXACT"
step "stats JSON of the network" "$py" "$t/check_stats.py" "$t/net.json" 4 2 not-reencoded
step "layer 0 is batched with write-back cycles" "$py" -c "
import json; s = json.load(open('$t/net.json'))
L = s['layers'][0]
assert L['batches'] == 3 and L['writeback_cycles'] > 0, (L['batches'], L['writeback_cycles'])"

# --- 3. a timing override: runs the image as it is
step "--queue-depth 2: exit 0" run qd 0 "$t/net" --queue-depth 2 --stats "$t/qd.json"
step "--queue-depth 2: no re-encoding" lacks qd.err "re-encod"
step "--queue-depth 2: stats" "$py" "$t/check_stats.py" "$t/qd.json" 4 2 not-reencoded
step "--queue-depth 2: recorded as a timing change" "$py" -c "
import json; s = json.load(open('$t/qd.json'))
assert s['arch']['queue_depth'] == 2
assert s['arch_changes'] == [{'name': 'queue_depth', 'class': 'timing', 'from': '8', 'to': '2'}], s['arch_changes']"

# --- 4. a layout override: re-encoded, and it says so; still bit-exact
step "--pes 3: exit 0" run pes 0 "$t/net" --pes 3 --stats "$t/pes.json"
step "--pes 3: says it re-encodes" contains pes.err "re-encoding the image for num_pes=3 (layout parameter changed)"
step "--pes 3: BIT-EXACT" contains pes.out "BIT-EXACT"
step "--pes 3: stats" "$py" "$t/check_stats.py" "$t/pes.json" 3 2 reencoded

# --- 5. stall injection: bubbles are classified as stall cycles, still bit-exact
step "--stall 0.1: exit 0" run stall 0 "$t/net" --stall 0.1 --stall-seed 3 --stats "$t/stall.json"
step "--stall 0.1: stats" "$py" "$t/check_stats.py" "$t/stall.json" 4 2
step "--stall 0.1: stall cycles counted" "$py" -c "
import json; s = json.load(open('$t/stall.json'))
assert s['totals']['total']['stall_cycles'] > 0 and s['stall'] == {'probability': 0.1, 'seed': 3}"

# --- 6. a windowed VCD
step "--vcd window: exit 0" run vcd 0 "$t/net" --vcd "$t/w.vcd" --vcd-pes 1,2 --vcd-from 20 --vcd-to 60 --stats "$t/vcd.json" --quiet
step "--quiet prints nothing" bash -c "[ ! -s '$t/vcd.out' ]"
step "VCD scopes and window" "$py" - "$t/w.vcd" "$t/vcd.json" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
s = json.load(open(sys.argv[2]))
period = round(1e6 / s["arch"]["clock_mhz"])
scopes = re.findall(r"\$scope module (\S+) \$end", text)
assert scopes == ["eie", "pe1", "pe2", "ccu"], scopes
times = [int(x) for x in re.findall(r"^#(\d+)$", text, re.M)]
assert times and times[0] == 20 * period and max(times) <= 60 * period, (times[:3], max(times))
assert s["vcd"]["pes"] == [1, 2] and s["vcd"]["from"] == 20 and s["vcd"]["to"] == 60 and s["vcd"]["cycles_dumped"] == 41
print(len(times), "timestamps in [20, 60] cycles")
EOF
step "--vcd-from past the end: exit 0, a warning naming the run's last cycle" run late 0 "$t/net" --vcd "$t/late.vcd" --vcd-from 100000000 --quiet
step "--vcd-from past the end: warned" contains late.err "warning: --vcd-from 100000000 is past the end of the run (cycles 0 .. "
step "--vcd-from inside the run: no warning" lacks vcd.err "warning"
if [ -x /usr/bin/vcd2fst ]; then
  step "vcd2fst accepts the VCD" bash -c "/usr/bin/vcd2fst '$t/w.vcd' '$t/w.fst' >/dev/null 2>&1 && [ -s '$t/w.fst' ]"
else
  echo "WARN /usr/bin/vcd2fst not found (Debian package gtkwave): GTKWave check skipped"
fi

echo "$passed passed, $fails failed"
[ "$fails" -eq 0 ]
