// libFuzzer harness: the architecture configuration. The first line is a
// --set style "name=value" override, the rest a JSON configuration; both
// must succeed or raise ConfigError (or nlohmann's parse error for JSON that
// is not JSON, which every tool reports as bad input).
#include <cstdint>
#include <string>

#include "eie/hw/arch_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::size_t nl = text.find('\n');
    const std::string assignment = text.substr(0, nl);
    try {
        eie::ArchConfig c;
        eie::apply_override(c, assignment);
        c.validate();
    } catch (const eie::ConfigError&) {
    }
    if (nl == std::string::npos) return 0;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.substr(nl + 1));
    } catch (const nlohmann::json::exception&) {
        return 0;
    }
    try {
        eie::arch_from_json(j, "fuzz.json");
    } catch (const eie::ConfigError&) {
    }
    return 0;
}
