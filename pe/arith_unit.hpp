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
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/fixed_point.hpp"
#include "eie/hw/stats.hpp"

namespace eie {

struct ArithInput {  // what the sparse-matrix read stage hands to S1
    bool valid = false;
    bool first_of_column = false;
    uint16_t code = 0;  // v
    uint16_t zeros = 0; // z
    int32_t act = 0;    // a_j of the column
};

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
    // Row address restarts at the batch's first local row for each column.
    void set_row_base(uint32_t base) { row_base_ = base; }
    void clear() { s2_ = {}; s3_ = {}; s4_ = {}; }
    bool empty() const { return !(s2_.valid || s3_.valid || s4_.valid); }

    // One clock. `in` is the sparse-matrix read stage's output register (the
    // entry it issued in the previous cycle), consumed by S1 now. `dst` is the destination register file indexed by local row
    // minus the batch base. Stages are evaluated from the back so each reads
    // the register values of the start of the cycle.
    void cycle(const ArithInput& in, int32_t* dst, PeStats& st) {
        const S3 w4 = s4_;  // the entry in S4 this cycle
        // S4: destination write
        if (w4.valid && w4.we) {
            dst[w4.row - row_base_] = w4.sum;
            ++st.dst_rf_writes;
            ++st.acc_writes;
        }
        // S3: shift and add, forwarding a back-to-back leader's sum from S4
        S3 n4;
        if (s3_.valid) {
            n4.valid = true;
            n4.we = s3_.we;
            n4.row = s3_.row;
            if (s3_.we) {
                int32_t acc = s3_.acc;
                if (w4.valid && w4.we && w4.row == s3_.row) {
                    acc = w4.sum;
                    ++st.bypass_s3;
                }
                n4.sum = fx::accumulate(acc, s3_.term, act_bits_);
                ++st.adds;
            }
        }
        // S2: destination read (forwarded from S4 when it writes the same row) and multiply
        S2 n3;
        if (s2_.valid) {
            n3.valid = true;
            n3.we = s2_.we;
            n3.row = s2_.row;
            if (s2_.we) {
                if (w4.valid && w4.we && w4.row == s2_.row) {
                    n3.acc = w4.sum;
                    ++st.bypass_s2;
                } else {
                    n3.acc = dst[s2_.row - row_base_];
                }
                ++st.dst_rf_reads;
                n3.term = fx::product_term(s2_.act, s2_.weight, shift_);
                ++st.multiplies;
            }
        }
        // S1: codebook look-up and row accumulation
        S1 n2;
        if (in.valid) {
            row_ = in.first_of_column ? row_base_ + in.zeros : row_ + in.zeros + 1;
            n2.valid = true;
            n2.we = in.code != 0;
            n2.row = row_;
            n2.act = in.act;
            n2.weight = codebook_[in.code];
            ++st.codebook_lookups;
        }
        s4_ = n4;
        s3_ = n3;
        s2_ = n2;
    }

    // Register views for waveforms.
    const S1& stage2_in() const { return s2_; }
    const S2& stage3_in() const { return s3_; }
    const S3& stage4_in() const { return s4_; }
    uint32_t row_address() const { return row_; }
    uint32_t row_base() const { return row_base_; }

private:
    const int32_t* codebook_ = nullptr;
    int shift_ = 0;
    uint32_t act_bits_ = 16;
    uint32_t row_base_ = 0;
    uint32_t row_ = 0;
    // Pipeline registers, named by the stage they feed.
    S1 s2_;
    S2 s3_;
    S3 s4_;
};

}  // namespace eie
