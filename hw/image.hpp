// The per-PE memory image of a compressed network: the contract between the
// compression front-end (which builds it), the image files (which store it),
// the golden model and the cycle model (which load it).
//
// Layout decisions (docs/image-format.md gives the reasons):
// - Row i of a layer belongs to PE i mod N, local row i div N. Outputs are
//   computed in batches of at most act_rf_entries local rows per PE; batch b
//   holds local rows [b*R, (b+1)*R), R = act_rf_entries.
// - Broadcast columns of a layer: the in_len inputs, then the bias column
//   (index in_len, activation 1.0) when has_bias.
// - Each (layer, batch) has its own CSC per PE: num_cols + 1 pointers stored
//   at pointer address ptr_base + b * (num_cols + 1) + j. The pointer SRAM is
//   split in two banks by address LSB, so p[j] and p[j+1] are always in
//   different banks.
// - Pointer values are entry offsets relative to the layer's entry_base and
//   run on across batches (batch b+1 starts where batch b ended), so a
//   pointer needs ptr_bits only for one layer's entries on one PE.
// - ptr_base and entry_base are the same on every PE (one global layer
//   descriptor in the CCU); entry_base is aligned to an SRAM line.
// - An entry is (z << weight_bits) | v: v the codebook index (0 = zero, used
//   by padding), z the count of this PE's zero rows skipped before it. Entry
//   address a lives in SRAM line a / entries_per_line, slot a % entries_per_line,
//   bits [slot*entry_bits, (slot+1)*entry_bits) of the line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eie/hw/arch_config.hpp"

namespace eie {

struct LayerFormat {
    int in_frac = 0;   // fractional bits of the input activations
    int w_frac = 0;    // fractional bits of the codebook values
    int out_frac = 0;  // fractional bits of the outputs (and of the next layer's inputs)
    int shift() const { return in_frac + w_frac - out_frac; }
};

enum class Activation { identity, relu };

// The activation's name in manifests, reports and on the command line.
inline const char* activation_name(Activation a) { return a == Activation::relu ? "relu" : "identity"; }
// The activation called `text`; false when no activation has that name.
inline bool activation_from_name(const std::string& text, Activation& out) {
    for (Activation a : {Activation::identity, Activation::relu})
        if (text == activation_name(a)) {
            out = a;
            return true;
        }
    return false;
}
// What activation_from_name accepts, for messages.
inline const char* activation_names() { return "relu, identity"; }

// Where a vector of local activations lives in each PE.
struct ActPlacement {
    bool in_sram = false;    // false: register file (source or destination)
    uint32_t sram_base = 0;  // activation-SRAM word address when in_sram
};

// The global layer descriptor, as the CCU holds it.
struct LayerDesc {
    std::string name;
    uint32_t in_len = 0;
    uint32_t out_len = 0;
    bool has_bias = false;
    Activation act = Activation::identity;
    LayerFormat fmt;
    uint32_t num_batches = 1;
    uint64_t ptr_base = 0;    // pointer-SRAM word address of batch 0, column 0
    uint64_t entry_base = 0;  // sparse-matrix entry address of the layer's first entry
    uint32_t codebook_slot = 0;
    std::vector<int32_t> codebook;       // 2^weight_bits fixed-point values (w_frac); [0] == 0
    std::vector<double> codebook_float;  // the k-means centroids before fixed point; [0] == 0
    ActPlacement input;   // where this layer reads its input
    ActPlacement output;  // where it leaves its output

    uint32_t num_cols() const { return in_len + (has_bias ? 1u : 0u); }
    uint64_t pointers_per_batch() const { return uint64_t(num_cols()) + 1; }
};

// Per-PE, per-layer counts (for reports and capacity use).
struct PeLayerCounts {
    uint64_t entries = 0;  // all stored entries, padding included
    uint64_t padding = 0;  // padding entries (v == 0)
    uint64_t rows = 0;     // local rows owned by this PE
};

// The contents of one PE's memories.
struct PeImage {
    std::vector<uint16_t> entries;   // sparse-matrix SRAM, one slot per entry address
    std::vector<uint32_t> pointers;  // pointer SRAM, one word per pointer address
    std::vector<std::vector<int32_t>> codebooks;  // [slot][index]
    std::vector<PeLayerCounts> layer_counts;      // [layer]
};

// A whole image: configuration, layer sequence, PE memories, I/O vectors.
struct Image {
    ArchConfig arch;
    std::vector<LayerDesc> layers;
    std::vector<PeImage> pes;               // arch.num_pes of them
    std::vector<int32_t> input;             // fixed point, layers[0].fmt.in_frac
    std::vector<double> input_float;        // the float input it was quantised from
    std::vector<std::vector<int32_t>> expected;      // golden fixed-point output per layer
    std::vector<std::vector<double>> expected_float; // float reference output per layer
};

// Decoded view of one PE's entry, used by the golden model and tests.
inline uint32_t entry_code(uint16_t e, uint32_t weight_bits) { return e & ((1u << weight_bits) - 1); }
inline uint32_t entry_zeros(uint16_t e, uint32_t weight_bits) { return e >> weight_bits; }
inline uint16_t make_entry(uint32_t code, uint32_t zeros, uint32_t weight_bits) {
    return static_cast<uint16_t>((zeros << weight_bits) | code);
}

}  // namespace eie
