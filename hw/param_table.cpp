#include "eie/hw/param_table.hpp"

#include <type_traits>

#include <fmt/format.h>

namespace eie {

namespace {

template <class T>
const char* type_name() {
    if constexpr (std::is_same_v<T, bool>) return "bool";
    else if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
    else if constexpr (std::is_same_v<T, uint64_t>) return "uint64";
    else {
        static_assert(std::is_same_v<T, double>, "a parameter type without a name in the table");
        return "double";
    }
}

// Integer ranges as integers, so 2^40 prints exactly and a script compares integers.
template <class T>
nlohmann::json bound(double v) {
    if constexpr (std::is_integral_v<T>) return uint64_t(v);
    else return v;
}

ConfigCheck check_one(const nlohmann::json& cfg, const std::string& source) {
    ConfigCheck c;
    c.source = source;
    try {
        c.config = arch_from_json(cfg, source);
        c.ok = true;
    } catch (const ConfigError& e) {
        c.error = e.what();
        const std::string prefix = source + ": ";
        c.reason = c.error.compare(0, prefix.size(), prefix) == 0 ? c.error.substr(prefix.size()) : c.error;
    }
    return c;
}

}  // namespace

nlohmann::json param_table_json() {
    nlohmann::json list = nlohmann::json::array();
    ArchConfig defaults;
    for_each_param(defaults, [&](const ParamSpec& s, auto& field) {
        using T = std::decay_t<decltype(field)>;
        list.push_back({{"name", s.name},
                        {"type", type_name<T>()},
                        {"default", field},
                        {"min", bound<T>(s.min)},
                        {"max", bound<T>(s.max)},
                        {"unit", s.unit},
                        {"doc", s.doc},
                        {"class", to_string(s.cls)},
                        {"grown_by_encoder", s.grown_by_encoder}});
    });
    return {{"format", kParamTableFormat}, {"version", kParamTableVersion}, {"params", list}};
}

std::vector<ConfigCheck> check_configs(const nlohmann::json& doc, const std::string& source) {
    std::vector<ConfigCheck> out;
    if (doc.is_object()) {
        out.push_back(check_one(doc, source));
    } else if (doc.is_array()) {
        for (std::size_t k = 0; k < doc.size(); ++k) out.push_back(check_one(doc[k], fmt::format("{}[{}]", source, k)));
    } else {
        throw ConfigError(fmt::format("{}: a configuration object or an array of them expected, not {}", source,
                                      doc.type_name()));
    }
    return out;
}

}  // namespace eie
