#include "eie/hw/model/eie.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "eie/hw/fixed_point.hpp"

namespace eie {

using namespace sc_core;

Eie::Eie(sc_module_name name, const ArchConfig& arch)
    : sc_module(name),
      socket("socket"),
      irq("irq"),
      arch_(arch),
      period_(arch.clock_period_ns(), SC_NS),
      ccu_("ccu", arch) {
    arch_.validate("EIE top level");
    pes_.reserve(arch.num_pes);
    for (uint32_t p = 0; p < arch.num_pes; ++p) {
        pes_.push_back(std::make_unique<Pe>(fmt::format("pe{}", p).c_str(), p, arch_));
        pe_ptrs_.push_back(pes_.back().get());
    }
    desc_words_.assign(size_t(mmap::kMaxLayers) * mmap::kDescWords, 0);
    socket.register_b_transport(this, &Eie::b_transport);
    SC_METHOD(on_clock);
    sensitive << start_event_;
    dont_initialize();
}

void Eie::set_stall(double probability, uint64_t seed) {
    ccu_.set_stall(probability, seed);
    for (auto& p : pes_) p->set_stall(probability, seed);
}

// ---------------------------------------------------------------- clocking

void Eie::on_clock() {
    if (!computing_) return;  // static sensitivity: sleep until the next START
    cycle_ = static_cast<uint64_t>(sc_time_stamp() / period_ + 0.5);
    step();
    if (computing_) next_trigger(period_);
}

void Eie::step() {
    LayerStats& ls = stats_.layers.back();
    ++ls.cycles;
    switch (phase_) {
        case Phase::compute: {
            ccu_.cycle(pe_ptrs_, ls);
            bool idle = ccu_.done();
            // The CCU has pushed this cycle's broadcast already, so each PE
            // can commit its own queue right after its cycle.
            for (uint32_t p = 0; p < arch_.num_pes; ++p) {
                pes_[p]->cycle(ls.pe[p]);
                ActivationQueue& q = pes_[p]->queue();
                q.commit();
                if (q.occupancy() > ls.pe[p].queue_max_occupancy) ls.pe[p].queue_max_occupancy = q.occupancy();
                idle = idle && pes_[p]->front_idle();
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

bool Eie::start_run() {
    run_layers_.clear();
    outputs_.clear();
    stats_.layers.clear();
    if (num_layers_ == 0 || uint64_t(first_layer_) + num_layers_ > mmap::kMaxLayers) {
        finish_run(mmap::kErrNoLayers);
        return false;
    }
    for (uint32_t k = 0; k < num_layers_; ++k) {
        LayerDesc l = mmap::decode_descriptor(&desc_words_[size_t(first_layer_ + k) * mmap::kDescWords]);
        l.name = fmt::format("layer{}", first_layer_ + k);
        if (uint32_t e = validate_descriptor(l)) {
            finish_run(e);
            return false;
        }
        run_layers_.push_back(l);
    }
    computing_ = true;
    run_started_ = std::chrono::steady_clock::now();
    status_ = mmap::kStatusBusy;
    layer_ = 0;
    start_layer();
    // The first computing cycle is the next clock edge.
    const double cycles_now = sc_time_stamp() / period_;
    const double next_edge = std::floor(cycles_now + 1e-9) + 1.0;
    start_event_.notify(period_ * (next_edge - cycles_now));
    return true;
}

void Eie::start_layer() {
    const LayerDesc& l = run_layers_[layer_];
    LayerStats ls;
    ls.name = l.name;
    ls.in_len = l.in_len;
    ls.out_len = l.out_len;
    ls.batches = l.num_batches;
    ls.pe.assign(arch_.num_pes, PeStats{});
    stats_.layers.push_back(std::move(ls));
    batch_ = 0;
    start_batch();
}

uint32_t Eie::rows_in_batch(uint32_t pe, const LayerDesc& l, uint32_t batch) const {
    const uint64_t n = arch_.num_pes, r = arch_.act_rf_entries;
    const uint64_t local = pe < l.out_len ? (l.out_len - pe + n - 1) / n : 0;
    const uint64_t first = uint64_t(batch) * r;
    return local > first ? static_cast<uint32_t>(std::min(r, local - first)) : 0;
}

void Eie::start_batch() {
    const LayerDesc& l = run_layers_[layer_];
    for (uint32_t p = 0; p < arch_.num_pes; ++p) {
        PeBatchContext ctx;
        ctx.entry_base = l.entry_base;
        ctx.ptr_base = l.ptr_base + uint64_t(batch_) * l.pointers_per_batch();
        ctx.row_base = batch_ * arch_.act_rf_entries;
        ctx.codebook = pes_[p]->codebooks()[l.codebook_slot].data();
        ctx.shift = l.fmt.shift();
        ctx.act_bits = arch_.act_bits;
        pes_[p]->start_batch(ctx);
    }
    ccu_.start_batch(l);
    stats_.layers.back().closed_form_cycles += closed_form_batch(l, batch_);
    phase_ = Phase::compute;
}

// Timing contract rule T7 (docs/reference.md): max over PEs of the sum over broadcast columns of
// max(1, n_pj), plus the fixed overhead; exact when no PE starves.
uint64_t Eie::closed_form_batch(const LayerDesc& l, uint32_t batch) const {
    const uint32_t n = arch_.num_pes;
    std::vector<uint32_t> cols;
    for (uint32_t j = 0; j < l.in_len; ++j) {
        const Pe& owner = *pes_[j % n];
        const uint64_t local = j / n;
        int32_t v = l.input.in_sram ? owner.act_view_sram(l.input.sram_base + local) : owner.act_view_src(local);
        if (v != 0) cols.push_back(j);
    }
    if (l.has_bias) cols.push_back(l.in_len);
    uint64_t worst = 0;
    const uint64_t base = l.ptr_base + uint64_t(batch) * l.pointers_per_batch();
    for (uint32_t p = 0; p < n; ++p) {
        const PointerSram& ptr = pes_[p]->pointers();
        uint64_t sum = 0;
        for (uint32_t j : cols) sum += std::max<uint64_t>(1, ptr.word(base + j + 1) - ptr.word(base + j));
        worst = std::max(worst, sum);
    }
    uint64_t wb = 0;
    if (l.output.in_sram)
        for (uint32_t p = 0; p < n; ++p) wb = std::max<uint64_t>(wb, rows_in_batch(p, l, batch));
    return worst + batch_overhead_cycles() + wb;
}

void Eie::finish_batch() {
    const LayerDesc& l = run_layers_[layer_];
    LayerStats& ls = stats_.layers.back();
    for (auto& p : pes_) assert(p->arith_empty());
    (void)ls;
    if (l.output.in_sram) {
        uint64_t wb = 0;
        for (uint32_t p = 0; p < arch_.num_pes; ++p) {
            const uint32_t rows = rows_in_batch(p, l, batch_);
            pes_[p]->act().write_back(l.output, uint64_t(batch_) * arch_.act_rf_entries, rows, l.act, ls.pe[p]);
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
        for (auto& p : pes_) p->act().swap(l.act);
    outputs_.push_back(gather_output(l));
    LayerStats& ls = stats_.layers.back();
    ls.useful_macs = ls.pe_total().busy_cycles;
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
    error_ = error;
    status_ = mmap::kStatusDone | (error ? mmap::kStatusError : 0u);
    if (tracer_) tracer_->finish(cycle_);
    irq.write(ctrl_irq_enable_ != 0);
}

std::vector<int32_t> Eie::gather_output(const LayerDesc& l) const {
    std::vector<int32_t> out(l.out_len);
    const uint32_t n = arch_.num_pes;
    for (uint32_t i = 0; i < l.out_len; ++i) {
        const Pe& p = *pes_[i % n];
        out[i] = l.output.in_sram ? p.act_view_sram(l.output.sram_base + i / n) : p.act_view_src(i / n);
    }
    return out;
}

// ------------------------------------------------------------ host interface

void Eie::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
    const bool write = trans.get_command() == tlm::TLM_WRITE_COMMAND;
    if (!write && trans.get_command() != tlm::TLM_READ_COMMAND) {
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (trans.get_byte_enable_ptr()) {
        trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    const uint32_t len = trans.get_data_length();
    if (trans.get_streaming_width() < len) {
        trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    const uint64_t addr = trans.get_address();
    tlm::tlm_response_status rs = addr >= mmap::kPeBase ? access_pe(write, addr, trans.get_data_ptr(), len)
                                                        : access_register(write, addr, trans.get_data_ptr(), len);
    trans.set_response_status(rs);
    if (rs == tlm::TLM_OK_RESPONSE) {
        // I/O mode time: the DMA moves dma_bits per cycle.
        const uint64_t io = (uint64_t(len) * 8 + arch_.dma_bits - 1) / arch_.dma_bits;
        stats_.io_cycles += io;
        stats_.io_bytes += len;
        delay += period_ * double(io);
    }
}

tlm::tlm_response_status Eie::access_register(bool write, uint64_t addr, uint8_t* data, uint32_t len) {
    if (addr >= mmap::kDescBase && addr < mmap::kDescEnd) {
        if ((addr & 3) || (len & 3) || len == 0 || addr + len > mmap::kDescEnd) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
        if (write && computing_) return tlm::TLM_GENERIC_ERROR_RESPONSE;
        uint32_t* w = &desc_words_[(addr - mmap::kDescBase) / 4];
        if (write) std::memcpy(w, data, len);
        else std::memcpy(data, w, len);
        return tlm::TLM_OK_RESPONSE;
    }
    if (len != 4 || (addr & 3)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    uint32_t v = 0;
    if (write) std::memcpy(&v, data, 4);
    if (addr > mmap::kRegLast) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (write) {
        switch (addr) {
            case mmap::kRegCtrl:
                if (v & mmap::kCtrlIrqClear) {
                    status_ &= ~mmap::kStatusDone;
                    irq.write(false);
                }
                ctrl_irq_enable_ = (v & mmap::kCtrlIrqEnable) ? 1 : 0;
                if (v & mmap::kCtrlStart) {
                    if (computing_) return tlm::TLM_GENERIC_ERROR_RESPONSE;
                    irq.write(false);
                    start_run();
                }
                return tlm::TLM_OK_RESPONSE;
            case mmap::kRegFirstLayer:
                if (computing_) return tlm::TLM_GENERIC_ERROR_RESPONSE;
                first_layer_ = v;
                return tlm::TLM_OK_RESPONSE;
            case mmap::kRegNumLayers:
                if (computing_) return tlm::TLM_GENERIC_ERROR_RESPONSE;
                num_layers_ = v;
                return tlm::TLM_OK_RESPONSE;
            default: return tlm::TLM_COMMAND_ERROR_RESPONSE;  // read-only
        }
    }
    const uint64_t cycles = stats_.compute_cycles();
    switch (addr) {
        case mmap::kRegId: v = mmap::kIdValue; break;
        case mmap::kRegCtrl: v = ctrl_irq_enable_ ? mmap::kCtrlIrqEnable : 0; break;
        case mmap::kRegStatus: v = status_; break;
        case mmap::kRegFirstLayer: v = first_layer_; break;
        case mmap::kRegNumLayers: v = num_layers_; break;
        case mmap::kRegCyclesLo: v = static_cast<uint32_t>(cycles); break;
        case mmap::kRegCyclesHi: v = static_cast<uint32_t>(cycles >> 32); break;
        case mmap::kRegNumPes: v = arch_.num_pes; break;
        case mmap::kRegMaxLayers: v = mmap::kMaxLayers; break;
        case mmap::kRegError: v = error_; break;
        default: return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    }
    std::memcpy(data, &v, 4);
    return tlm::TLM_OK_RESPONSE;
}

namespace {

// Copies between a 32-bit-word region and the payload.
template <class Get, class Set>
tlm::tlm_response_status word_access(bool write, uint64_t off, uint8_t* data, uint32_t len, uint64_t words,
                                     Get get, Set set) {
    if ((off & 3) || (len & 3)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (off / 4 + len / 4 > words) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    for (uint32_t k = 0; k < len / 4; ++k) {
        uint32_t v;
        if (write) {
            std::memcpy(&v, data + 4 * k, 4);
            set(off / 4 + k, v);
        } else {
            v = get(off / 4 + k);
            std::memcpy(data + 4 * k, &v, 4);
        }
    }
    return tlm::TLM_OK_RESPONSE;
}

}  // namespace

tlm::tlm_response_status Eie::access_pe(bool write, uint64_t addr, uint8_t* data, uint32_t len) {
    const uint64_t rel = addr - mmap::kPeBase;
    const uint64_t pe = rel >> mmap::kPeShift;
    const uint32_t region = static_cast<uint32_t>((rel >> mmap::kRegionShift) & ((1u << (mmap::kPeShift - mmap::kRegionShift)) - 1));
    const uint64_t off = rel & ((uint64_t(1) << mmap::kRegionShift) - 1);
    if (pe >= arch_.num_pes || region >= mmap::kRegions) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (off + len > (uint64_t(1) << mmap::kRegionShift)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (computing_) return tlm::TLM_GENERIC_ERROR_RESPONSE;  // PE memories belong to the array
    Pe& p = *pes_[pe];
    switch (region) {
        case mmap::kSpmat: {
            auto& bytes = p.spmat().bytes();
            if (off + len > bytes.size()) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
            if (write) std::memcpy(bytes.data() + off, data, len);
            else std::memcpy(data, bytes.data() + off, len);
            return tlm::TLM_OK_RESPONSE;
        }
        case mmap::kPtrEven:
        case mmap::kPtrOdd: {
            PointerSram& ptr = p.pointers();
            const uint64_t bank = region == mmap::kPtrOdd ? 1 : 0;
            const uint64_t words = (ptr.words() + 1 - bank) / 2;
            return word_access(
                write, off, data, len, words, [&](uint64_t i) { return ptr.word(2 * i + bank); },
                [&](uint64_t i, uint32_t v) { ptr.set_word(2 * i + bank, v); });
        }
        case mmap::kCodebook: {
            auto& cbs = p.codebooks();
            const uint64_t per = arch_.codebook_entries();
            return word_access(
                write, off, data, len, per * cbs.size(),
                [&](uint64_t i) { return static_cast<uint32_t>(cbs[i / per][i % per]); },
                [&](uint64_t i, uint32_t v) { cbs[i / per][i % per] = int32_t(v); });
        }
        default: {
            std::vector<int32_t>& mem = region == mmap::kSrcRf   ? p.act().src_rf()
                                        : region == mmap::kDstRf ? p.act().dst_rf()
                                                                 : p.act().sram();
            return word_access(
                write, off, data, len, mem.size(), [&](uint64_t i) { return static_cast<uint32_t>(mem[i]); },
                [&](uint64_t i, uint32_t v) { mem[i] = int32_t(v); });
        }
    }
}

}  // namespace eie
