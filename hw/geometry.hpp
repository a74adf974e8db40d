// Interleaving geometry shared by the encoder, the golden model and the cycle
// model: which PE holds which element, how many local rows a PE has and how
// many output batches a layer needs (docs/image-format.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "eie/hw/arch_config.hpp"

namespace eie {

// Local length of PE `pe` for a vector of `len` elements interleaved over
// `num_pes` PEs (element i on PE i mod N).
inline uint64_t local_length(uint64_t len, uint32_t num_pes, uint32_t pe) {
    return pe < len ? (len - pe + num_pes - 1) / num_pes : 0;
}
// ceil(len / num_pes): the local length of PE 0, the longest.
inline uint64_t max_local_length(uint64_t len, uint32_t num_pes) { return (len + num_pes - 1) / num_pes; }
// Output batches of a layer with `out_len` outputs: ceil(max local rows /
// act_rf_entries), at least 1.
inline uint32_t layer_batches(uint32_t out_len, const ArchConfig& arch) {
    uint64_t rows = max_local_length(out_len, arch.num_pes);
    uint64_t nb = (rows + arch.act_rf_entries - 1) / arch.act_rf_entries;
    return static_cast<uint32_t>(nb < 1 ? 1 : nb);
}

// Local rows of PE `pe` in output batch `batch` of a layer with `out_len`
// outputs: batch b holds local rows [b*R, (b+1)*R), R = act_rf_entries.
inline uint32_t local_rows_in_batch(uint32_t out_len, const ArchConfig& arch, uint32_t pe, uint32_t batch) {
    const uint64_t local = local_length(out_len, arch.num_pes, pe), first = uint64_t(batch) * arch.act_rf_entries;
    return local > first ? static_cast<uint32_t>(std::min<uint64_t>(arch.act_rf_entries, local - first)) : 0;
}

// The broadcast order of a layer's columns: the inputs j with nonzero(j), by
// increasing index, then the bias column (index in_len) when the layer has one.
template <class NonZero>
std::vector<uint32_t> broadcast_columns(uint32_t in_len, bool has_bias, NonZero&& nonzero) {
    std::vector<uint32_t> cols;
    for (uint32_t j = 0; j < in_len; ++j)
        if (nonzero(j)) cols.push_back(j);
    if (has_bias) cols.push_back(in_len);
    return cols;
}

}  // namespace eie
