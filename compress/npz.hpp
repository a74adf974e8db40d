// NumPy .npz reading: a zip archive of .npy members. Kept out of the
// foundation's .npy reader (hw/npy.hpp) because it needs zlib, which the
// cycle model must not link.
#pragma once

#include <map>
#include <string>

#include "eie/hw/npy.hpp"

namespace eie {

// All arrays of an .npz (stored or deflated members), keyed by name without ".npy".
std::map<std::string, NpyArray> read_npz(const std::string& path);

}  // namespace eie
