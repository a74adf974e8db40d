#!/usr/bin/env bash
# Every tool answers --version with "<tool> <version>", the version of
# CMakeLists.txt's project() line, exit 0, and nothing else on stdout or
# stderr (no SystemC banner); --help of the SystemC tools has no banner either.
# Usage: version.sh BUILD_DIR SOURCE_DIR
set -u
build=$1
src=$2
export EIE_BUILD_DIR=$build
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
want=$(sed -nE 's/^project\([^ ]+ VERSION ([0-9.]+).*/\1/p' "$src/CMakeLists.txt")
[ -n "$want" ] || { echo "FAIL: no project VERSION in CMakeLists.txt"; exit 1; }

check_version() {  # check_version NAME COMMAND...
    local name=$1; shift
    "$@" --version > "$t/o" 2> "$t/e"
    local rc=$?
    if [ $rc -ne 0 ]; then echo "FAIL: $name --version exited $rc"; cat "$t/e"; fail=1; return; fi
    if [ "$(cat "$t/o")" != "$name $want" ]; then
        echo "FAIL: $name --version printed '$(cat "$t/o")', expected '$name $want'"; fail=1
    elif [ -s "$t/e" ]; then
        echo "FAIL: $name --version wrote to stderr:"; cat "$t/e"; fail=1
    else
        echo "ok: $name --version"
    fi
}
for x in eie-compress eie-sim eie-energy-calibrate; do
    [ -x "$build/$x" ] || { echo "FAIL: $build/$x not built"; fail=1; continue; }
    check_version "$x" "$build/$x"
    "$build/$x" --help > "$t/h" 2>&1
    if grep -qi 'copyright\|SystemC 2\.' "$t/h"; then echo "FAIL: $x --help prints the SystemC banner"; fail=1
    else echo "ok: $x --help without banner"; fi
done
# eie-train exists only where libtorch was found (EIE_WITH_TORCH).
if grep -q '^EIE_WITH_TORCH:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    [ -x "$build/eie-train" ] || { echo "FAIL: $build/eie-train not built"; fail=1; }
    [ -x "$build/eie-train" ] && check_version eie-train "$build/eie-train"
fi
for s in sweep suite plot report bench bench-inference fashion-net; do
    check_version "$s" /usr/bin/python3 "$src/scripts/$s"
done
check_version train_goal bash "$src/scripts/train_goal"
exit $fail
