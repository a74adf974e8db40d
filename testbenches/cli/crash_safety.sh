#!/usr/bin/env bash
# Crash safety (docs/input-safety.md): eie-compress, eie-sim (--stats, --vcd,
# batch inference with --outputs, --raw-outputs, --per-input) and
# scripts/sweep killed with SIGKILL at several moments: as soon as the
# output's temporary appears (so the kill lands in the middle of the write)
# and after fixed delays. After every kill, each output's final name holds
# either the old content or the complete new one, never a torn file; a rerun
# of the same command succeeds, gives the new content and leaves no
# temporary behind (it removes the killed run's).
# Usage: crash_safety.sh BUILD_DIR SOURCE_DIR
set -u
build=$(cd "$1" && pwd) || { echo "FAIL: no build directory $1"; exit 1; }
src=$(cd "$2" && pwd) || { echo "FAIL: no source directory $2"; exit 1; }
comp="$build/eie-compress"
sim="$build/eie-sim"
py=/usr/bin/python3
for x in "$comp" "$sim"; do [ -x "$x" ] || { echo "FAIL: $x not built"; exit 1; }; done
t=$(mktemp -d)
victim=""
cleanup() {
  [ -n "$victim" ] && kill -9 -- "-$victim" 2>/dev/null
  rm -rf "$t"
}
trap cleanup EXIT
cases=0
fails=0
mid_write=0 # kills that landed while a temporary existed
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  cases=$((cases + 1))
  "$@" || fail "$what"
}

# kill_at MOMENT TEMP -- COMMAND...: starts COMMAND in a process group of its
# own and kills the whole group with SIGKILL at MOMENT: "tmp" (as soon as a
# path matching the glob TEMP, with PID for the command's pid, exists) or a
# delay in seconds. Counts the kills that found a temporary.
kill_at() {
  local moment=$1 temp=$2; shift 3
  setsid "$@" >/dev/null 2>&1 &
  victim=$!
  local pattern=${temp//PID/$victim}
  if [ "$moment" = tmp ]; then
    local i
    for ((i = 0; i < 200000; i++)); do
      compgen -G "$pattern" >/dev/null && break
      kill -0 "$victim" 2>/dev/null || break
    done
  else
    sleep "$moment"
  fi
  compgen -G "$pattern" >/dev/null && mid_write=$((mid_write + 1))
  kill -9 -- "-$victim" 2>/dev/null
  wait "$victim" 2>/dev/null
  victim=""
}

# A tree's content as one hash (file names and bytes).
tree_hash() { (cd "$1" 2>/dev/null && find . -type f | LC_ALL=C sort | xargs -r md5sum | md5sum) || echo none; }
file_hash() { [ -e "$1" ] && md5sum < "$1" || echo none; }
# A VCD's hash without its $date block (the only part that differs between runs).
vcd_hash() { [ -e "$1" ] && sed '1,3d' "$1" | md5sum || echo none; }
no_temporaries() { [ -z "$(find "$1" -name '*.tmp-*' -o -name '*.old-*' -o -name '.tmp-*')" ]; }
temporaries() { find "$1" -name '*.tmp-*' -o -name '*.old-*' -o -name '.tmp-*' | head -3 | tr '\n' ' '; }

# --- eie-compress: an image directory and a --json report outside it
w="$t/compress" && mkdir -p "$w/ref" && cd "$w" || exit 1
new_args=(--synthetic 3000,2000 --weight-density 0.2 --pes 32 --bias -o img --json r.json --quiet)
(cd ref && "$comp" "${new_args[@]}") || { echo "FAIL: eie-compress (reference run)"; exit 1; }
new_img=$(tree_hash ref/img) new_json=$(file_hash ref/r.json)
for moment in tmp tmp 0.05 0.15 0.3; do
  rm -rf img r.json
  "$comp" --synthetic 300,200 --weight-density 0.1 --pes 32 --bias -o img --json r.json --quiet
  old_img=$(tree_hash img) old_json=$(file_hash r.json)
  kill_at "$moment" "img.tmp-PID" -- "$comp" "${new_args[@]}"
  h=$(tree_hash img) j=$(file_hash r.json)
  check "eie-compress killed at $moment: img is the old or the new image" [ "$h" = "$old_img" -o "$h" = "$new_img" ]
  check "eie-compress killed at $moment: r.json is the old or the new report" [ "$j" = "$old_json" -o "$j" = "$new_json" ]
  "$comp" "${new_args[@]}" || fail "eie-compress rerun after a kill at $moment failed"
  check "eie-compress rerun after a kill at $moment: the new image and report" \
    [ "$(tree_hash img)" = "$new_img" -a "$(file_hash r.json)" = "$new_json" ]
  check "eie-compress rerun after a kill at $moment: no temporaries ($(temporaries .))" no_temporaries .
done
# A report inside the image directory goes with the image, in the same rename.
rm -rf img && "$comp" --synthetic 300,200 --pes 32 -o img --quiet && "$comp" --synthetic 300,200 --pes 32 -o img --json img/r.json --quiet
old_img=$(tree_hash img)
(cd ref && "$comp" --synthetic 3000,2000 --weight-density 0.2 --pes 32 -o img --json img/r.json --quiet)
new_img=$(tree_hash ref/img)
kill_at tmp "img.tmp-PID" -- "$comp" --synthetic 3000,2000 --weight-density 0.2 --pes 32 -o img --json img/r.json --quiet
h=$(tree_hash img)
check "eie-compress --json inside the image, killed: the old or the new image with its report" \
  [ "$h" = "$old_img" -o "$h" = "$new_img" ]

echo "crash safety: eie-compress done at $SECONDS s"
# --- eie-sim: statistics and a VCD of tens of MB
w="$t/sim" && mkdir -p "$w/ref" && cd "$w" || exit 1
"$comp" --synthetic 2048,2048 --weight-density 0.1 --pes 16 -o img --quiet || { echo "FAIL: eie-compress"; exit 1; }
new_args=(img --set queue_depth=4 --stats s.json --vcd w.vcd --quiet)
ln -s ../img ref/img  # the VCD names the image as given: the same name in both runs
(cd ref && "$sim" img --set queue_depth=4 --stats s.json --vcd w.vcd --quiet) || { echo "FAIL: eie-sim (reference run)"; exit 1; }
new_vcd=$(vcd_hash ref/w.vcd)
# s.json holds the wall time: the new one is recognised by its content (complete JSON, queue depth 4).
stats_ok() { # FILE OLD_HASH
  [ "$(file_hash "$1")" = "$2" ] || "$py" -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert j['arch']['queue_depth'] == 4 and j['bit_exact'] is True" "$1" 2>/dev/null
}
for moment in tmp tmp 0.05 0.1 0.2; do
  rm -f s.json w.vcd
  "$sim" img --set queue_depth=2 --stats s.json --vcd w.vcd --quiet
  old_s=$(file_hash s.json) old_v=$(vcd_hash w.vcd)
  kill_at "$moment" "w.vcd.tmp-PID" -- "$sim" "${new_args[@]}"
  v=$(vcd_hash w.vcd)
  check "eie-sim killed at $moment: w.vcd is the old or the new waveform" [ "$v" = "$old_v" -o "$v" = "$new_vcd" ]
  check "eie-sim killed at $moment: s.json is the old or the complete new statistics" stats_ok s.json "$old_s"
  "$sim" "${new_args[@]}" || fail "eie-sim rerun after a kill at $moment failed"
  check "eie-sim rerun after a kill at $moment: the new waveform" [ "$(vcd_hash w.vcd)" = "$new_vcd" ]
  check "eie-sim rerun after a kill at $moment: the new statistics" stats_ok s.json none
  check "eie-sim rerun after a kill at $moment: no temporaries ($(temporaries .))" no_temporaries .
done

echo "crash safety: eie-sim done at $SECONDS s"
# --- eie-sim batch inference: outputs, raw outputs, per-input CSV and statistics
"$comp" --synthetic 1024,512 --weight-density 0.1 --pes 16 -o bimg --quiet || { echo "FAIL: eie-compress"; exit 1; }
ln -s ../bimg ref/bimg
"$py" -c "
import numpy as np
np.save('x.npy', np.random.default_rng(5).standard_normal((80, 1024)).astype(np.float32))"
outs=(o.npy r.npy p.csv b.json)
batch() { "$sim" bimg --inputs x.npy --jobs 1 --outputs o.npy --raw-outputs r.npy --per-input p.csv --stats b.json --quiet "$@"; }
(cd ref && "$sim" bimg --inputs ../x.npy --jobs 1 --outputs o.npy --raw-outputs r.npy --per-input p.csv --stats b.json \
  --quiet) || { echo "FAIL: eie-sim --inputs (reference run)"; exit 1; }
declare -A new_h
for f in o.npy r.npy p.csv; do new_h[$f]=$(file_hash "ref/$f"); done
for moment in tmp 0.1 0.3; do
  rm -f "${outs[@]}"
  batch --count 10
  declare -A old_h
  for f in "${outs[@]}"; do old_h[$f]=$(file_hash "$f"); done
  kill_at "$moment" "o.npy.tmp-PID" -- "$sim" bimg --inputs x.npy --jobs 1 --outputs o.npy --raw-outputs r.npy \
    --per-input p.csv --stats b.json --quiet
  for f in o.npy r.npy p.csv; do
    h=$(file_hash "$f")
    check "eie-sim --inputs killed at $moment: $f is the old or the new file" [ "$h" = "${old_h[$f]}" -o "$h" = "${new_h[$f]}" ]
  done
  check "eie-sim --inputs killed at $moment: b.json is the old or complete new statistics" \
    eval '[ "$(file_hash b.json)" = "${old_h[b.json]}" ] || "$py" -c "import json; assert json.load(open(\"b.json\"))[\"batch\"]"'
  batch || fail "eie-sim --inputs rerun after a kill at $moment failed"
  for f in o.npy r.npy p.csv; do
    check "eie-sim --inputs rerun after a kill at $moment: the new $f" [ "$(file_hash "$f")" = "${new_h[$f]}" ]
  done
  check "eie-sim --inputs rerun after a kill at $moment: no temporaries ($(temporaries .))" no_temporaries .
done

echo "crash safety: batch done at $SECONDS s"
# --- scripts/sweep: the whole process group (the sweep and its workers) killed
w="$t/sweep" && mkdir -p "$w" && cd "$w" || exit 1
cat > sweep.json <<'EOF'
{
 "name": "crash",
 "benchmarks": [{"name": "mid", "in_len": 2048, "out_len": 1024, "weight_density": 0.1,
                 "act_density": 1.0, "seed": 3}],
 "base": {"grow_memories": true, "num_pes": 1},
 "params": {"queue_depth": {"from": 1, "to": 12}}
}
EOF
points_valid() {
  "$py" - "$1" <<'EOF'
import csv, json, os, sys
out = sys.argv[1]
d = os.path.join(out, "points")
for f in os.listdir(d) if os.path.isdir(d) else []:
    if ".tmp-" in f:  # a temporary (NAME.tmp-..., or an older .tmp-NAME)
        continue
    rec = json.load(open(os.path.join(d, f)))  # a torn file fails here
    assert rec["point_id"] + ".json" == f and rec["status"] == "ok", f
res = os.path.join(out, "results.csv")
if os.path.exists(res):
    rows = list(csv.DictReader(open(res)))
    assert rows and all(r["bit_exact"] in ("True", "true", "1") for r in rows), "results.csv"
EOF
}
for moment in 0.5 1.5 3; do
  kill_at "$moment" "out/tmp" -- "$src/scripts/sweep" sweep.json --jobs 2 --out out --quiet
  check "sweep killed after ${moment}s: every point file and results.csv present is complete" points_valid out
done
"$src/scripts/sweep" sweep.json --jobs 2 --out out --quiet >/dev/null 2>err || { fail "sweep rerun failed"; head -5 err; }
check "sweep rerun: all 12 points" [ "$(find out/points -name '*.json' | wc -l)" -eq 12 ]
check "sweep rerun: complete and valid" points_valid out
check "sweep rerun: no temporaries or work directory ($(temporaries out))" eval 'no_temporaries out && [ ! -e out/tmp ]'

check "at least 5 kills landed while a temporary existed (got $mid_write)" [ "$mid_write" -ge 5 ]
echo "crash safety: $cases checks, $fails failed ($mid_write kills in the middle of a write)"
[ "$fails" -eq 0 ]
