// libFuzzer harness: the .npz (zip) reader on arbitrary bytes, through a file
// since read_npz takes a path. Accepts success or NpyError only.
#include <cstdint>

#include "eie/compress/npz.hpp"
#include "testbenches/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = eie_fuzz::scratch_dir() / "input.npz";
    eie_fuzz::write_bytes(path, reinterpret_cast<const char*>(data), size);
    try {
        eie::read_npz(path.string());
    } catch (const eie::NpyError&) {
    }
    return 0;
}
