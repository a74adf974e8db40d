# Shared set-up of the studies' command-line tests (scripts/sweep, suite,
# plot, report), sourced as: . "$(dirname "$0")/studies_common.bash" "$@"
# with the test's own arguments BUILD_DIR SOURCE_DIR. Not a test itself
# (CTest registers *.sh only).
# Sets: build, src, py, t (a temporary directory, removed at exit unless
# KEEP is set), fail; defines check NAME 'SHELL CONDITION'.
set -u
build=$1
src=$2
export EIE_BUILD_DIR=$build
py=/usr/bin/python3
for x in eie-compress eie-sim; do
  [ -x "$build/$x" ] || { echo "FAIL: $build/$x not built"; exit 1; }
done
t=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT; [ -n "${KEEP:-}" ] && echo "keeping $t"
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
