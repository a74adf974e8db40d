#!/usr/bin/env bash
# The shipped GTKWave view (traces/gtkwave/eie.gtkw) fits the VCD eie-sim writes at
# 64 PEs with --vcd-pes 0-3 and queue depth 8: every signal it names exists with that
# name and width, its translate filters exist and name every value of a PE's state
# and of the phase; scripts/wave refuses a missing VCD with exit 2.
# (The view itself was checked in GTKWave 3.3.118 under Xvfb; docs/waveforms.md.)
# Usage: waveform_view.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
for x in eie-compress eie-sim; do
  [ -x "$build/$x" ] || { echo "FAIL: $build/$x not built"; exit 1; }
done
"$build/eie-compress" --synthetic 512,512 --weight-density 0.1 --pes 64 --quiet -o "$t/img" || { echo "FAIL: compress"; exit 1; }
"$build/eie-sim" "$t/img" --vcd "$t/w.vcd" --vcd-pes 0-3 --quiet || { echo "FAIL: eie-sim --vcd"; exit 1; }
/usr/bin/python3 - "$src" "$t/w.vcd" <<'PY' || fail=1
import os, re, sys
src, vcd = sys.argv[1], sys.argv[2]
bad = []
# The VCD's signals as GTKWave names them: scope.path.name[msb:0] for vectors.
names, stack = set(), []
for line in open(vcd):
    w = line.split()
    if w[:2] == ["$scope", "module"]:
        stack.append(w[2])
    elif w[:1] == ["$upscope"]:
        stack.pop()
    elif w[:1] == ["$var"]:
        width, name = int(w[2]), w[4]
        names.add(".".join(stack + [name]) + (f"[{width - 1}:0]" if width > 1 else ""))
    elif w[:1] == ["$enddefinitions"]:
        break
gtkw = os.path.join(src, "traces", "gtkwave", "eie.gtkw")
signals, filters = [], []
for line in open(gtkw):
    line = line.rstrip("\n")
    if not line or line[0] in "[*@-":
        continue
    if line.startswith("^"):
        filters.append(line.split(None, 1)[1])
        continue
    signals.append(re.sub(r"^\+\{[^}]*\} ", "", line))
for s in signals:
    if s not in names:
        bad.append(f"eie.gtkw names {s}, which the VCD does not have")
print(f"{len(signals)} signals of eie.gtkw checked against the VCD")
if len([s for s in signals if s.endswith(".state[2:0]")]) != 4:
    bad.append("eie.gtkw should show the state of PEs 0-3")
for f in set(filters):
    path = os.path.join(src, f)
    if not os.path.isfile(path):
        bad.append(f"eie.gtkw: translate filter {f} does not exist (paths are relative to the repository root)")
        continue
    values = {int(l.split()[0]) for l in open(path) if l.strip()}
    want = set(range(6)) if "state" in f else set(range(4))
    if values != want:
        bad.append(f"{f}: maps values {sorted(values)}, expected {sorted(want)}")
print(f"{len(set(filters))} translate filters checked")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
"$src/scripts/wave" "$t/none.vcd" > /dev/null 2> "$t/e"
rc=$?
if [ $rc -eq 2 ] && grep -q "none.vcd: no such VCD file" "$t/e"; then echo "ok: scripts/wave on a missing VCD: exit 2"
else echo "FAIL: scripts/wave on a missing VCD: exit $rc"; cat "$t/e"; fail=1; fi
exit $fail
