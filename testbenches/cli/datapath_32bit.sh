#!/usr/bin/env bash
# The widest datapath: act_bits = codebook_value_bits = 32 (and each at 32
# with the other narrow) on several benchmark layers and on a trained
# network, each bit-exact in eie-sim against the golden model. The images
# must really use the width: codebook values beyond 16 bits.
# Usage: datapath_32bit.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd)
py=/usr/bin/python3
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

wide() {  # IMAGE MIN_CODEBOOK_MAGNITUDE: the image is 32-bit and its codebooks use it
  "$py" - "$1" "$2" <<'EOF2'
import json, sys
m = json.load(open(sys.argv[1] + '/manifest.json'))
a = m['arch']
big = max(abs(v) for L in m['layers'] for v in L['codebook'])
if a['act_bits'] != 32 and a['codebook_value_bits'] != 32: print(f"FAIL: {sys.argv[1]}: act_bits {a['act_bits']}, codebook_value_bits {a['codebook_value_bits']}"); sys.exit(1)
if big < float(sys.argv[2]): print(f"FAIL: {sys.argv[1]}: the largest codebook value {big} does not use the width"); sys.exit(1)
EOF2
}

for cfg in "32 32" "32 8" "8 32" "12 32" "32 16"; do
  set -- $cfg
  for p in alex8 vgg8 ntwe ntlstm; do
    img="img_${p}_$1_$2"
    "$build/eie-compress" --preset "$p" --set act_bits=$1 --set codebook_value_bits=$2 --pes 16 -o "$img" -q 2>err ||
      { fail "eie-compress $p at $1/$2: $(cat err)"; continue; }
    "$build/eie-sim" "$img" > sim.txt 2>err || { fail "eie-sim $p at $1/$2: exit $?: $(cat err)"; continue; }
    grep -q "^BIT-EXACT" sim.txt || fail "eie-sim $p at $1/$2 does not say BIT-EXACT"
    if [ "$2" = 32 ]; then wide "$img" 65536 || fails=$((fails + 1)); fi
    echo "ok   $p act_bits=$1 codebook_value_bits=$2: bit-exact"
  done
done

# A trained network at 32 bits: accuracy through the cycle model equals the golden model's.
if [ -x "$build/eie-train" ]; then
  "$build/eie-train" --train-limit 2000 --test-limit 300 --epochs 2 --retrain-epochs 1 --share-epochs 1 --prune-steps 1 \
    --threads 2 --jobs 2 --no-easy --set act_bits=32 --set codebook_value_bits=32 -o net32 --json net32.json -q 2>err ||
    fail "eie-train at 32 bits: $(cat err)"
  "$py" - <<'EOF2' || fails=$((fails + 1))
import json, sys
r = json.load(open('net32.json'))
c, a = r['cycle_model'], r['accuracy']
bad = []
if not (c['bit_exact'] and c['equal_to_golden']): bad.append(f"cycle model {c}")
if c['inputs'] != 300: bad.append(f"{c['inputs']} inputs")
if a['golden_fixed_point'] != a['cycle_model']: bad.append(f"golden {a['golden_fixed_point']} != cycle model {a['cycle_model']}")
if not a['golden_fixed_point'] > 0.4: bad.append(f"accuracy {a['golden_fixed_point']}")
# 32-bit fixed point is the float network to within rounding
if abs(a['golden_fixed_point'] - a['quantised_float']) > 0.01: bad.append(f"32-bit {a['golden_fixed_point']} vs float {a['quantised_float']}")
for b in bad: print('FAIL: trained network at 32 bits:', b)
sys.exit(1 if bad else 0)
EOF2
  [ -d net32 ] && { "$build/eie-sim" net32 > sim.txt 2>err && grep -q "^BIT-EXACT" sim.txt || fail "eie-sim net32: $(cat err)"; }
  wide net32 65536 || fails=$((fails + 1))
  echo "ok   trained 784-300-100-10 at 32 bits: cycle model = golden"
fi

if [ "$fails" -gt 0 ]; then echo "$fails failure(s)"; exit 1; fi
echo "32-bit datapath: all checks passed"
