// The central control unit in computing mode: scans the source activations
// of a batch in packs of N (one per PE), finds the non-zeros with the LNZD
// tree and broadcasts them, one per cycle, to every PE's queue, then the bias
// (index in_len, value 1.0). Timing contract rules T2-T3 (docs/reference.md):
//   - the tree's fill latency (one cycle per level) opens every batch;
//   - a pack with k > 0 non-zeros takes k cycles, an all-zero pack 1 cycle;
//   - a broadcast happens only if every queue has a free slot at the start
//     of the cycle (back-pressure), otherwise the CCU stalls and retries.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <systemc>

#include "eie/ccu/lnzd.hpp"
#include "eie/hw/image.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/signal_sink.hpp"
#include "eie/pe/stall_injector.hpp"

namespace eie {

class Pe;

class Ccu : public sc_core::sc_module {
public:
    Ccu(sc_core::sc_module_name name, const ArchConfig& arch);

    // Starts scanning the input of `layer` for one batch.
    void start_batch(const LayerDesc& layer);
    // One clock; `pes` receive the broadcasts, `ls` the statistics.
    void cycle(std::vector<Pe*>& pes, LayerStats& ls);
    bool done() const { return done_; }

    void set_stall(double probability, uint64_t seed);

    // Waveform views (the last cycle).
    struct View {
        uint32_t pack;        // pack index being scanned
        uint64_t pack_mask;   // non-zero flags of the first 64 PEs of that pack, still to send
        bool valid;           // a broadcast happened
        uint32_t index;       // its column index
        int32_t value;        // its activation value
        bool stall;           // back-pressure stall
        uint32_t stall_pe;    // with stall: the lowest-numbered PE whose full queue held the broadcast
        uint32_t stall_pes;   // with stall: how many PEs' queues were full
        bool filling;         // LNZD fill latency
    };
    View view() const {
        View v = view_;
        v.pack_mask = 0;
        for (uint32_t p = 0; pack_loaded_ && p < tree_.leaves() && p < 64; ++p)
            if (tree_.leaf(p)) v.pack_mask |= 1ull << p;
        return v;
    }
    const LnzdTree& tree() const { return tree_; }

    // Waveform signals of the last cycle; `clocked`: the CCU ran in it.
    void declare_signals(SignalSink& s) const;
    void sample_signals(SignalSink& s, bool clocked) const;

private:

    ArchConfig arch_;
    LnzdTree tree_;
    const LayerDesc* layer_ = nullptr;
    uint32_t packs_ = 0, next_pack_ = 0;
    bool pack_loaded_ = false, bias_pending_ = false, done_ = true;
    uint32_t fill_left_ = 0;
    std::vector<uint8_t> flags_;
    std::vector<int32_t> values_;
    StallInjector stall_;
    View view_{};
};

}  // namespace eie
