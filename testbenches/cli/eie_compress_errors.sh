#!/usr/bin/env bash
# eie-compress on bad input: every case must exit non-zero with the expected
# code, print a message naming what is wrong, and write nothing (no image
# directory, no JSON report, no temporary leftovers).
# Usage: eie_compress_errors.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
exe="$build/eie-compress"
py=/usr/bin/python3
[ -x "$exe" ] || { echo "FAIL: $exe not built"; exit 1; }
t=$(mktemp -d)
trap 'chmod -R u+w "$t" 2>/dev/null; rm -rf "$t"' EXIT
cd "$t" || exit 1

# --- inputs, good and bad
"$py" - <<'EOF' || { echo "FAIL: numpy could not make the test files"; exit 1; }
import numpy as np, io, zipfile
r = np.random.default_rng(7)
w = (r.standard_normal((6, 8)) * (r.random((6, 8)) < 0.5)).astype(np.float32)
np.save('w.npy', w)
np.save('b.npy', np.ones(6, np.float32))
np.save('b_short.npy', np.ones(5, np.float32))
np.save('x.npy', np.abs(r.standard_normal(8)))
np.save('x_short.npy', np.abs(r.standard_normal(7)))
xn = np.abs(r.standard_normal(8)); xn[3] = np.nan
np.save('x_nan.npy', xn)
wn = w.copy(); wn[2, 5] = np.nan
np.save('w_nan.npy', wn)
wi = w.copy(); wi[4, 1] = np.inf
np.save('w_inf.npy', wi)
np.save('w_complex.npy', w.astype(np.complex64))
np.save('w_object.npy', np.array([[1.0, 'a'], [None, 2]], dtype=object), allow_pickle=True)
np.save('w_int.npy', (w * 10).astype(np.int32))
np.save('w_3d.npy', np.zeros((2, 3, 4), np.float32))
good = open('w.npy', 'rb').read()
open('w_trunc.npy', 'wb').write(good[:len(good) - 17])
w2 = (r.standard_normal((4, 5))).astype(np.float32)   # in_len 5 != 6 outputs of w
np.savez('chain.npz', w1=w, b1=np.zeros(6, np.float32), w2=w2)
np.savez('badbias.npz', w1=w, b1=np.zeros(7, np.float32))
np.savez('nan.npz', w1=w, w2=np.where(np.eye(3, 6) > 0, np.nan, 0).astype(np.float32))
EOF
# A header whose dict is not a Python literal; and a file that is not .npy at all.
printf '\x93NUMPY\x01\x00\x76\x00{'"'"'descr'"'"': <f4, '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2, 2), }%*s\n' 60 '' > bad_header.npy
printf 'this is not an npy file\n' > not_npy.npy
mkdir notimage && echo keep > notimage/file.txt
echo x > regular

fails=0
cases=0
# check NAME EXPECTED_CODE OUTDIR PATTERN... -- ARGS...
check() {
  local name=$1 code=$2 out=$3; shift 3
  local patterns=()
  while [ "$1" != "--" ]; do patterns+=("$1"); shift; done
  shift
  cases=$((cases + 1))
  "$exe" "$@" -o "$out" --json "$t/report_$name.json" >"$t/stdout" 2>"$t/stderr"
  local rc=$? bad=""
  [ "$rc" -eq "$code" ] || bad="exit code $rc, expected $code"
  for p in "${patterns[@]}"; do
    grep -qF -- "$p" "$t/stderr" || bad="$bad; message lacks '$p'"
  done
  [ -s "$t/stdout" ] && bad="$bad; printed a report"
  if [ "$out" != "$t/notimage" ] && [ -e "$out" ]; then bad="$bad; wrote $out"; fi
  [ -e "$t/report_$name.json" ] && bad="$bad; wrote the JSON report"
  ls -a "$t" | grep -qE '\.(tmp|old)-' && bad="$bad; left a temporary file"
  if [ -n "$bad" ]; then
    echo "FAIL $name: ${bad#; }"
    echo "  stderr: $(cat "$t/stderr")"
    fails=$((fails + 1))
  else
    echo "ok   $name: $(head -c 300 "$t/stderr")"
  fi
}

o="$t/out"
# files
check truncated_npy 2 "$o" "w_trunc.npy" -- --weights w_trunc.npy
check malformed_header 2 "$o" "bad_header.npy" "header" -- --weights bad_header.npy
check not_npy 2 "$o" "not_npy.npy" "magic" -- --weights not_npy.npy
check complex_dtype 2 "$o" "w_complex.npy" "dtype" "<c8" -- --weights w_complex.npy
check object_dtype 2 "$o" "w_object.npy" "dtype" -- --weights w_object.npy
check int_weights 2 "$o" "w_int.npy" "dtype '<i4'" "float32" -- --weights w_int.npy
check weights_3d 2 "$o" "w_3d.npy" "(2, 3, 4)" "2-D" -- --weights w_3d.npy
check missing_file 2 "$o" "nonexistent.npy" -- --weights nonexistent.npy
# values
check nan_weight 2 "$o" "w_nan.npy" "'w_nan'" "row 2, col 5" "nan" -- --weights w_nan.npy
check inf_weight 2 "$o" "w_inf.npy" "row 4, col 1" "inf" -- --weights w_inf.npy
check nan_weight_npz 2 "$o" "nan.npz" "'w2'" "row 0, col 0" "nan" -- --npz nan.npz --layers w1,w2
check nan_input 2 "$o" "x_nan.npy" "element 3" "nan" -- --weights w.npy --input x_nan.npy
# shapes
check npz_shape_chain 2 "$o" "chain.npz" "'w2'" "4 x 5" "in_len must be 6" -- --npz chain.npz --layers w1:b1,w2
check npz_bias_length 2 "$o" "badbias.npz:b1" "(7,)" "(6,)" -- --npz badbias.npz --layers w1:b1
check bias_length 2 "$o" "b_short.npy" "(5,)" "(6,)" -- --weights w.npy --bias b_short.npy
check input_length 2 "$o" "x_short.npy" "(7,)" "in_len = 8" -- --weights w.npy --input x_short.npy
check npz_missing_array 2 "$o" "'w9'" "chain.npz" "w1, w2" -- --npz chain.npz --layers w1,w9
# capacity: ~154 K entries per PE do not fit a 128 KB sparse-matrix SRAM (128 K entries)
check too_large_spmat 3 "$o" "layer 0 'synthetic'" "sparse-matrix SRAM of PE" "spmat_sram_bytes >=" -- --synthetic 4000,256 --weight-density 0.6 --pes 4 --set ptr_bits=20
# a 1000-long input and output on one PE do not fit the 1 K activation SRAM
check too_large_act 3 "$o" "layer 0 'synthetic'" "activation SRAM of PE 0" "act_sram_entries >= 2000" -- --synthetic 1000,1000 --weight-density 0.01 --pes 1
# output paths
check proc_output 2 /proc/eie_out "/proc/eie_out" -- --preset alex8
check under_regular_file 2 "$t/regular/out" "regular" "not a directory" -- --weights w.npy
check missing_parent 2 "$t/no/such/out" "$t/no/such" "does not exist" -- --weights w.npy
check not_an_image 2 "$t/notimage" "notimage" "not an image directory" -- --weights w.npy
[ "$(cat "$t/notimage/file.txt")" = keep ] || { echo "FAIL not_an_image: the directory was changed"; fails=$((fails + 1)); }
# usage
check unknown_preset 2 "$o" "alex9" "alex6" "ntlstm" -- --preset alex9
check bad_set_name 2 "$o" "--set" "frobnicate" "num_pes" -- --preset alex8 --set frobnicate=3
check bad_set_value 2 "$o" "num_pes" "abc" -- --preset alex8 --set num_pes=abc
check bad_set_range 2 "$o" "num_pes = 0" "1 .. 4096" -- --preset alex8 --set num_pes=0
check bad_set_form 2 "$o" "name=value" -- --preset alex8 --set num_pes
check bad_combination 2 "$o" "codebook_value_bits = 6" "weight_bits = 8" -- --preset alex8 --weight-bits 8 --set codebook_value_bits=6
check no_source 2 "$o" "exactly one source" --
check two_sources 2 "$o" "exactly one source" -- --preset alex8 --weights w.npy
check bad_density 2 "$o" "--density" "1.5" "0 < D <= 1" -- --weights w.npy --density 1.5
check density_count 2 "$o" "--density" "3 values given for 1 layers" -- --weights w.npy --density 0.1,0.2,0.3
check bad_activation 2 "$o" "--activation" "sigmoid" "relu, identity" -- --weights w.npy --activation sigmoid
check bad_init 2 "$o" "--init" "kmeans++" -- --weights w.npy --init kmeans++
check bad_frac 2 "$o" "--w-frac" "40" "-8 .. 30" -- --weights w.npy --w-frac 40
# integers are digits only, as --set takes them (docs/input-safety.md): nothing is rounded or trimmed
check frac_blank 2 "$o" "--in-frac: ' 4' is not an integer (allowed: -8 .. 30)" -- --weights w.npy --in-frac " 4"
check frac_fraction 2 "$o" "--w-frac: '4.0' is not an integer (allowed: -8 .. 30)" -- --weights w.npy --w-frac 4.0
check seed_exponent 2 "$o" "--seed: '1e3' is not an integer (allowed: 0 .. 9223372036854775807)" -- --preset alex8 --seed 1e3
check seed_negative 2 "$o" "--seed: -1 is out of range (allowed: 0 .. " -- --preset alex8 --seed -1
check iterations_plus 2 "$o" "--kmeans-iterations: '+5' is not an integer" -- --weights w.npy --kmeans-iterations +5
check synthetic_blank 2 "$o" "--synthetic IN: '64 ' is not an integer (allowed: 1 .. 67108864)" -- --synthetic "64 ,48"
check threshold_negative 2 "$o" "--threshold for layer 0 'w': -1 is out of range (allowed: T >= 0)" -- --weights w.npy --threshold -1
check act_density_hex 2 "$o" "--act-density: '0x1' is not a finite number (allowed: 0 .. 1)" -- --weights w.npy --act-density 0x1
check bias_frac 2 "$o" "in_frac = 15" "bias" "0 .. 14" -- --weights w.npy --bias b.npy --in-frac 15
check bad_config 2 "$o" "nothere.json" -- --preset alex8 --config nothere.json

# -o is required (no output path at all)
cases=$((cases + 1))
"$exe" --weights w.npy >/dev/null 2>"$t/stderr"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF -- "-o DIR" "$t/stderr"; then
  echo "FAIL missing_output: exit $rc, stderr: $(cat "$t/stderr")"
  fails=$((fails + 1))
else
  echo "ok   missing_output: $(cat "$t/stderr")"
fi

echo "$((cases - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
