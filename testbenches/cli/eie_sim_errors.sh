#!/usr/bin/env bash
# eie-sim on bad input: every error exits with its documented code, names
# what is wrong (file, field, parameter), and writes no statistics and no
# waveform. A model/reference disagreement exits 1 with the first mismatch.
# Usage: eie_sim_errors.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd) || { echo "FAIL: no build directory $1"; exit 1; }
sim="$build/eie-sim"
comp="$build/eie-compress"
py=/usr/bin/python3
for x in "$sim" "$comp"; do [ -x "$x" ] || { echo "FAIL: $x not built"; exit 1; }; done
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
cases=0
fails=0

"$comp" --synthetic 200,150 --weight-density 0.1 --pes 4 -o "$t/img" --quiet || { echo "FAIL: eie-compress"; exit 1; }

# check NAME EXIT IMAGE WORDS... -- ARGS...: eie-sim IMAGE ARGS --stats s.json (IMAGE -none-: no image argument)
# --vcd w.vcd (no --vcd when NO_VCD is set) must exit EXIT, name every WORD on stderr and leave no file.
check() {
  local name=$1 want=$2 image=$3; shift 3
  local words=()
  while [ "$1" != "--" ]; do words+=("$1"); shift; done
  shift
  cases=$((cases + 1))
  rm -f "$t"/s.json "$t"/w.vcd
  local img=("$image")
  [ "$image" = "-none-" ] && img=()
  local vcd=(--vcd "$t/w.vcd")
  [ -n "${NO_VCD:-}" ] && vcd=()  # batch options (--inputs) refuse --vcd
  "$sim" "${img[@]}" "$@" --stats "$t/s.json" "${vcd[@]}" >"$t/stdout" 2>"$t/stderr"
  local rc=$? bad=""
  [ "$rc" -eq "$want" ] || bad="exit $rc, expected $want"
  for w in "${words[@]}"; do
    grep -qF -- "$w" "$t/stderr" || bad="$bad; '$w' not in stderr"
  done
  if [ "$want" -ne 1 ]; then
    [ ! -e "$t/s.json" ] || bad="$bad; statistics file written"
    [ ! -e "$t/w.vcd" ] || bad="$bad; VCD written"
  fi
  ls "$t" | grep -q 'tmp-' && bad="$bad; temporary file left behind"
  if [ -n "$bad" ]; then
    echo "FAIL $name: $bad"; sed 's/^/  stderr: /' "$t/stderr"; fails=$((fails + 1))
  else
    echo "ok   $name: $(head -c 300 "$t/stderr" | tr '\n' ' ')"
  fi
}

# --- the image
check missing_dir 2 "$t/nothere" "$t/nothere" --
cp -r "$t/img" "$t/hex"
sed -i '2s/.*/zz/' "$t/hex/pe_0001/spmat.hex"
check corrupted_hex 2 "$t/hex" "pe_0001/spmat.hex" "line 2" --
cp -r "$t/img" "$t/trunc"
sed -i '$d' "$t/trunc/pe_0002/ptr_odd.hex"
check truncated_hex 2 "$t/trunc" "pe_0002/ptr_odd.hex" --
cp -r "$t/img" "$t/man"
"$py" - "$t/man/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
del m["layers"][0]["in_len"]
json.dump(m, open(sys.argv[1], "w"))
EOF
check manifest_field 2 "$t/man" "manifest.json" "in_len" --
cp -r "$t/img" "$t/noinput"
"$py" - "$t/noinput/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
del m["vectors"]["input"]
json.dump(m, open(sys.argv[1], "w"))
EOF
check no_input_vector 2 "$t/noinput" "manifest.json" "vectors.input" "is missing" --

# --- parameters
check quantisation_param 2 "$t/img" "weight_bits" "4 -> 3" "eie-compress" -- --set weight_bits=3
check act_bits_param 2 "$t/img" "act_bits" "eie-compress" -- --set act_bits=8
check unknown_param 2 "$t/img" "frobnicate" -- --set frobnicate=1
check bad_value 2 "$t/img" "queue_depth" -- --queue-depth 0
check bad_config 2 "$t/img" "nothere.json" -- --config "$t/nothere.json"
check capacity 3 "$t/img" "sparse-matrix SRAM" "spmat_sram_bytes" -- --set spmat_sram_bytes=64
check capacity_ptr 3 "$t/img" "pointer SRAM" -- --set ptr_sram_bytes=16

# --- usage
check no_image 2 -none- "missing IMAGE_DIR" --
check empty_image 2 "" "IMAGE_DIR is empty" --
check two_images 2 "$t/img" "one IMAGE_DIR" -- "$t/img"
check unknown_option 2 "$t/img" "--bogus" -- --bogus
check stall_range 2 "$t/img" "--stall" "0 <= P <= 0.99" -- --stall 1.5
check vcd_pes_range 2 "$t/img" "--vcd-pes" "0 .. 3" -- --vcd-pes 4
check vcd_pes_syntax 2 "$t/img" "--vcd-pes" "not a PE number" -- --vcd-pes 1,,2
check vcd_window 2 "$t/img" "--vcd-from" -- --vcd-from 50 --vcd-to 10
check vcd_from_number 2 "$t/img" "--vcd-from: -3 is out of range (allowed: 0 .. 18446744073709551615)" -- --vcd-from -3
# integers are digits only, as --set takes them (docs/input-safety.md): nothing is rounded or trimmed
check vcd_to_fraction 2 "$t/img" "--vcd-to: '4.0' is not an integer (allowed: 0 .. " -- --vcd-to 4.0
check stall_seed_blank 2 "$t/img" "--stall-seed: ' 4' is not an integer" -- --stall-seed " 4"
check stall_seed_plus 2 "$t/img" "--stall-seed: '+4' is not an integer" -- --stall-seed +4
check stall_seed_exponent 2 "$t/img" "--stall-seed: '1e3' is not an integer" -- --stall-seed 1e3
NO_VCD=1 check first_fraction 2 "$t/img" "--first: '2.5' is not an integer" -- --inputs x.npy --first 2.5
NO_VCD=1 check jobs_zero 2 "$t/img" "--jobs: 0 is out of range (allowed: 1 .. 1024)" -- --inputs x.npy --jobs 0
NO_VCD=1 check count_zero 2 "$t/img" "--count: 0 is out of range (allowed: 1 .. " -- --inputs x.npy --count 0
check stall_blank 2 "$t/img" "--stall: ' 0.1' is not a finite number (allowed: 0 <= P <= 0.99)" -- --stall " 0.1"
check stall_nan 2 "$t/img" "--stall: 'nan' is not a finite number" -- --stall nan
echo '{"mult_pj": "x"}' >"$t/energy.json"
check energy_table 2 "$t/img" "--energy-table" "energy.json" -- --energy-table "$t/energy.json"

# --- output paths that cannot be written (checked before the run)
for what in stats vcd; do
  cases=$((cases + 1))
  "$sim" "$t/img" --$what "$t/no/such/dir/out" >/dev/null 2>"$t/stderr"
  rc=$?
  if [ "$rc" -eq 2 ] && grep -qF -- "--$what" "$t/stderr" && grep -qF "does not exist" "$t/stderr"; then
    echo "ok   bad_${what}_path: $(cat "$t/stderr")"
  else
    echo "FAIL bad_${what}_path: exit $rc: $(cat "$t/stderr")"; fails=$((fails + 1))
  fi
done
# an output that is a directory
mkdir -p "$t/adir"
NO_VCD=1 check stats_is_directory 2 "$t/img" "--per-input '$t/adir': is a directory" -- --inputs x.npy --per-input "$t/adir"
# --vcd-pes without --vcd
cases=$((cases + 1))
"$sim" "$t/img" --vcd-pes 1 >/dev/null 2>"$t/stderr"
rc=$?
if [ "$rc" -eq 2 ] && grep -qF -- "--vcd-pes needs --vcd" "$t/stderr"; then
  echo "ok   vcd_option_alone"
else
  echo "FAIL vcd_option_alone: exit $rc: $(cat "$t/stderr")"; fails=$((fails + 1))
fi

# --- a disagreement with the image's expected output: exit 1, the first
# mismatch named, and the statistics written (bit_exact false).
cp -r "$t/img" "$t/mm"
"$py" - "$t/mm/expected_L0.npy" <<'EOF'
import numpy as np, sys
y = np.load(sys.argv[1])
y[5] += 7
np.save(sys.argv[1], y)
EOF
check mismatch 1 "$t/mm" "MISMATCH at layer 0" "row 5" "expected_L0.npy" --
cases=$((cases + 1))
if "$py" -c "
import json; s = json.load(open('$t/s.json'))
assert s['bit_exact'] is False
m = s['first_mismatch']
assert m['layer'] == 0 and m['row'] == 5 and m['expected'] == m['got'] + 7, m
" 2>"$t/stderr"; then
  echo "ok   mismatch_stats"
else
  echo "FAIL mismatch_stats: $(cat "$t/stderr")"; fails=$((fails + 1))
fi

echo "$((cases - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
