#!/usr/bin/env bash
# The model through add_subdirectory() of the source tree (docs/embedding.md):
# examples/vp configured with -DEIE_SOURCE_DIR builds the libraries as a
# component (no tools, no tests added to the platform's CTest, no forced
# flags) and its run equals the golden model. Cleans up after itself.
# Usage: embed_subdirectory.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

"$build/eie-compress" --synthetic 200,300 --weight-density 0.2 --pes 4 -q -o "$tmp/img"
cmake -S "$src/examples/vp" -B "$tmp/vp" -G Ninja "${launcher[@]}" -DEIE_SOURCE_DIR="$src" \
      >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; exit 1; }
cache=$tmp/vp/CMakeCache.txt
grep -q '^CMAKE_BUILD_TYPE:STRING=$' "$cache" || { echo "FAIL: the component set a build type:"; grep CMAKE_BUILD_TYPE "$cache"; exit 1; }
if [ -f "$tmp/vp/CTestTestfile.cmake" ] || [ -f "$tmp/vp/eie-model/CTestTestfile.cmake" ]; then
    echo "FAIL: the component added tests to the platform"; exit 1
fi
cmake --build "$tmp/vp" --target eie_vp -- -j2 >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
for tool in eie-sim eie-compress eie_model_tests; do
    [ ! -e "$tmp/vp/eie-model/$tool" ] || { echo "FAIL: the component built $tool"; exit 1; }
done
out=$("$tmp/vp/eie_vp" "$tmp/img")
echo "$out"
grep -q "equal to the golden model" <<<"$out" || { echo "FAIL: $out"; exit 1; }
echo "embed_subdirectory: ok"
