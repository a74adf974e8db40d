#include "eie/ccu/ccu.hpp"

#include <algorithm>

#include "eie/hw/geometry.hpp"
#include "eie/pe/pe.hpp"

namespace eie {

Ccu::Ccu(sc_core::sc_module_name name, const ArchConfig& arch)
    : sc_core::sc_module(name), arch_(arch), tree_(arch.num_pes, arch.lnzd_fanout) {
    flags_.assign(arch.num_pes, 0);
    values_.assign(arch.num_pes, 0);
}

void Ccu::declare_signals(SignalSink& s) const {
    const uint32_t n = arch_.num_pes;
    s.declare("pack", 32);
    s.declare("pack_mask", std::min<uint32_t>(n, 64));
    s.declare("bcast_valid", 1);
    s.declare("bcast_index", 32);
    s.declare("bcast_value", arch_.act_bits);
    s.declare("backpressure_stall", 1);
    s.declare("stall_pe", std::max<uint32_t>(1, signal_bits(n - 1)));
    s.declare("stall_pes", signal_bits(n));
    s.declare("lnzd_filling", 1);
}

void Ccu::sample_signals(SignalSink& s, bool clocked) const {
    const View v = view();
    s.value(v.pack);
    s.value(v.pack_mask);
    const bool bv = clocked && v.valid;
    s.value(bv);
    s.value(v.index, bv);
    s.value_signed(v.value, bv);
    const bool stall = clocked && v.stall;
    s.value(stall);
    s.value(v.stall_pe, stall);
    s.value(stall ? v.stall_pes : 0u);
    s.value(clocked && v.filling);
}

void Ccu::set_stall(double probability, uint64_t seed) { stall_.configure(probability, seed, 0); }

void Ccu::start_batch(const LayerDesc& layer) {
    layer_ = &layer;
    packs_ = max_local_length(layer.in_len, arch_.num_pes);  // a pack holds one element of each PE
    next_pack_ = 0;
    pack_loaded_ = false;
    bias_pending_ = layer.has_bias;
    fill_left_ = tree_.levels();
    done_ = false;
}

void Ccu::cycle(std::vector<Pe*>& pes, LayerStats& ls) {
    view_.valid = false;
    view_.stall = false;
    view_.stall_pe = 0;
    view_.stall_pes = 0;
    view_.filling = false;
    if (done_) return;
    if (fill_left_) {
        --fill_left_;
        view_.filling = true;
        return;
    }
    if (stall_.hold()) {
        ++ls.ccu.injected_stalls;
        return;
    }
    const uint32_t n = arch_.num_pes;
    auto room = [&] {
        for (Pe* p : pes)
            if (!p->has_room()) return false;
        return true;
    };
    auto broadcast = [&](uint32_t index, int32_t value) {
        for (uint32_t p = 0; p < n; ++p) {
            pes[p]->push(QueueEntry{index, value}, ls.pe[p]);
        }
        ++ls.ccu.broadcasts;
        view_.valid = true;
        view_.index = index;
        view_.value = value;
    };
    // Which queues held the broadcast back: found only in a stall cycle, so free otherwise.
    auto stalled = [&] {
        ++ls.ccu.backpressure_stalls;
        view_.stall = true;
        for (uint32_t p = n; p-- > 0;)
            if (!pes[p]->has_room()) {
                view_.stall_pe = p;
                ++view_.stall_pes;
            }
    };

    if (!pack_loaded_ && next_pack_ < packs_) {
        // Each PE hands its activation of this pack to its LNZD leaf.
        const uint64_t base = uint64_t(next_pack_) * n;
        for (uint32_t p = 0; p < n; ++p) {
            int32_t v = 0;
            if (base + p < layer_->in_len) v = pes[p]->read_source(layer_->input, next_pack_, ls.pe[p]);
            values_[p] = v;
            flags_[p] = v != 0;
        }
        tree_.load(flags_.data());
        pack_loaded_ = true;
        ++ls.ccu.packs;
        view_.pack = next_pack_;
    }
    if (pack_loaded_) {
        ls.ccu.lnzd_node_activations += tree_.nodes();
        const int lead = tree_.lead();
        if (lead < 0) {  // all-zero pack: one cycle, nothing sent
            ++ls.ccu.empty_packs;
            pack_loaded_ = false;
            ++next_pack_;
        } else if (room()) {
            broadcast(next_pack_ * n + uint32_t(lead), values_[lead]);
            tree_.clear(uint32_t(lead));
            if (!tree_.any()) {
                pack_loaded_ = false;
                ++next_pack_;
            }
        } else {
            stalled();
        }
    } else if (bias_pending_) {
        if (room()) {
            broadcast(layer_->in_len, int32_t(1) << layer_->fmt.in_frac);  // 1.0
            bias_pending_ = false;
        } else {
            stalled();
        }
    }
    if (!pack_loaded_ && next_pack_ >= packs_ && !bias_pending_) done_ = true;
}

}  // namespace eie
