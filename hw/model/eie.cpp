#include "eie/hw/model/eie.hpp"

#include <cassert>
#include <cmath>

#include <fmt/format.h>

#include "eie/hw/fixed_point.hpp"
#include "eie/hw/model/closed_form.hpp"
#include "eie/hw/model/memory_map.hpp"
#include "eie/hw/model/output_tap.hpp"

namespace eie {

using namespace sc_core;

Eie::Eie(sc_module_name name, const ArchConfig& arch)
    : sc_module(name),
      arch_(arch),
      period_(arch.clock_period_ns(), SC_NS),
      host_("host_interface", arch, *this),
      socket(host_.socket),
      irq(host_.irq),
      ccu_("ccu", arch) {
    arch_.validate("EIE top level");
    pes_.reserve(arch.num_pes);
    for (uint32_t p = 0; p < arch.num_pes; ++p) {
        pes_.push_back(std::make_unique<Pe>(fmt::format("pe{}", p).c_str(), p, arch_));
        pe_ptrs_.push_back(pes_.back().get());
    }
    SC_METHOD(on_clock);
    sensitive << start_event_;
    dont_initialize();
}

void Eie::set_stall(double probability, uint64_t seed) {
    ccu_.set_stall(probability, seed);
    for (auto& p : pes_) p->set_stall(probability, seed);
}

uint64_t Eie::batch_overhead_cycles() const { return eie::batch_overhead_cycles(arch_); }

// ---------------------------------------------------------------- clocking

void Eie::on_clock() {
    if (!computing_) return;  // static sensitivity: sleep until the next START
    cycle_ = static_cast<uint64_t>(sc_time_stamp() / period_ + 0.5);
    step();
    if (computing_) next_trigger(period_);
}

void Eie::declare_signals(SignalSink& s) const {
    s.declare("layer", 32);
    s.declare("batch", 32);
    s.declare("phase", 2);
}

void Eie::sample_signals(SignalSink& s) const {
    s.value(cycle_layer_);
    s.value(cycle_batch_);
    s.value(uint32_t(cycle_phase_));
}

void Eie::sample_pe_signals(SignalSink& s, uint32_t p) const {
    const bool clocked = cycle_phase_ == Phase::compute || cycle_phase_ == Phase::drain;
    pes_[p]->sample_signals(s, clocked, ccu_.done());
}

void Eie::sample_ccu_signals(SignalSink& s) const { ccu_.sample_signals(s, cycle_phase_ == Phase::compute); }

void Eie::step() {
    cycle_layer_ = layer_;
    cycle_batch_ = batch_;
    cycle_phase_ = phase_;
    LayerStats& ls = stats_.layers.back();
    ++ls.cycles;
    switch (phase_) {
        case Phase::compute: {
            ccu_.cycle(pe_ptrs_, ls);
            bool idle = ccu_.done();
            // The CCU has pushed this cycle's broadcast already, so each PE
            // can commit its own queue right after its cycle.
            for (uint32_t p = 0; p < arch_.num_pes; ++p) {
                Pe& pe = *pes_[p];
                pe.cycle(ls.pe[p]);
                pe.commit(ls.pe[p]);
                idle = idle && pe.front_idle();
            }
            // Everything issued: the arithmetic pipelines need kArithStages
            // more cycles to retire the last entries.
            if (idle) {
                phase_ = Phase::drain;
                drain_left_ = kArithStages;
            }
            break;
        }
        case Phase::drain:
            for (uint32_t p = 0; p < arch_.num_pes; ++p) pes_[p]->cycle(ls.pe[p]);
            if (--drain_left_ == 0) finish_batch();
            break;
        case Phase::writeback:
            ++ls.writeback_cycles;
            if (--wb_left_ == 0) next_batch_or_layer();
            break;
        case Phase::idle: break;
    }
    if (tracer_) tracer_->sample(cycle_, *this);
}

// ------------------------------------------------------ layer state machine

uint32_t Eie::validate_descriptor(const LayerDesc& l) const {
    const uint64_t n = arch_.num_pes, r = arch_.act_rf_entries;
    if (l.in_len == 0 || l.out_len == 0 || l.num_batches == 0) return mmap::kErrBadDescriptor;
    if (uint64_t(l.num_batches) * r * n < l.out_len) return mmap::kErrBadDescriptor;
    if (l.ptr_base + uint64_t(l.num_batches) * l.pointers_per_batch() > arch_.ptr_capacity())
        return mmap::kErrBadDescriptor;
    if (l.codebook_slot >= arch_.codebook_slots) return mmap::kErrBadDescriptor;
    const uint64_t in_local = (l.in_len + n - 1) / n, out_local = (l.out_len + n - 1) / n;
    if (l.input.in_sram ? l.input.sram_base + in_local > arch_.act_sram_entries : in_local > r)
        return mmap::kErrBadDescriptor;
    if (l.output.in_sram ? l.output.sram_base + out_local > arch_.act_sram_entries : l.num_batches != 1)
        return mmap::kErrBadDescriptor;
    const int shift = l.fmt.shift();
    if (shift < fx::kMinShift || shift > fx::kMaxShift || l.fmt.in_frac < 0 || l.fmt.in_frac > int(arch_.act_bits) - 2)
        return mmap::kErrBadDescriptor;
    return mmap::kErrNone;
}

void Eie::start(uint32_t first_layer, uint32_t num_layers, const std::vector<uint32_t>& desc_words) {
    run_layers_.clear();
    outputs_.clear();
    stats_.layers.clear();
    if (num_layers == 0 || uint64_t(first_layer) + num_layers > mmap::kMaxLayers) {
        finish_run(mmap::kErrNoLayers);
        return;
    }
    for (uint32_t k = 0; k < num_layers; ++k) {
        LayerDesc l = mmap::decode_descriptor(&desc_words[size_t(first_layer + k) * mmap::kDescWords]);
        l.name = fmt::format("layer{}", first_layer + k);
        if (uint32_t e = validate_descriptor(l)) {
            finish_run(e);
            return;
        }
        run_layers_.push_back(l);
    }
    computing_ = true;
    run_started_ = std::chrono::steady_clock::now();
    host_.run_started();
    layer_ = 0;
    start_layer();
    // The first computing cycle is the next clock edge.
    const double cycles_now = sc_time_stamp() / period_;
    const double next_edge = std::floor(cycles_now + 1e-9) + 1.0;
    start_event_.notify(period_ * (next_edge - cycles_now));
}

void Eie::start_layer() {
    const LayerDesc& l = run_layers_[layer_];
    LayerStats ls;
    ls.name = l.name;
    ls.in_len = l.in_len;
    ls.out_len = l.out_len;
    ls.batches = l.num_batches;
    ls.pe.assign(arch_.num_pes, PeStats{});
    // The layer's input is in place now: its closed form is known before it runs.
    ls.closed_form_cycles = closed_form_layer(arch_, l, pe_ptrs_);
    stats_.layers.push_back(std::move(ls));
    batch_ = 0;
    start_batch();
}

void Eie::start_batch() {
    const LayerDesc& l = run_layers_[layer_];
    PeBatchContext ctx;
    ctx.entry_base = l.entry_base;
    ctx.ptr_base = l.ptr_base + uint64_t(batch_) * l.pointers_per_batch();
    ctx.row_base = batch_ * arch_.act_rf_entries;
    ctx.codebook_slot = l.codebook_slot;
    ctx.shift = l.fmt.shift();
    for (auto& p : pes_) p->start_batch(ctx);
    ccu_.start_batch(l);
    phase_ = Phase::compute;
}

void Eie::finish_batch() {
    const LayerDesc& l = run_layers_[layer_];
    LayerStats& ls = stats_.layers.back();
    for ([[maybe_unused]] auto& p : pes_) assert(p->arith_empty());  // p unused under NDEBUG
    if (l.output.in_sram) {
        uint64_t wb = 0;
        for (uint32_t p = 0; p < arch_.num_pes; ++p) {
            const uint32_t rows = rows_in_batch(arch_, p, l, batch_);
            pes_[p]->write_back(l.output, uint64_t(batch_) * arch_.act_rf_entries, rows, l.act, ls.pe[p]);
            wb = std::max<uint64_t>(wb, rows);
        }
        if (wb > 0) {
            // one activation-SRAM word per cycle per PE
            phase_ = Phase::writeback;
            wb_left_ = wb;
            return;
        }
    }
    next_batch_or_layer();
}

void Eie::next_batch_or_layer() {
    const LayerDesc& l = run_layers_[layer_];
    if (++batch_ < l.num_batches) {
        start_batch();
        return;
    }
    if (!l.output.in_sram)
        for (auto& p : pes_) p->end_layer(l.act);
    outputs_.push_back(tap_layer_output(l, pe_ptrs_));
    LayerStats& ls = stats_.layers.back();
    ls.useful_macs = ls.pe_total().acc_writes;  // real entries (busy cycles with one lane)
    if (++layer_ < run_layers_.size()) {
        start_layer();
        return;
    }
    finish_run(mmap::kErrNone);
}

void Eie::finish_run(uint32_t error) {
    if (computing_)
        stats_.compute_wall_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - run_started_).count();
    computing_ = false;
    phase_ = Phase::idle;
    if (tracer_) tracer_->finish(cycle_);
    host_.run_finished(error);
}

}  // namespace eie
