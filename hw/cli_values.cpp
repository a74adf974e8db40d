#include "eie/hw/cli_values.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "eie/hw/arch_config.hpp"
#include "eie/hw/file_io.hpp"
#include "eie/hw/image_io.hpp"

namespace fs = std::filesystem;

namespace eie {

namespace {

// `text` as an optional '-' and plain decimal digits (parse_whole_integer,
// the rule of --set). `fits` is false for digits beyond 64 bits: still an
// integer, but out of any range.
struct IntegerText {
    bool negative = false, fits = true;
    uint64_t magnitude = 0;
};

bool read_integer_text(const std::string& text, IntegerText& out) {
    const bool negative = !text.empty() && text.front() == '-';
    const std::string digits = negative ? text.substr(1) : text;
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return false;
    out.negative = negative;
    out.fits = parse_whole_integer(digits, out.magnitude);
    return true;
}

std::string range_text(long long lo, long long hi) { return fmt::format("{} .. {}", lo, hi); }
std::string range_text(uint64_t lo, uint64_t hi) { return fmt::format("{} .. {}", lo, hi); }

[[noreturn]] void not_an_integer(const std::string& text, const std::string& option, const std::string& allowed) {
    throw UsageError(fmt::format("{}: '{}' is not an integer (allowed: {})", option, printable(text), allowed));
}

[[noreturn]] void out_of_range(const std::string& text, const std::string& option, const std::string& allowed) {
    throw UsageError(fmt::format("{}: {} is out of range (allowed: {})", option, printable(text), allowed));
}

}  // namespace

long long parse_int_option(const std::string& text, const std::string& option, long long lo, long long hi) {
    IntegerText n;
    if (!read_integer_text(text, n)) not_an_integer(text, option, range_text(lo, hi));
    // The magnitude of LLONG_MIN is LLONG_MAX + 1.
    const uint64_t limit = n.negative ? uint64_t(std::numeric_limits<long long>::max()) + 1
                                      : uint64_t(std::numeric_limits<long long>::max());
    if (!n.fits || n.magnitude > limit) out_of_range(text, option, range_text(lo, hi));
    const long long v = n.negative ? (n.magnitude == limit ? std::numeric_limits<long long>::min()
                                                           : -static_cast<long long>(n.magnitude))
                                   : static_cast<long long>(n.magnitude);
    if (v < lo || v > hi) out_of_range(text, option, range_text(lo, hi));
    return v;
}

uint64_t parse_uint_option(const std::string& text, const std::string& option, uint64_t lo, uint64_t hi) {
    IntegerText n;
    if (!read_integer_text(text, n)) not_an_integer(text, option, range_text(lo, hi));
    const bool zero = n.fits && n.magnitude == 0;  // "-0" is 0
    if (!n.fits || (n.negative && !zero) || n.magnitude < lo || n.magnitude > hi)
        out_of_range(text, option, range_text(lo, hi));
    return n.magnitude;
}

bool NumberRange::contains(double v) const {
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
}

std::string NumberRange::allowed() const {
    const bool lo_bounded = std::isfinite(lo), hi_bounded = std::isfinite(hi);
    if (symbol.empty() && lo_bounded && hi_bounded && !lo_open && !hi_open) return fmt::format("{} .. {}", lo, hi);
    const std::string x = symbol.empty() ? "x" : symbol;
    if (lo_bounded && hi_bounded)
        return fmt::format("{} {} {} {} {}", lo, lo_open ? "<" : "<=", x, hi_open ? "<" : "<=", hi);
    if (lo_bounded) return fmt::format("{} {} {}", x, lo_open ? ">" : ">=", lo);
    if (hi_bounded) return fmt::format("{} {} {}", x, hi_open ? "<" : "<=", hi);
    return "any finite number";
}

double parse_number_option(const std::string& text, const std::string& option, const NumberRange& range) {
    double v = 0;
    if (!parse_whole_number(text, v) || !std::isfinite(v))
        throw UsageError(
            fmt::format("{}: '{}' is not a finite number (allowed: {})", option, printable(text), range.allowed()));
    if (!range.contains(v)) out_of_range(text, option, range.allowed());
    return v;
}

double check_number_value(double v, const std::string& name, const NumberRange& range) {
    if (!std::isfinite(v))
        throw UsageError(fmt::format("{}: {} is not a finite number (allowed: {})", name, v, range.allowed()));
    if (!range.contains(v)) out_of_range(fmt::format("{}", v), name, range.allowed());
    return v;
}

uint64_t check_uint_value(uint64_t v, const std::string& name, uint64_t lo, uint64_t hi) {
    if (v < lo || v > hi) out_of_range(std::to_string(v), name, range_text(lo, hi));
    return v;
}

double parse_probability_option(const std::string& text, const std::string& option, double max) {
    return parse_number_option(text, option, NumberRange(0.0, max, false, false, "P"));
}

std::vector<std::string> per_layer_values(const std::string& text, std::size_t layers, const std::string& option) {
    std::vector<std::string> items = split(text, ',');
    if (items.size() == 1) return std::vector<std::string>(layers, items[0]);
    if (items.size() != layers)
        throw UsageError(fmt::format("{}: {} values given for {} layers (give one value for all, or one per layer)",
                                     option, items.size(), layers));
    return items;
}

std::string command_line_text(int argc, char** argv) {
    std::string s;
    for (int i = 0; i < argc; ++i) s += (i ? " " : "") + std::string(argv[i]);
    return s;
}

ArchConfig apply_arch_options(ArchConfig arch, const ArchOptions& o, const std::string& what) {
    if (o.config) arch = arch_from_json_file(*o.config, arch);
    for (const auto& [option, assignment] : o.shortcuts) apply_override(arch, assignment, option);
    for (const std::string& s : o.sets) apply_override(arch, s, o.set_source + " " + s);
    arch.validate(what);
    return arch;
}

void write_output_file(const std::string& path, const std::string& content, const std::string& option) {
    try {
        write_file_atomic(path, content);
    } catch (const FileError& e) {
        throw UsageError(fmt::format("{} {}", option, e.what()));
    }
}

void check_output_parent(const std::string& path, const std::string& option) {
    if (path.empty()) throw UsageError(fmt::format("{}: empty file name", option));
    fs::path parent = fs::path(path).parent_path();
    if (parent.empty()) parent = ".";
    std::error_code ec;
    if (!fs::exists(parent, ec))
        throw UsageError(fmt::format("{} '{}': parent directory '{}' does not exist", option, path, parent.string()));
    if (!fs::is_directory(parent, ec))
        throw UsageError(fmt::format("{} '{}': '{}' is not a directory", option, path, parent.string()));
    if (::access(parent.c_str(), W_OK | X_OK) != 0)
        throw UsageError(fmt::format("{} '{}': directory '{}' is not writable: {}", option, path, parent.string(),
                                     std::strerror(errno)));
}

void check_output_file(const std::string& path, const std::string& option) {
    check_output_parent(path, option);
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw UsageError(fmt::format("{} '{}': is a directory", option, path));
}

void check_image_dir_target(const std::string& dir, const std::string& option) {
    std::string d = dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();  // "out/" names out, whose parent is "."
    check_output_parent(d, option);
    std::error_code ec;
    if (fs::exists(fs::symlink_status(d, ec)) && !is_image_dir(d))
        throw UsageError(fmt::format("{} '{}': exists and is not an image directory (no manifest.json with format "
                                     "'eie-image'); refusing to replace it",
                                     option, d));
}

}  // namespace eie
