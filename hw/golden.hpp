// The golden reference model: computes each layer exactly as the hardware
// does (codebook look-up, fixed-point multiply, shift with rounding,
// saturating accumulation in broadcast order, bias, ReLU or identity,
// batching), straight from the image's per-PE memories. Also the float
// reference the fixed-point results are compared with.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/image.hpp"

namespace eie {

// Output of every layer (after its activation function), fixed point.
std::vector<std::vector<int32_t>> golden_run(const Image& image, const std::vector<int32_t>& input);
// One layer from its decoded memories.
std::vector<int32_t> golden_layer(const Image& image, std::size_t layer, const std::vector<int32_t>& input);

// Float reference with the shared (quantised, unrounded) codebook values.
std::vector<std::vector<double>> float_run(const Image& image, const std::vector<double>& input);

}  // namespace eie
