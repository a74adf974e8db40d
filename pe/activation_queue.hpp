// The activation queue of a PE: a FIFO of (column index, activation value)
// pairs broadcast by the CCU.
//
// Two-phase semantics (timing contract rule T3, docs/reference.md): push() and pop() made during a
// cycle act on the state committed at the start of that cycle, and commit()
// at the end of the cycle makes them visible. So a pop never makes room for
// a push in the same cycle, and a pushed entry can be popped one cycle later
// at the earliest. Depth D means D usable entries. One push per cycle; the
// pointer read pops one entry per cycle, or, with skip_empty_columns, also
// every empty-flagged entry ahead of it (pop() may then be called several
// times in a cycle, each taking the next committed entry).
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "eie/hw/arch_config.hpp"
#include "eie/pe/signal_sink.hpp"

namespace eie {

struct QueueEntry {
    uint32_t index = 0;     // broadcast column j
    int32_t value = 0;      // a_j, fixed point
    bool nonempty = true;   // the column has entries in this PE (set by the PE at push; skip_empty_columns)
};

class ActivationQueue {
public:
    explicit ActivationQueue(uint32_t depth = 8) { reset(depth); }

    void reset(uint32_t depth) {
        slots_.assign(depth, QueueEntry{});
        head_ = count_ = pops_ = 0;
        pushed_ = false;
    }

    uint32_t depth() const { return static_cast<uint32_t>(slots_.size()); }
    uint32_t occupancy() const { return count_; }  // committed at the start of this cycle
    bool empty() const { return count_ == 0; }
    bool has_room() const { return count_ < slots_.size(); }
    const QueueEntry& head() const { return slots_[head_]; }
    // Committed entries not popped yet in this cycle, and the first of them.
    bool poppable() const { return pops_ < count_; }
    const QueueEntry& next() const { return slots_[wrap(head_ + pops_)]; }

    void push(const QueueEntry& e) {
        assert(has_room() && !pushed_);
        slots_[wrap(head_ + count_)] = e;
        pushed_ = true;
    }

    QueueEntry pop() {
        assert(poppable());
        return slots_[wrap(head_ + pops_++)];
    }

    void commit() {
        if (pops_) {
            head_ = wrap(head_ + pops_);
            count_ -= pops_;
            pops_ = 0;
        }
        if (pushed_) ++count_;
        pushed_ = false;
    }

    // Waveform signals: occupancy and the head entry at the end of the cycle.
    void declare_signals(SignalSink& s, const ArchConfig& a) const {
        s.declare("queue_occupancy", signal_bits(a.queue_depth));
        s.declare("queue_head_index", 32);
        s.declare("queue_head_value", a.act_bits);
    }
    void sample_signals(SignalSink& s) const {
        s.value(count_);
        s.value(empty() ? 0 : head().index, !empty());
        s.value_signed(empty() ? 0 : head().value, !empty());
    }

private:
    uint32_t wrap(uint32_t i) const {
        const uint32_t n = static_cast<uint32_t>(slots_.size());
        return i >= n ? i - n : i;
    }

    std::vector<QueueEntry> slots_;
    uint32_t head_ = 0, count_ = 0, pops_ = 0;
    bool pushed_ = false;
};

}  // namespace eie
