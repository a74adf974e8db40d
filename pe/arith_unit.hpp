// The arithmetic unit of a PE: the paper's four stages with bypassing.
//   S1  codebook look-up (v -> 16-bit weight) and row-address accumulation
//   S2  destination read and multiply
//   S3  shift and add (saturating, hw/fixed_point.hpp)
//   S4  destination write
// A destination written in S4 during cycle t is visible to reads from t+1 on.
// Two hazards are forwarded from the S4 register, so one entry per cycle is
// correct whatever the row sequence:
//   distance 1 (back to back): the follower read the register in S2 while
//     the leader was in S3; at S3 it takes the leader's sum from S4 instead.
//   distance 2: the follower reads in S2 in the very cycle the leader writes
//     in S4; it takes the leader's sum from S4 instead of the stale register.
// Padding entries (v = 0) flow through with their write disabled.
//
// With spmat_entries_per_cycle = 2 the unit has two lanes (two codebook
// read ports, two multipliers and adders, two destination read and write
// ports). The rows of a pair differ (spmat_read.hpp), so the lanes never
// write the same register in a cycle; S1 chains the row adders (lane 1's
// row = lane 0's row + z1 + 1), and each lane's forwarding compares its row
// with both lanes of the S4 register (at most one matches).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eie/hw/arch_config.hpp"
#include "eie/hw/fixed_point.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/signal_sink.hpp"
#include "eie/pe/spmat_read.hpp"

namespace eie {

class ArithUnit {
public:
    struct S1 { bool valid = false, we = false; uint32_t row = 0; int32_t weight = 0; int32_t act = 0; };
    struct S2 { bool valid = false, we = false; uint32_t row = 0; int64_t term = 0; int32_t acc = 0; };
    struct S3 { bool valid = false, we = false; uint32_t row = 0; int32_t sum = 0; };

    void configure(const int32_t* codebook, int shift, uint32_t act_bits) {
        codebook_ = codebook;
        shift_ = shift;
        act_bits_ = act_bits;
    }
    void set_lanes(uint32_t lanes) { lanes_ = lanes; }
    uint32_t lanes() const { return lanes_; }
    // Row address restarts at the batch's first local row for each column.
    void set_row_base(uint32_t base) { row_base_ = base; }
    void clear() {
        for (uint32_t k = 0; k < kMaxLanes; ++k) {
            s2_[k] = {};
            s3_[k] = {};
            s4_[k] = {};
        }
    }
    // Lane 1 is only ever occupied beside lane 0.
    bool empty() const { return !(s2_[0].valid || s3_[0].valid || s4_[0].valid); }

    // One clock. `in` is the sparse-matrix read stage's output register (the
    // entries it issued in the previous cycle), consumed by S1 now. `dst` is
    // the destination register file indexed by local row minus the batch
    // base. Stages are evaluated from the back so each reads the register
    // values of the start of the cycle.
    template <uint32_t Lanes>
    void cycle(const ArithIssue& in, int32_t* dst, PeStats& st) {
        S3 w4[Lanes];  // the entries in S4 this cycle
        bypass_d1_ = bypass_d2_ = false;
        for (uint32_t k = 0; k < Lanes; ++k) {
            w4[k] = s4_[k];
            written_[k] = w4[k];
            // S4: destination write
            if (w4[k].valid && w4[k].we) {
                dst[w4[k].row - row_base_] = w4[k].sum;
                ++st.dst_rf_writes;
                ++st.acc_writes;
            }
        }
        // The S4 sum for `row`, if a lane of S4 writes it this cycle.
        auto forwarded = [&](uint32_t row, int32_t& sum) {
            for (uint32_t y = 0; y < Lanes; ++y)
                if (w4[y].valid && w4[y].we && w4[y].row == row) {
                    sum = w4[y].sum;
                    return true;
                }
            return false;
        };
        for (uint32_t k = 0; k < Lanes; ++k) {
            // S3: shift and add, forwarding a back-to-back leader's sum from S4
            const S2& a3 = s3_[k];
            S3 n4;
            if (a3.valid) {
                n4.valid = true;
                n4.we = a3.we;
                n4.row = a3.row;
                if (a3.we) {
                    int32_t acc = a3.acc;
                    if (forwarded(a3.row, acc)) {
                        ++st.bypass_s3;
                        bypass_d1_ = true;
                    }
                    n4.sum = fx::accumulate(acc, a3.term, act_bits_);
                    ++st.adds;
                }
            }
            s4_[k] = n4;
        }
        for (uint32_t k = 0; k < Lanes; ++k) {
            // S2: destination read (forwarded from S4 when it writes the same row) and multiply
            const S1& a2 = s2_[k];
            S2 n3;
            if (a2.valid) {
                n3.valid = true;
                n3.we = a2.we;
                n3.row = a2.row;
                if (a2.we) {
                    if (forwarded(a2.row, n3.acc)) {
                        ++st.bypass_s2;
                        bypass_d2_ = true;
                    } else {
                        n3.acc = dst[a2.row - row_base_];
                    }
                    ++st.dst_rf_reads;
                    n3.term = fx::product_term(a2.act, a2.weight, shift_);
                    ++st.multiplies;
                }
            }
            s3_[k] = n3;
        }
        for (uint32_t k = 0; k < Lanes; ++k) {
            // S1: codebook look-up and row accumulation (chained across lanes)
            const ArithInput& i1 = in.lane[k];
            S1 n2;
            if (i1.valid) {
                row_ = next_row(i1);
                n2.valid = true;
                n2.we = i1.code != 0;
                n2.row = row_;
                n2.act = i1.act;
                n2.weight = codebook_[i1.code];
                ++st.codebook_lookups;
            }
            s2_[k] = n2;
        }
    }
    // Nothing ran this cycle (an idle PE skips the unit): no events.
    void clear_events() {
        bypass_d1_ = bypass_d2_ = false;
        for (auto& w : written_) w.valid = false;
    }

    // Waveform signals: the row S1 computes next cycle for each issued entry,
    // the pipeline registers at the end of the cycle, the bypasses taken and
    // the destination writes of this cycle.
    void declare_signals(SignalSink& s, const ArchConfig& a) const {
        const uint32_t act = a.act_bits;
        for (uint32_t k = 0; k < lanes_; ++k) {
            const char* l = k ? "_l1" : "";
            auto d = [&](const char* name, uint32_t width) { s.declare((std::string(name) + l).c_str(), width); };
            d("issue_row", 32);
            d("s2_valid", 1);
            d("s2_row", 32);
            d("s2_weight", a.codebook_value_bits);
            d("s3_valid", 1);
            d("s3_row", 32);
            d("s3_term", 64);
            d("s3_acc", act);
            d("s4_valid", 1);
            d("s4_row", 32);
            d("s4_sum", act);
            if (k == 0) {
                s.declare("bypass_d1", 1);
                s.declare("bypass_d2", 1);
            }
            d("dst_write", 1);
            d("dst_row", 32);
            d("dst_value", act);
        }
    }
    void sample_signals(SignalSink& s, const ArithIssue& issued, bool clocked) const {
        uint32_t row = row_;
        for (uint32_t k = 0; k < lanes_; ++k) {
            const ArithInput& in = issued.lane[k];
            const bool v = clocked && in.valid;
            if (in.valid) row = in.first_of_column ? row_base_ + in.zeros : row + in.zeros + 1;
            s.value(row, v);
            s.value(s2_[k].valid);
            s.value(s2_[k].row, s2_[k].valid);
            s.value_signed(s2_[k].weight, s2_[k].valid);
            s.value(s3_[k].valid);
            s.value(s3_[k].row, s3_[k].valid);
            s.value_signed(s3_[k].term, s3_[k].valid);
            s.value_signed(s3_[k].acc, s3_[k].valid);
            s.value(s4_[k].valid);
            s.value(s4_[k].row, s4_[k].valid);
            s.value_signed(s4_[k].sum, s4_[k].valid);
            if (k == 0) {
                s.value(clocked && bypass_d1_);
                s.value(clocked && bypass_d2_);
            }
            const S3& w = written_[k];
            const bool we = clocked && w.valid && w.we;
            s.value(we);
            s.value(w.row, we);
            s.value_signed(w.sum, we);
        }
    }

    // Register views (unit tests).
    const S1& stage2_in(uint32_t lane = 0) const { return s2_[lane]; }
    const S2& stage3_in(uint32_t lane = 0) const { return s3_[lane]; }
    const S3& stage4_in(uint32_t lane = 0) const { return s4_[lane]; }
    uint32_t row_address() const { return row_; }
    uint32_t row_base() const { return row_base_; }

private:
    uint32_t next_row(const ArithInput& in) const {
        return in.first_of_column ? row_base_ + in.zeros : row_ + in.zeros + 1;
    }

    const int32_t* codebook_ = nullptr;
    int shift_ = 0;
    uint32_t act_bits_ = 16;
    uint32_t lanes_ = 1;
    uint32_t row_base_ = 0;
    uint32_t row_ = 0;
    // Pipeline registers, named by the stage they feed, one per lane.
    S1 s2_[kMaxLanes];
    S2 s3_[kMaxLanes];
    S3 s4_[kMaxLanes];
    // This cycle's events, for waveforms.
    S3 written_[kMaxLanes];
    bool bypass_d1_ = false, bypass_d2_ = false;
};

}  // namespace eie
