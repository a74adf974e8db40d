// The sparse-matrix read stage of a PE: walks the current column's entry
// range, one slot per cycle, reading a sparse-matrix SRAM line into the
// line buffer when the next entry is not in it (the read and the issue share
// the cycle), and hands (v, z, a_j) to the arithmetic unit's S1 register.
//
// Variant spmat_entries_per_cycle = 2 (docs/modelling.md, "PE variants"):
// a slot issues two consecutive entries of the column into the two lanes
// of the arithmetic unit when both are in the buffered line; a pair never
// spans two lines (one line read per cycle) nor two columns (the pointer
// read hands over one column per cycle), so the rows of a pair always
// differ: row(lane 1) = row(lane 0) + z1 + 1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "eie/hw/image.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/pointer_read.hpp"
#include "eie/pe/signal_sink.hpp"
#include "eie/pe/spmat_sram.hpp"

namespace eie {

// What the sparse-matrix read stage did in a cycle (the cycle's class in the statistics).
enum class PeSlot : uint8_t { starved, busy, padding, empty_column, stalled };

constexpr uint32_t kMaxLanes = 2;

struct ArithInput {  // one lane of what the sparse-matrix read stage hands to S1
    bool valid = false;
    bool first_of_column = false;
    uint16_t code = 0;  // v
    uint16_t zeros = 0; // z
    int32_t act = 0;    // a_j of the column
};

// The stage's output register: lane 1 is valid only with lane 0.
struct ArithIssue {
    ArithInput lane[kMaxLanes];
    bool valid() const { return lane[0].valid; }
};

class SpmatRead {
public:
    void configure(const ArchConfig& a) {
        sram_.configure(a, a.spmat_lines());
        line_buf_.assign(a.entries_per_line(), 0);
        weight_bits_ = a.weight_bits;
        lanes_ = a.spmat_entries_per_cycle;
    }
    SpmatSram& sram() { return sram_; }
    const SpmatSram& sram() const { return sram_; }
    uint32_t lanes() const { return lanes_; }

    void start_batch() { buffered_line_ = -1; }  // a new batch starts with an empty line buffer

    // One slot on a column that has entries left: issues up to Lanes of them.
    template <uint32_t Lanes>
    PeSlot issue(ColumnCursor& col, ArithIssue& out, PeStats& st) {
        const uint32_t per = sram_.entries_per_line();
        const uint64_t line = col.addr / per;
        if (int64_t(line) != buffered_line_) {
            sram_.read_line(line, line_buf_.data());
            buffered_line_ = int64_t(line);
            ++st.spmat_line_reads;
        }
        bool real = false;
        for (uint32_t k = 0; k < Lanes; ++k) {
            if (k > 0 && (!col.has_entries() || col.addr / per != line)) break;
            const uint16_t e = line_buf_[col.addr - line * per];
            ArithInput& in = out.lane[k];
            in.valid = true;
            in.first_of_column = col.first;
            in.code = static_cast<uint16_t>(entry_code(e, weight_bits_));
            in.zeros = static_cast<uint16_t>(entry_zeros(e, weight_bits_));
            in.act = col.act;
            real = real || in.code != 0;
            col.first = false;
            ++col.addr;
        }
        return real ? PeSlot::busy : PeSlot::padding;
    }

    // Slots the entries [addr, end) take (the column cost of the closed form).
    uint64_t issue_cycles(uint64_t addr, uint64_t end) const {
        if (lanes_ == 1) return end - addr;
        const uint32_t per = sram_.entries_per_line();
        uint64_t cycles = 0;
        while (addr < end) {  // pairs within each line segment of the range
            const uint64_t seg_end = std::min<uint64_t>(end, (addr / per + 1) * per);
            cycles += (seg_end - addr + lanes_ - 1) / lanes_;
            addr = seg_end;
        }
        return cycles;
    }

    // Waveform signals: the entries issued this cycle (lane 1 with two lanes).
    void declare_signals(SignalSink& s, const ArchConfig& a) const {
        for (uint32_t k = 0; k < lanes_; ++k) {
            s.declare(k ? "issue_valid_l1" : "issue_valid", 1);
            s.declare(k ? "issue_code_l1" : "issue_code", a.weight_bits);
            s.declare(k ? "issue_zeros_l1" : "issue_zeros", a.index_bits);
        }
    }
    void sample_signals(SignalSink& s, const ArithIssue& issued, bool clocked) const {
        for (uint32_t k = 0; k < lanes_; ++k) {
            const ArithInput& in = issued.lane[k];
            const bool v = clocked && in.valid;
            s.value(v);
            s.value(in.code, v);
            s.value(in.zeros, v);
        }
    }

private:
    SpmatSram sram_;
    std::vector<uint16_t> line_buf_;
    int64_t buffered_line_ = -1;
    uint32_t weight_bits_ = 4;
    uint32_t lanes_ = 1;
};

}  // namespace eie
