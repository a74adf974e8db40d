#include "eie/pe/pe.hpp"

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
    arith_.configure(ctx.codebook, ctx.shift, ctx.act_bits);
    arith_.set_row_base(ctx.row_base);
    arith_.clear();
    addr_ = end_ = 0;
    pending_empty_ = false;
    issue_ = ArithInput{};
    buffered_line_ = -1;  // a new batch starts with an empty line buffer
    act_.clear_dst();
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
