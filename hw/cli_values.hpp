// Command-line values and output paths, one rule for every tool
// (eie-compress, eie-train, eie-sim, eie-energy-calibrate; docs/input-safety.md,
// "Command-line values").
//
// Syntax, the same as --set NAME=VALUE uses for the architecture parameters:
// - an integer is decimal digits, with a leading '-' where negative values
//   are meaningful: no blanks, no '+', no hex, no fraction or exponent
//   (" 4", "4.0", "1e3", "0x10" are refused, not rounded);
// - a number is a whole decimal number in std::stod syntax (parse_whole_number),
//   and must be finite.
// Errors read "<option>: '<text>' is not ... (allowed: ...)" or
// "<option>: <text> is out of range (allowed: ...)" and throw UsageError.
//
// Output paths are checked before any (possibly long) work, so a run does not
// fail at its end on a path it could never write.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "eie/hw/arch_config.hpp"

namespace eie {

// The user asked for something the tool cannot do (a bad value, a bad
// combination, an output that cannot be written): every tool exits 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// An integer option in [lo, hi].
long long parse_int_option(const std::string& text, const std::string& option, long long lo, long long hi);

// A non-negative integer option in [lo, hi] (the full 64-bit range by default).
uint64_t parse_uint_option(const std::string& text, const std::string& option, uint64_t lo = 0,
                           uint64_t hi = std::numeric_limits<uint64_t>::max());

// The values a number option allows. With no symbol and both bounds closed it
// reads "lo .. hi"; otherwise "lo < x <= hi", "x >= lo" (hi infinite), with
// `symbol` for x.
struct NumberRange {
    explicit NumberRange(double lo = -std::numeric_limits<double>::infinity(),
                         double hi = std::numeric_limits<double>::infinity(), bool lo_open = false,
                         bool hi_open = false, std::string symbol = "")
        : lo(lo), hi(hi), lo_open(lo_open), hi_open(hi_open), symbol(std::move(symbol)) {}
    double lo, hi;
    bool lo_open, hi_open;
    std::string symbol;
    bool contains(double v) const;
    std::string allowed() const;
};

// A finite number option inside `range`.
double parse_number_option(const std::string& text, const std::string& option, const NumberRange& range);

// The same range checks and messages for a value that arrives typed (the
// Python module's keyword arguments): `name` stands for the option.
double check_number_value(double v, const std::string& name, const NumberRange& range);
uint64_t check_uint_value(uint64_t v, const std::string& name, uint64_t lo,
                          uint64_t hi = std::numeric_limits<uint64_t>::max());

// A probability option, 0 <= P <= max.
double parse_probability_option(const std::string& text, const std::string& option, double max = 1.0);

// "a,b,c" -> one value per layer; a single value applies to every layer.
// Another count is refused: "<option>: N values given for M layers (...)".
std::vector<std::string> per_layer_values(const std::string& text, std::size_t layers, const std::string& option);

// argv joined by blanks: the command line a report records.
std::string command_line_text(int argc, char** argv);

// The architecture options a tool takes, in the order they apply: --config
// FILE over the base, then the shortcuts (e.g. {"--pes", "num_pes=8"}), then
// every --set NAME=VALUE; a later one wins.
struct ArchOptions {
    std::optional<std::string> config;
    std::vector<std::pair<std::string, std::string>> shortcuts;  // (option, "name=value")
    std::vector<std::string> sets;
    std::string set_source = "--set";  // how messages name an assignment: "--set num_pes=0: ..."
};

// `base` with `options` applied and validated (every rule of the table);
// errors are ConfigError naming the option, the parameter and the value;
// `what` names the result in a combination error.
ArchConfig apply_arch_options(ArchConfig base, const ArchOptions& options, const std::string& what);

// `content` written atomically to the output file of `option`
// (write_file_atomic); a failure is a UsageError "<option> <why>".
void write_output_file(const std::string& path, const std::string& content, const std::string& option);

// `path` can be created: not empty, its parent exists, is a directory and is
// writable. Messages begin "<option> '<path>': ".
void check_output_parent(const std::string& path, const std::string& option);

// An output file: check_output_parent, and `path` is not a directory.
void check_output_file(const std::string& path, const std::string& option);

// An output image directory: check_output_parent, and whatever is at `dir`
// already is an image directory (it is replaced); anything else is refused.
void check_image_dir_target(const std::string& dir, const std::string& option);

}  // namespace eie
