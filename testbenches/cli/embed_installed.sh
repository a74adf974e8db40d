#!/usr/bin/env bash
# The model as an installed component (docs/embedding.md): cmake --install
# into a temporary prefix, then the example platform examples/vp is built
# against it with find_package(eie-model), and again with pkg-config alone,
# and both runs must equal the golden model. Cleans up after itself.
# Usage: embed_installed.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
for f in include/eie/hw/model/eie.hpp include/eie/hw/model/image_loader.hpp include/eie/hw/arch_config.hpp \
         lib/cmake/eie-model/eie-modelConfig.cmake lib/cmake/eie-model/eie-modelConfigVersion.cmake \
         lib/pkgconfig/eie-model.pc; do
    [ -f "$tmp/prefix/$f" ] || { echo "FAIL: the install lacks $f"; exit 1; }
done
# Nothing of the tests is installed.
if find "$tmp/prefix" -name '*test*' | grep -q .; then echo "FAIL: tests installed:"; find "$tmp/prefix" -name '*test*'; exit 1; fi

"$build/eie-compress" --synthetic 300,200 --weight-density 0.2 --pes 8 -q -o "$tmp/img"

# A sanitizer build installs instrumented libraries: the platform must link the runtimes too.
sanitize=()
grep -q '^EIE_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && sanitize=(-fsanitize=address,undefined)
[ ${#sanitize[@]} -eq 0 ] || launcher+=(-DCMAKE_EXE_LINKER_FLAGS="${sanitize[*]}")
cmake -S "$src/examples/vp" -B "$tmp/vp" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
      -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
cmake --build "$tmp/vp" --target eie_vp >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
out=$("$tmp/vp/eie_vp" "$tmp/img")
echo "$out"
grep -q "equal to the golden model" <<<"$out" || { echo "FAIL: find_package build: $out"; exit 1; }

# pkg-config alone: the flags and libraries for a hand-written build line.
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs eie-model)
${CXX:-c++} -std=c++17 -O1 "$src/examples/vp/vp_main.cpp" -o "$tmp/vp_pc" $flags "${sanitize[@]}"
out=$("$tmp/vp_pc" "$tmp/img")
grep -q "equal to the golden model" <<<"$out" || { echo "FAIL: pkg-config build: $out"; exit 1; }
"$tmp/vp_pc" "$tmp/none" 2>/dev/null && { echo "FAIL: a missing image gave exit 0"; exit 1; }
echo "embed_installed: ok"
