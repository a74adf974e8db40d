// Synthetic layers: a weight matrix with a given shape and density and an
// input activation vector with a given density, reproducible from a seed.
// Presets give the nine EIE benchmark layers (EIE Table III, docs/reference.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eie/hw/image.hpp"

namespace eie {

// How non-zeros are placed in the weight matrix.
enum class Placement {
    uniform,  // a uniformly random subset of exactly round(density * in * out) positions
    skewed,   // row and column densities vary (log-normal factors), mean = density,
              // as in real pruned layers where some neurons keep many more weights
              // (docs/synthetic-layers.md gives the model)
};

struct SyntheticSpec {
    std::string name = "synthetic";
    uint32_t in_len = 0;
    uint32_t out_len = 0;
    double weight_density = 0.1;
    double act_density = 0.35;
    uint64_t seed = 1;
    Placement placement = Placement::uniform;
    bool bias = false;
    Activation act = Activation::relu;
    // What the layer needs of the architecture, as "name=value" (apply_override's
    // form), applied under the user's own settings: e.g. VGG-6's 25,089 pointers
    // per PE need a 64 KB pointer SRAM and 17-bit pointers (docs/benchmarks.md).
    std::vector<std::string> arch_overrides;
};

// A dense float layer as the compressor takes it: weights[out][in] row-major.
struct FloatLayer {
    std::string name;
    uint32_t in_len = 0;
    uint32_t out_len = 0;
    std::vector<float> weights;  // out_len * in_len, row-major
    std::vector<float> bias;     // empty or out_len
    Activation act = Activation::relu;
    float at(uint32_t row, uint32_t col) const { return weights[uint64_t(row) * in_len + col]; }
};

// Names of the presets, in paper order (traces/benchmarks/suite.txt): alex6 alex7
// alex8 vgg6 vgg7 vgg8 ntwe ntwd ntlstm.
std::vector<std::string> preset_names();
// Throws std::invalid_argument listing the valid names for an unknown one.
SyntheticSpec preset(const std::string& name);
Placement parse_placement(const std::string& text);  // "uniform" | "skewed"
const char* to_string(Placement p);

// Weights: non-zeros drawn from a zero-mean distribution shaped like trained
// fc weights (Laplacian-like), the exact count round(density * in * out).
FloatLayer make_synthetic_layer(const SyntheticSpec& spec);
// Input: exactly round(act_density * in_len) non-zero positive values (post-ReLU).
std::vector<float> make_synthetic_input(const SyntheticSpec& spec);

}  // namespace eie
