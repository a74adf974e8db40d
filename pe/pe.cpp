#include "eie/pe/pe.hpp"

#include <cstring>

namespace eie {

Pe::Pe(sc_core::sc_module_name name, uint32_t id, const ArchConfig& arch)
    : sc_core::sc_module(name), id_(id), arch_(arch), queue_(arch.queue_depth) {
    ptr_read_.configure(arch);
    spmat_read_.configure(arch);
    codebooks_.assign(arch.codebook_slots, std::vector<int32_t>(arch.codebook_entries(), 0));
    act_.configure(arch.act_rf_entries, arch.act_sram_entries);
    arith_.set_lanes(arch.spmat_entries_per_cycle);
    skip_empty_ = arch.skip_empty_columns;
    variant_ = (arch.spmat_entries_per_cycle - 1) * 2 + (skip_empty_ ? 1 : 0);
}

void Pe::start_batch(const PeBatchContext& ctx) {
    arith_.configure(codebooks_[ctx.codebook_slot].data(), ctx.shift, arch_.act_bits);
    arith_.set_row_base(ctx.row_base);
    arith_.clear();
    ptr_read_.start_batch(ctx.entry_base, ctx.ptr_base);
    spmat_read_.start_batch();
    issue_ = ArithIssue{};
    act_.clear_dst();
}

void Pe::set_stall(double probability, uint64_t seed) { stall_.configure(probability, seed, 1 + id_); }

void Pe::declare_signals(SignalSink& s) const {
    s.declare("state", 3);
    s.declare("done", 1);
    queue_.declare_signals(s, arch_);
    ptr_read_.declare_signals(s, arch_);
    spmat_read_.declare_signals(s, arch_);
    arith_.declare_signals(s, arch_);
}

void Pe::sample_signals(SignalSink& s, bool clocked, bool inputs_done) const {
    const bool done = !clocked || (inputs_done && front_idle());
    const uint32_t slot = clocked ? uint32_t(last_slot_) : uint32_t(PeSlot::starved);
    s.value((slot == uint32_t(PeSlot::starved) && done) ? 5u : slot);  // 5 = done (traces/gtkwave/pe_state.txt)
    s.value(done);
    queue_.sample_signals(s);
    ptr_read_.sample_signals(s, clocked);
    spmat_read_.sample_signals(s, issue_, clocked);
    arith_.sample_signals(s, issue_, clocked);
}

uint64_t Pe::column_cost(uint64_t entry_base, uint64_t ptr_addr) const {
    const PointerSram& ptr = ptr_read_.sram();
    const uint64_t b = ptr.word(ptr_addr), e = ptr.word(ptr_addr + 1);
    if (b == e) return ptr_read_.empty_column_cost();
    return spmat_read_.issue_cycles(entry_base + b, entry_base + e);
}

namespace {

// Copies between a 32-bit-word memory and the payload.
template <class Get, class Set>
bool word_access(bool write, uint64_t off, uint8_t* data, uint32_t len, uint64_t words, Get get, Set set) {
    if ((off & 3) || (len & 3)) return false;
    if (off / 4 + len / 4 > words) return false;
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
    return true;
}

}  // namespace

bool Pe::window_access(PeMemory m, bool write, uint64_t off, uint8_t* data, uint32_t len) {
    switch (m) {
        case PeMemory::spmat: {
            auto& bytes = spmat_read_.sram().bytes();
            if (off + len > bytes.size()) return false;
            if (write) std::memcpy(bytes.data() + off, data, len);
            else std::memcpy(data, bytes.data() + off, len);
            return true;
        }
        case PeMemory::ptr_even:
        case PeMemory::ptr_odd: {
            const uint64_t bank = m == PeMemory::ptr_odd ? 1 : 0;
            PointerSram& ptr = ptr_read_.sram();
            const uint64_t words = (ptr.words() + 1 - bank) / 2;
            return word_access(
                write, off, data, len, words, [&](uint64_t i) { return ptr.word(2 * i + bank); },
                [&](uint64_t i, uint32_t v) { ptr.set_word(2 * i + bank, v); });
        }
        case PeMemory::codebook: {
            const uint64_t per = arch_.codebook_entries();
            return word_access(
                write, off, data, len, per * codebooks_.size(),
                [&](uint64_t i) { return static_cast<uint32_t>(codebooks_[i / per][i % per]); },
                [&](uint64_t i, uint32_t v) { codebooks_[i / per][i % per] = int32_t(v); });
        }
        case PeMemory::src_rf:
        case PeMemory::dst_rf:
        case PeMemory::act_sram: {
            std::vector<int32_t>& mem = m == PeMemory::src_rf   ? act_.src_rf()
                                        : m == PeMemory::dst_rf ? act_.dst_rf()
                                                                : act_.sram();
            return word_access(
                write, off, data, len, mem.size(), [&](uint64_t i) { return static_cast<uint32_t>(mem[i]); },
                [&](uint64_t i, uint32_t v) { mem[i] = int32_t(v); });
        }
    }
    return false;
}

Pe::WindowSpan Pe::window_span(PeMemory m, uint64_t off) {
    auto span = [&](void* base, uint64_t begin, uint64_t bytes) {
        return off >= begin && off < begin + bytes ? WindowSpan{static_cast<uint8_t*>(base), begin, bytes}
                                                   : WindowSpan{};
    };
    switch (m) {
        case PeMemory::spmat: return span(spmat_read_.sram().bytes().data(), 0, spmat_read_.sram().bytes().size());
        case PeMemory::ptr_even:
        case PeMemory::ptr_odd: {
            const uint32_t bank = m == PeMemory::ptr_odd ? 1 : 0;
            return span(ptr_read_.sram().bank_data(bank), 0, (ptr_read_.sram().words() + 1 - bank) / 2 * 4);
        }
        case PeMemory::codebook: {
            const uint64_t slot_bytes = arch_.codebook_entries() * 4, slot = off / slot_bytes;
            if (slot >= codebooks_.size()) return {};
            return span(codebooks_[slot].data(), slot * slot_bytes, slot_bytes);
        }
        case PeMemory::src_rf: return span(act_.src_rf().data(), 0, act_.src_rf().size() * 4);
        case PeMemory::dst_rf: return span(act_.dst_rf().data(), 0, act_.dst_rf().size() * 4);
        case PeMemory::act_sram: return span(act_.sram().data(), 0, act_.sram().size() * 4);
    }
    return {};
}

}  // namespace eie
