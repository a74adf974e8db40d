// The activation queue of a PE: a FIFO of (column index, activation value)
// pairs broadcast by the CCU.
//
// Two-phase semantics (timing contract rule T3, docs/reference.md): push() and pop() made during a
// cycle act on the state committed at the start of that cycle, and commit()
// at the end of the cycle makes them visible. So a pop never makes room for
// a push in the same cycle, and a pushed entry can be popped one cycle later
// at the earliest. Depth D means D usable entries.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

namespace eie {

struct QueueEntry {
    uint32_t index = 0;  // broadcast column j
    int32_t value = 0;   // a_j, fixed point
};

class ActivationQueue {
public:
    explicit ActivationQueue(uint32_t depth = 8) { reset(depth); }

    void reset(uint32_t depth) {
        slots_.assign(depth, QueueEntry{});
        head_ = count_ = 0;
        pushed_ = popped_ = false;
    }

    uint32_t depth() const { return static_cast<uint32_t>(slots_.size()); }
    uint32_t occupancy() const { return count_; }  // committed at the start of this cycle
    bool empty() const { return count_ == 0; }
    bool has_room() const { return count_ < slots_.size(); }
    const QueueEntry& head() const { return slots_[head_]; }

    void push(const QueueEntry& e) {
        assert(has_room() && !pushed_);
        uint32_t tail = head_ + count_;
        if (tail >= slots_.size()) tail -= static_cast<uint32_t>(slots_.size());
        slots_[tail] = e;
        pushed_ = true;
    }

    QueueEntry pop() {
        assert(!empty() && !popped_);
        popped_ = true;
        return slots_[head_];
    }

    void commit() {
        if (popped_) {
            if (++head_ == slots_.size()) head_ = 0;
            --count_;
        }
        if (pushed_) ++count_;
        pushed_ = popped_ = false;
    }

private:
    std::vector<QueueEntry> slots_;
    uint32_t head_ = 0, count_ = 0;
    bool pushed_ = false, popped_ = false;
};

}  // namespace eie
