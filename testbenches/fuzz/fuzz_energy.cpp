// libFuzzer harness: the energy table (eie-sim --energy-table) on arbitrary
// text. Accepts a table or EnergyError (the tools' bad-input error).
#include <cstdint>
#include <stdexcept>
#include <string>

#include "eie/hw/model/energy_model.hpp"
#include "testbenches/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const auto path = eie_fuzz::scratch_dir() / "table.json";
    eie_fuzz::write_bytes(path, reinterpret_cast<const char*>(data), size);
    try {
        eie::EnergyTable::from_json_file(path.string());
    } catch (const eie::EnergyError&) {
    }
    return 0;
}
