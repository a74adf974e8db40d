#include "eie/pe/pe.hpp"

#include <cstring>

namespace eie {

Pe::Pe(sc_core::sc_module_name name, uint32_t id, const ArchConfig& arch)
    : sc_core::sc_module(name), id_(id), arch_(arch), queue_(arch.queue_depth) {
    spmat_.configure(arch, arch.spmat_lines());
    ptr_.resize(arch.ptr_capacity());
    codebooks_.assign(arch.codebook_slots, std::vector<int32_t>(arch.codebook_entries(), 0));
    act_.configure(arch.act_rf_entries, arch.act_sram_entries);
    line_buf_.assign(arch.entries_per_line(), 0);
}

void Pe::start_batch(const PeBatchContext& ctx) {
    ctx_ = ctx;
    arith_.configure(codebooks_[ctx.codebook_slot].data(), ctx.shift, arch_.act_bits);
    arith_.set_row_base(ctx.row_base);
    arith_.clear();
    addr_ = end_ = 0;
    pending_empty_ = false;
    issue_ = ArithInput{};
    buffered_line_ = -1;  // a new batch starts with an empty line buffer
    act_.clear_dst();
}

uint64_t Pe::column_cost(uint64_t /*entry_base*/, uint64_t ptr_addr) const {
    const uint64_t n = ptr_.word(ptr_addr + 1) - ptr_.word(ptr_addr);
    return n ? n : 1;  // an empty column still takes its slot
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
            auto& bytes = spmat_.bytes();
            if (off + len > bytes.size()) return false;
            if (write) std::memcpy(bytes.data() + off, data, len);
            else std::memcpy(data, bytes.data() + off, len);
            return true;
        }
        case PeMemory::ptr_even:
        case PeMemory::ptr_odd: {
            const uint64_t bank = m == PeMemory::ptr_odd ? 1 : 0;
            const uint64_t words = (ptr_.words() + 1 - bank) / 2;
            return word_access(
                write, off, data, len, words, [&](uint64_t i) { return ptr_.word(2 * i + bank); },
                [&](uint64_t i, uint32_t v) { ptr_.set_word(2 * i + bank, v); });
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
        case PeMemory::spmat: return span(spmat_.bytes().data(), 0, spmat_.bytes().size());
        case PeMemory::ptr_even:
        case PeMemory::ptr_odd: {
            const uint32_t bank = m == PeMemory::ptr_odd ? 1 : 0;
            return span(ptr_.bank_data(bank), 0, (ptr_.words() + 1 - bank) / 2 * 4);
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

void Pe::set_stall(double probability, uint64_t seed) { stall_.configure(probability, seed, 1 + id_); }

PeSlot Pe::cycle(PeStats& st) {
    // A PE with nothing anywhere only starves: skip the stages (the common
    // case in sparse layers and during drains, so worth the test).
    if (!issue_.valid && addr_ >= end_ && !pending_empty_ && queue_.empty() && !stall_.enabled() && arith_.empty()) {
        ++st.starved_cycles;
        last_slot_ = PeSlot::starved;
        popped_ = false;
        return PeSlot::starved;
    }
    // Arithmetic unit: S1..S4 consume the entry issued last cycle.
    arith_.cycle(issue_, act_.dst(), st);

    // Sparse-matrix read stage: one slot per cycle.
    ArithInput out;
    PeSlot slot;
    const bool stall = stall_.hold();
    if (stall) {
        slot = PeSlot::stalled;
    } else if (pending_empty_) {
        pending_empty_ = false;
        slot = PeSlot::empty_column;
    } else if (addr_ < end_) {
        const uint32_t per = spmat_.entries_per_line();
        const uint64_t line = addr_ / per;
        if (int64_t(line) != buffered_line_) {
            spmat_.read_line(line, line_buf_.data());
            buffered_line_ = int64_t(line);
            ++st.spmat_line_reads;
        }
        const uint16_t e = line_buf_[addr_ - line * per];
        out.valid = true;
        out.first_of_column = first_;
        out.code = static_cast<uint16_t>(entry_code(e, arch_.weight_bits));
        out.zeros = static_cast<uint16_t>(entry_zeros(e, arch_.weight_bits));
        out.act = col_act_;
        first_ = false;
        ++addr_;
        slot = out.code ? PeSlot::busy : PeSlot::padding;
    } else {
        slot = PeSlot::starved;
    }

    // Pointer read stage: pop the next column as soon as the current one has
    // no slot left, reading p[j] and p[j+1] from the two banks in this cycle.
    popped_ = false;
    if (!stall && !pending_empty_ && addr_ >= end_ && !queue_.empty()) {
        const QueueEntry q = queue_.pop();
        ++st.queue_pops;
        ++st.columns;
        auto [b, e] = ptr_.read_pair(ctx_.ptr_base + q.index, st.ptr_reads_even, st.ptr_reads_odd);
        addr_ = ctx_.entry_base + b;
        end_ = ctx_.entry_base + e;
        pending_empty_ = (b == e);
        first_ = true;
        col_act_ = q.value;
        popped_ = true;
        pop_index_ = q.index;
        ptr_start_ = b;
        ptr_end_ = e;
    }
    issue_ = out;

    switch (slot) {
        case PeSlot::busy: ++st.busy_cycles; break;
        case PeSlot::padding: ++st.padding_cycles; break;
        case PeSlot::empty_column: ++st.empty_col_cycles; break;
        case PeSlot::starved: ++st.starved_cycles; break;
        case PeSlot::stalled: ++st.stall_cycles; break;
    }
    last_slot_ = slot;
    return slot;
}

}  // namespace eie
