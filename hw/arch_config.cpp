#include "arch_config.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <fstream>
#include <sstream>
#include <type_traits>

#include <fmt/format.h>

namespace eie {

namespace {

template <class T>
std::string value_text(const T& v) {
    if constexpr (std::is_same_v<T, bool>) return v ? "true" : "false";
    else if constexpr (std::is_floating_point_v<T>) return fmt::format("{:g}", v);
    else return std::to_string(v);
}

// Integer ranges print as integers (1 .. 1048576, not 1 .. 1.04858e+06).
std::string allowed_text(const ParamSpec& s, bool is_bool, bool is_integer) {
    if (is_bool) return "true or false";
    if (is_integer) return fmt::format("{} .. {}", uint64_t(s.min), uint64_t(s.max));
    return fmt::format("{:g} .. {:g}", s.min, s.max);
}

template <class T>
std::string allowed_text(const ParamSpec& s) {
    return allowed_text(s, std::is_same_v<T, bool>, std::is_integral_v<T>);
}

std::string all_names() {
    std::string out;
    for (const auto& s : param_specs()) out += (out.empty() ? "" : ", ") + std::string(s.name);
    return out;
}

// Range-checks v and stores it into the field.
template <class T>
void store_checked(const ParamSpec& s, T& field, double v, const std::string& source,
                   const std::string& raw) {
    // A range wider than the field could be stored truncated: refuse to build.
    static_assert(std::is_floating_point_v<T> || sizeof(T) <= 8);
    const std::string unit = *s.unit ? std::string(" ") + s.unit : std::string();
    if (std::is_integral_v<T> && std::isfinite(v) && std::floor(v) != v)
        throw ConfigError(fmt::format("{}: {} = {} is not an integer (allowed: integers {}{})", source, s.name, raw,
                                      allowed_text<T>(s), unit));
    if (!(v >= s.min && v <= s.max))
        throw ConfigError(fmt::format("{}: {} = {} is out of range (allowed: {}{}{})", source, s.name, raw,
                                      allowed_text<T>(s), std::is_integral_v<T> && !std::is_same_v<T, bool> ? ", integer" : "",
                                      unit));
    // The table's range must fit the field's type (a uint32_t field cannot
    // hold 2^32); checked here so a wrong table entry fails loudly, not by
    // silent truncation.
    if constexpr (std::is_integral_v<T>) {
        if (v > double(std::numeric_limits<T>::max()))
            throw ConfigError(fmt::format("{}: {} = {} does not fit the {}-bit field (internal: range {})", source,
                                          s.name, raw, 8 * sizeof(T), allowed_text<T>(s)));
    }
    field = static_cast<T>(v);
}

}  // namespace

const char* to_string(ParamClass c) {
    switch (c) {
        case ParamClass::timing: return "timing";
        case ParamClass::layout: return "layout";
        case ParamClass::quantisation: return "quantisation";
    }
    return "?";
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (true) {
        std::size_t q = s.find(sep, pos);
        out.push_back(s.substr(pos, q == std::string::npos ? std::string::npos : q - pos));
        if (q == std::string::npos) break;
        pos = q + 1;
    }
    return out;
}

bool parse_whole_number(const std::string& text, double& out) {
    // std::stod alone would also take leading blanks and hex ("0x10"): a
    // number is decimal, nothing before or after it.
    if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) ||
        std::isspace(static_cast<unsigned char>(text.back())))
        return false;
    const std::size_t digits = text.find_first_not_of("+-");
    if (digits == std::string::npos || digits > 1) return false;
    if (text.size() > digits + 1 && text[digits] == '0' && (text[digits + 1] == 'x' || text[digits + 1] == 'X'))
        return false;
    std::size_t used = 0;
    try {
        out = std::stod(text, &used);
    } catch (const std::exception&) {
        return false;
    }
    return used == text.size();
}

bool parse_whole_integer(const std::string& text, uint64_t& out) {
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno == ERANGE || *end != '\0') return false;
    out = v;
    return true;
}

std::vector<ParamSpec> param_specs() {
    std::vector<ParamSpec> out;
    ArchConfig c;
    for_each_param(c, [&](const ParamSpec& s, auto&) { out.push_back(s); });
    return out;
}

uint32_t ArchConfig::lnzd_levels() const {
    uint32_t levels = 1;
    uint64_t reach = lnzd_fanout;
    while (reach < num_pes) {
        reach *= lnzd_fanout;
        ++levels;
    }
    return levels;
}

uint32_t ArchConfig::lnzd_nodes() const {
    uint32_t nodes = 0;
    uint64_t width = num_pes;
    do {
        width = (width + lnzd_fanout - 1) / lnzd_fanout;
        nodes += static_cast<uint32_t>(width);
    } while (width > 1);
    return nodes;
}

void ArchConfig::validate(const std::string& source) const {
    ArchConfig copy = *this;
    for_each_param(copy, [&](const ParamSpec& s, auto& field) {
        using T = std::decay_t<decltype(field)>;
        double v = static_cast<double>(field);
        store_checked<T>(s, field, v, source, value_text(field));
    });
    auto fail = [&](const std::string& what) {
        throw ConfigError(fmt::format("{}: {}", source, what));
    };
    if (entry_bits() > 16)
        fail(fmt::format("weight_bits + index_bits = {} exceeds 16 (an entry is stored in 16 bits)",
                         entry_bits()));
    if (spmat_line_bits % 8 != 0)
        fail(fmt::format("spmat_line_bits = {} must be a multiple of 8", spmat_line_bits));
    if (entries_per_line() == 0)
        fail(fmt::format("spmat_line_bits = {} cannot hold one {}-bit entry (weight_bits + index_bits)",
                         spmat_line_bits, entry_bits()));
    if ((spmat_sram_bytes * 8) % spmat_line_bits != 0)
        fail(fmt::format("spmat_sram_bytes = {} is not a whole number of {}-bit lines", spmat_sram_bytes,
                         spmat_line_bits));
    if (ptr_capacity() < 2)
        fail(fmt::format("ptr_sram_bytes = {} holds fewer than two {}-bit pointers", ptr_sram_bytes, ptr_bits));
    if (codebook_value_bits < weight_bits)
        fail(fmt::format("codebook_value_bits = {} is narrower than weight_bits = {}", codebook_value_bits,
                         weight_bits));
}

nlohmann::json to_json(const ArchConfig& c) {
    nlohmann::json j = nlohmann::json::object();
    ArchConfig copy = c;
    for_each_param(copy, [&](const ParamSpec& s, auto& field) { j[s.name] = field; });
    return j;
}

ArchConfig arch_from_json(const nlohmann::json& j, const std::string& source, ArchConfig base) {
    if (!j.is_object()) throw ConfigError(fmt::format("{}: the configuration must be a JSON object", source));
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool found = false;
        for_each_param(base, [&](const ParamSpec& s, auto& field) {
            if (it.key() != s.name) return;
            found = true;
            using T = std::decay_t<decltype(field)>;
            const auto& v = it.value();
            if constexpr (std::is_same_v<T, bool>) {
                if (!v.is_boolean())
                    throw ConfigError(fmt::format("{}: {} = {} must be true or false", source, s.name, v.dump()));
                field = v.get<bool>();
            } else {
                if (!v.is_number())
                    throw ConfigError(fmt::format("{}: {} = {} must be a number (allowed: {})", source, s.name,
                                                  v.dump(), allowed_text<T>(s)));
                // Integers exactly (a double would round values above 2^53).
                if (std::is_integral_v<T> && v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(s.max))
                    throw ConfigError(fmt::format("{}: {} = {} is out of range (allowed: {}, integer{})", source,
                                                  s.name, v.dump(), allowed_text<T>(s),
                                                  *s.unit ? std::string(" ") + s.unit : std::string()));
                store_checked<T>(s, field, v.get<double>(), source, v.dump());
            }
        });
        if (!found)
            throw ConfigError(fmt::format("{}: unknown parameter '{}' (known: {})", source, it.key(), all_names()));
    }
    base.validate(source);
    return base;
}

ArchConfig arch_from_json_file(const std::string& path, ArchConfig base) {
    std::ifstream in(path);
    if (!in) throw ConfigError(fmt::format("{}: cannot open configuration file", path));
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(fmt::format("{}: not valid JSON: {}", path, e.what()));
    }
    // A manifest or statistics file carries the configuration under "arch".
    if (j.is_object() && j.contains("arch") && j["arch"].is_object()) j = j["arch"];
    return arch_from_json(j, path, base);
}

void apply_override(ArchConfig& c, const std::string& assignment, const std::string& source) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError(fmt::format("{}: '{}' is not of the form name=value", source, assignment));
    std::string name = assignment.substr(0, eq);
    std::string raw = assignment.substr(eq + 1);
    bool found = false;
    for_each_param(c, [&](const ParamSpec& s, auto& field) {
        if (name != s.name) return;
        found = true;
        using T = std::decay_t<decltype(field)>;
        if constexpr (std::is_same_v<T, bool>) {
            if (raw == "true" || raw == "1") field = true;
            else if (raw == "false" || raw == "0") field = false;
            else throw ConfigError(fmt::format("{}: {} = {} must be true or false", source, name, raw));
        } else {
            double v = 0;
            if (!parse_whole_number(raw, v))
                throw ConfigError(fmt::format("{}: {} = '{}' is not a number (allowed: {})", source, name, raw,
                                              allowed_text<T>(s)));
            if constexpr (std::is_integral_v<T>) {
                // Integer fields take plain decimal digits: "4.0000000000000001"
                // would otherwise round to 4 as a double.
                uint64_t n = 0;
                if (!parse_whole_integer(raw, n)) {
                    if (std::isfinite(v) && v >= s.min && v <= s.max)
                        throw ConfigError(fmt::format("{}: {} = {} is not an integer (allowed: integers {}{})", source,
                                                      name, raw, allowed_text<T>(s),
                                                      *s.unit ? std::string(" ") + s.unit : std::string()));
                } else if (n > uint64_t(s.max)) {
                    v = std::numeric_limits<double>::infinity();  // reported as out of range below
                } else {
                    v = double(n);
                }
            }
            store_checked<T>(s, field, v, source, raw);
        }
    });
    if (!found) throw ConfigError(fmt::format("{}: unknown parameter '{}' (known: {})", source, name, all_names()));
}

std::vector<ParamDiff> diff(const ArchConfig& a, const ArchConfig& b) {
    std::vector<ParamDiff> out;
    std::vector<std::pair<ParamSpec, std::string>> left;
    ArchConfig ca = a, cb = b;
    for_each_param(ca, [&](const ParamSpec& s, auto& field) { left.emplace_back(s, value_text(field)); });
    std::size_t i = 0;
    for_each_param(cb, [&](const ParamSpec& s, auto& field) {
        std::string v = value_text(field);
        if (v != left[i].second) out.push_back({s.name, s.cls, left[i].second, v});
        ++i;
    });
    return out;
}

}  // namespace eie
