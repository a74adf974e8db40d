// Interleaved-CSC encoding of quantised layers into per-PE images, the
// inverse decoding, and the capacity check (docs/reference.md: storage, per-PE memories).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "eie/hw/geometry.hpp"
#include "eie/hw/image.hpp"

namespace eie {

// A layer after pruning and weight sharing: the non-zeros of the augmented
// matrix [W | b] (bias = column in_len) as codebook indices.
struct QuantLayer {
    std::string name;
    uint32_t in_len = 0;
    uint32_t out_len = 0;
    bool has_bias = false;
    Activation act = Activation::relu;
    LayerFormat fmt;
    struct NonZero {
        uint32_t row, col;
        uint32_t code;  // 1 .. 2^weight_bits - 1
    };
    std::vector<NonZero> nonzeros;       // sorted by (col, row)
    std::vector<int32_t> codebook;       // 2^weight_bits fixed-point values, [0] = 0
    std::vector<double> codebook_float;  // centroids, [0] = 0
};

// Raised when a layer does not fit; the message names the layer, the PE, the
// memory, what is needed, what is available and what would make it fit.
struct CapacityError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Encodes the layers one after another into every PE's memories and places
// the activations. With arch.grow_memories the memories are enlarged to fit
// (and image.arch records the grown sizes); otherwise a layer that does not
// fit raises CapacityError. Input/expected vectors are left empty.
// Malformed layers (unsorted or out-of-range non-zeros, wrong codebook size,
// a chain whose in_len / in_frac does not match the previous out_len /
// out_frac) raise std::invalid_argument naming the layer and the field.
Image encode_layers(const std::vector<QuantLayer>& layers, const ArchConfig& arch);

// The inverse: recovers the quantised layers (non-zeros, codebooks, formats)
// from an image. encode_layers(decode_layers(img), img.arch) reproduces img's
// memories exactly. An inconsistent image (pointers outside the entries, a
// row beyond its batch) raises std::invalid_argument naming layer, PE, batch
// and column.
std::vector<QuantLayer> decode_layers(const Image& image);

// Re-encodes an image for another architecture whose differences are only of
// class `layout` or `timing` (throws ConfigError naming the quantisation
// parameter otherwise). Keeps input and expected vectors.
Image reencode(const Image& image, const ArchConfig& arch);

}  // namespace eie
