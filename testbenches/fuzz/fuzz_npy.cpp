// libFuzzer harness: the .npy parser on arbitrary bytes.
// Every input must either parse or raise NpyError; anything else (a crash,
// a sanitizer report, another exception) is a finding.
#include <cstdint>
#include <string>

#include "eie/hw/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    try {
        eie::parse_npy(bytes, "fuzz.npy");
    } catch (const eie::NpyError&) {
    }
    return 0;
}
