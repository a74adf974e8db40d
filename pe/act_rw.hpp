// The activation read/write unit of a PE: the source and destination
// register files (they swap roles between layers), the activation SRAM for
// vectors longer than the register files and for batched outputs, and the
// activation function, applied when a destination becomes a source.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "eie/hw/fixed_point.hpp"
#include "eie/hw/image.hpp"
#include "eie/hw/stats.hpp"

namespace eie {

class ActRW {
public:
    void configure(uint32_t rf_entries, uint64_t sram_entries) {
        src_.assign(rf_entries, 0);
        dst_.assign(rf_entries, 0);
        sram_.assign(sram_entries, 0);
    }

    // Source activation `local` of the current layer, read for the LNZD scan.
    int32_t read_source(const ActPlacement& in, uint64_t local, PeStats& st) const {
        if (in.in_sram) {
            ++st.act_sram_reads;
            return sram_[in.sram_base + local];
        }
        ++st.src_rf_reads;
        return src_[local];
    }

    int32_t* dst() { return dst_.data(); }
    void clear_dst() { std::fill(dst_.begin(), dst_.end(), 0); }

    // End of a batch whose output lives in the activation SRAM: `rows`
    // destination registers are written out (one word per cycle), with the
    // activation function applied.
    void write_back(const ActPlacement& out, uint64_t first_local, uint32_t rows, Activation f, PeStats& st) {
        for (uint32_t k = 0; k < rows; ++k) {
            sram_[out.sram_base + first_local + k] = f == Activation::relu ? fx::relu(dst_[k]) : dst_[k];
            ++st.act_sram_writes;
        }
    }

    // End of a layer whose output stays in the register files: the
    // destination becomes the source, through the activation function.
    void swap(Activation f) {
        if (f == Activation::relu)
            for (auto& v : dst_) v = fx::relu(v);
        std::swap(src_, dst_);
    }

    std::vector<int32_t>& src_rf() { return src_; }
    std::vector<int32_t>& dst_rf() { return dst_; }
    std::vector<int32_t>& sram() { return sram_; }
    const std::vector<int32_t>& src_rf() const { return src_; }
    const std::vector<int32_t>& sram() const { return sram_; }

private:
    std::vector<int32_t> src_, dst_, sram_;
};

}  // namespace eie
