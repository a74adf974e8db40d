// Running an existing image on another architecture: what eie-sim's
// --config/--set do and what the Python module's overrides do, in one place.
// Timing parameters change nothing in the image; layout parameters need it
// re-encoded (from the decoded image); quantisation parameters cannot change
// without the float weights (eie-compress again).
#pragma once

#include <string>
#include <vector>

#include "eie/hw/image.hpp"
#include "eie/hw/arch_config.hpp"

namespace eie {

// Throws ConfigError when `arch` changes a quantisation parameter of an image
// made for `image_arch` (the message lists the changes and the eie-compress
// --set options that would make a matching image). Returns the layout
// parameters that change: empty when the image runs as it is.
std::vector<ParamDiff> check_arch_change(const ArchConfig& image_arch, const ArchConfig& arch);

// "num_pes 64 -> 32, act_rf_entries 64 -> 16": the changes, as shown in reports.
std::string describe_changes(const std::vector<ParamDiff>& changes);

// `image` ready to run with `arch` (validated by the caller): re-encoded
// when a layout parameter changes, else the same memories with `arch`.
// CapacityError when the re-encoded image does not fit; ConfigError for a
// quantisation change or an image that cannot be decoded (naming
// `image_name`). `reencoded` tells which happened.
Image image_for_arch(const Image& image, const ArchConfig& arch, const std::string& image_name, bool& reencoded);

}  // namespace eie
