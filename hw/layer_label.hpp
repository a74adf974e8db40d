// How every message names a layer: "layer 1 'fc7'" (its index in the
// network, counted from 0, and its name), the same in the compressor, the
// encoder, the golden model and the simulator's verdict.
#pragma once

#include <cstddef>
#include <string>

#include <fmt/format.h>

namespace eie {

inline std::string layer_label(std::size_t index, const std::string& name) {
    return fmt::format("layer {} '{}'", index, name);
}

}  // namespace eie
