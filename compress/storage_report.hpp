// Storage accounting of a compressed network, stage by stage, the way Deep
// Compression (Han et al., ICLR 2016) counts it: dense fp32 -> pruned ->
// pruned + quantised (weight sharing) -> + Huffman coding.
//
// Everything is counted from the encoded image, so padding entries (inserted
// when a zero run exceeds the relative index range) are paid for as the
// hardware pays for them. Pointers are counted separately at ptr_bits each
// and every ratio is given with and without them, because the ratios Deep
// Compression publishes leave the column pointers out (docs/compression.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/hw/image.hpp"

namespace eie {

struct LayerStorage {
    std::string name;
    // Counts.
    uint64_t dense_weights = 0;  // out_len * in_len (+ out_len when the layer has a bias)
    uint64_t nonzeros = 0;       // stored entries that carry a weight (code != 0)
    uint64_t entries = 0;        // all stored entries, padding included, over every PE
    uint64_t padding = 0;        // padding entries (code 0)
    uint64_t pointers = 0;       // column pointers over every PE and batch
    // Bits of each part.
    uint64_t pointer_bits = 0;           // pointers * ptr_bits
    uint64_t codebook_bits = 0;          // 2^weight_bits * codebook_value_bits
    uint64_t huffman_weight_bits = 0;    // Huffman-coded weight-index stream
    uint64_t huffman_index_bits = 0;     // Huffman-coded relative-index stream
    uint64_t huffman_table_bits = 0;     // both code tables: (2^weight_bits + 2^index_bits) lengths x 8 bits
    // Stage totals WITHOUT pointers (add pointer_bits for the "with pointers" figures).
    uint64_t dense_bits = 0;      // dense_weights * 32
    uint64_t pruned_bits = 0;     // entries * (32 + index_bits)
    uint64_t quantised_bits = 0;  // entries * (weight_bits + index_bits) + codebook_bits
    uint64_t huffman_bits = 0;    // huffman_weight_bits + huffman_index_bits + huffman_table_bits + codebook_bits

    double padding_share() const { return entries ? double(padding) / double(entries) : 0.0; }
    // Compression ratio of a stage against dense fp32 (dense / stage).
    double ratio(uint64_t stage_bits, bool with_pointers) const;
    double pruned_ratio(bool with_pointers) const { return ratio(pruned_bits, with_pointers); }
    double quantised_ratio(bool with_pointers) const { return ratio(quantised_bits, with_pointers); }
    double huffman_ratio(bool with_pointers) const { return ratio(huffman_bits, with_pointers); }
};

struct StorageReport {
    uint32_t weight_bits = 0, index_bits = 0, ptr_bits = 0, codebook_value_bits = 0;
    std::vector<LayerStorage> layers;
    LayerStorage total;  // sums of the per-layer figures (each layer has its own codebook and Huffman tables)
};

StorageReport storage_report(const Image& image);

nlohmann::json to_json(const LayerStorage& s);
nlohmann::json to_json(const StorageReport& r);
// A fixed-width table: one row per layer plus the total, sizes in KiB and the
// compression ratio of each stage with and without pointers.
std::string format_storage_table(const StorageReport& r);

}  // namespace eie
