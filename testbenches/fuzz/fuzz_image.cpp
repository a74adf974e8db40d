// libFuzzer harness: the image directory reader (manifest.json and the hex
// files). The input is the files of a one-PE image separated by NUL bytes:
//   manifest.json \0 spmat.hex \0 ptr_even.hex \0 ptr_odd.hex \0 codebook.hex \0 input.npy
// written to pe_0000/... as the manifest names them. Accepts an Image or ImageError.
#include <cstdint>
#include <string>
#include <vector>

#include "eie/hw/image_io.hpp"
#include "testbenches/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const char* names[] = {"manifest.json", "pe_0000/spmat.hex", "pe_0000/ptr_even.hex",
                                  "pe_0000/ptr_odd.hex", "pe_0000/codebook.hex", "input.npy"};
    const auto dir = eie_fuzz::scratch_dir() / "image";
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir / "pe_0000");
    const char* p = reinterpret_cast<const char*>(data);
    const char* end = p + size;
    for (const char* name : names) {
        const char* q = p;
        while (q < end && *q != '\0') ++q;
        eie_fuzz::write_bytes(dir / name, p, size_t(q - p));
        p = q < end ? q + 1 : end;
    }
    try {
        eie::read_image_dir(dir.string());
    } catch (const eie::ImageError&) {
    }
    return 0;
}
