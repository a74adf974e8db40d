// The pointer-read stage of a PE: pops the next column from the activation
// queue as soon as the current one has no sparse-matrix slot left, and
// reads the column's pointer pair p[j], p[j+1] in the same cycle, one word
// from each bank of the pointer SRAM. The column it hands on is the entry
// range [addr, end) the sparse-matrix read walks.
//
// A column with no entries in this PE (p[j] == p[j+1]) still costs the
// sparse-matrix read one slot by default (the "empty column" cycle).
//
// Variant skip_empty_columns (docs/modelling.md, "PE variants"): each
// pointer word carries a non-empty bit for its column (1 bit per pointer
// word, written with the pointers: bit j = p[j+1] != p[j]), read when the
// broadcast enters the queue and kept with the queue entry. When this stage
// pops, it drops every empty-flagged entry at the head of the queue in the
// same cycle (a leading-one detector over the queue's flags, as the LNZD
// node does over activations) and takes the first non-empty one, so an
// empty column costs no cycle and no pointer read.
#pragma once

#include <cstdint>

#include "eie/hw/arch_config.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/activation_queue.hpp"
#include "eie/pe/pointer_sram.hpp"
#include "eie/pe/signal_sink.hpp"

namespace eie {

// The column the sparse-matrix read is walking: absolute entry addresses
// [addr, end), whether the next entry is its first, and its activation.
struct ColumnCursor {
    uint64_t addr = 0, end = 0;
    bool first = false;
    int32_t act = 0;
    bool has_entries() const { return addr < end; }
};

class PointerRead {
public:
    void configure(const ArchConfig& a) {
        sram_.resize(a.ptr_capacity());
        skip_empty_ = a.skip_empty_columns;
    }
    PointerSram& sram() { return sram_; }
    const PointerSram& sram() const { return sram_; }
    bool skips_empty_columns() const { return skip_empty_; }

    void start_batch(uint64_t entry_base, uint64_t ptr_base) {
        entry_base_ = entry_base;
        ptr_base_ = ptr_base;
        col_ = ColumnCursor{};
        pending_empty_ = false;
    }

    ColumnCursor& column() { return col_; }
    const ColumnCursor& column() const { return col_; }
    // A popped empty column owes the sparse-matrix read its one slot.
    bool owes_empty_slot() const { return pending_empty_; }
    void take_empty_slot() { pending_empty_ = false; }
    bool idle() const { return !pending_empty_ && !col_.has_entries(); }

    // The non-empty bit of broadcast column j of this batch (read at push).
    bool nonempty(uint32_t j) const { return entries(ptr_base_ + j) != 0; }
    // Entries of the column whose pointer pair starts at `ptr_addr` (no access counted).
    uint64_t entries(uint64_t ptr_addr) const { return sram_.word(ptr_addr + 1) - sram_.word(ptr_addr); }
    // Sparse-matrix slots an empty column costs.
    uint64_t empty_column_cost() const { return skip_empty_ ? 0 : 1; }

    // After the sparse-matrix read's slot: pop the next column when the
    // current one has no slot left (and no stall holds the front end).
    template <bool SkipEmpty>
    void cycle(ActivationQueue& q, bool stall, PeStats& st) {
        popped_ = false;
        if (stall || pending_empty_ || col_.has_entries() || !q.poppable()) return;
        if (SkipEmpty) {
            dropped_ = 0;
            while (q.poppable() && !q.next().nonempty) {
                q.pop();
                ++st.queue_pops;
                ++st.columns;
                ++dropped_;
            }
            if (!q.poppable()) return;
        }
        const QueueEntry e = q.pop();
        ++st.queue_pops;
        ++st.columns;
        auto [b, end] = sram_.read_pair(ptr_base_ + e.index, st.ptr_reads_even, st.ptr_reads_odd);
        col_.addr = entry_base_ + b;
        col_.end = entry_base_ + end;
        col_.first = true;
        col_.act = e.value;
        pending_empty_ = (b == end);
        popped_ = true;
        pop_index_ = e.index;
        ptr_start_ = b;
        ptr_end_ = end;
    }
    void clear_events() {
        popped_ = false;
        dropped_ = 0;
    }

    // Waveform signals: the pop of this cycle, the last pointer pair read and
    // the column being walked; with skip_empty_columns, the empty columns dropped.
    void declare_signals(SignalSink& s, const ArchConfig& a) const {
        const uint32_t addr = signal_bits(a.spmat_capacity_entries());
        s.declare("popped", 1);
        s.declare("popped_index", 32);
        s.declare("ptr_start", a.ptr_bits);
        s.declare("ptr_end", a.ptr_bits);
        s.declare("entry_addr", addr);
        s.declare("entry_end", addr);
        if (skip_empty_) s.declare("skipped_columns", signal_bits(a.queue_depth));
    }
    void sample_signals(SignalSink& s, bool clocked) const {
        const bool popped = clocked && popped_;
        s.value(popped);
        s.value(pop_index_, popped);
        s.value(ptr_start_);
        s.value(ptr_end_);
        s.value(col_.addr);
        s.value(col_.end);
        if (skip_empty_) s.value(clocked ? dropped_ : 0);
    }

private:
    PointerSram sram_;
    bool skip_empty_ = false;
    uint64_t entry_base_ = 0, ptr_base_ = 0;
    ColumnCursor col_;
    bool pending_empty_ = false;
    // this cycle's events and the last pair read, for waveforms
    bool popped_ = false;
    uint32_t dropped_ = 0;
    uint32_t pop_index_ = 0, ptr_start_ = 0, ptr_end_ = 0;
};

}  // namespace eie
