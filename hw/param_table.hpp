// The architecture parameter table (hw/arch_config.hpp) as data, and the
// checking of whole configurations, for tools and scripts that must not parse
// C++ or repeat its rules: `eie-sim --list-params --json` and
// `eie-sim --check-config` (docs/eie-sim.md) print what these return.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/hw/arch_config.hpp"

namespace eie {

// Format tag and version of the --list-params --json document.
constexpr const char* kParamTableFormat = "eie-params";
constexpr int kParamTableVersion = 1;

// Every parameter in documentation order: name, type (uint32, uint64, double,
// bool), default, min, max, unit, doc, class (timing, layout, quantisation),
// grown_by_encoder (enlarged to fit under grow_memories).
nlohmann::json param_table_json();

// The result of checking one configuration: ok, or the error (naming the
// source) and its reason (the same without the source).
struct ConfigCheck {
    std::string source;
    bool ok = false;
    std::string error;
    std::string reason;
    ArchConfig config;  // the full configuration when ok
};

// Checks `doc`: one configuration object, or an array of them, each a set of
// parameters over the defaults, with every rule of arch_from_json() and
// ArchConfig::validate(). The sources are `source` for an object and
// "source[k]" for the entries of an array. Anything else raises ConfigError.
std::vector<ConfigCheck> check_configs(const nlohmann::json& doc, const std::string& source);

}  // namespace eie
