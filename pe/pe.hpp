// A processing element: a SystemC module built from its stages,
//   activation queue -> pointer read -> sparse-matrix read -> arithmetic unit
//   (4 stages, bypassed) -> activation read/write.
//
// The PE has no SystemC process of its own: the top level's single clocked
// method calls cycle() on every PE, then commits the queues. Keeping the
// per-cycle state in plain members with a two-phase update is what makes the
// model fast (docs/modelling.md gives the measured cost of the alternatives);
// the module gives each PE its place and name in the hierarchy.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "eie/hw/image.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/act_rw.hpp"
#include "eie/pe/activation_queue.hpp"
#include "eie/pe/arith_unit.hpp"
#include "eie/pe/pointer_sram.hpp"
#include "eie/pe/spmat_sram.hpp"
#include "eie/pe/stall_injector.hpp"

namespace eie {

// What the sparse-matrix read stage did in a cycle (the cycle's class in the statistics).
enum class PeSlot : uint8_t { starved, busy, padding, empty_column, stalled };

// The part of the layer descriptor a PE needs for one batch.
struct PeBatchContext {
    uint64_t entry_base = 0;     // entry address of the layer's first entry
    uint64_t ptr_base = 0;       // pointer address of this batch's column 0
    uint32_t row_base = 0;       // first local row of the batch
    const int32_t* codebook = nullptr;
    int shift = 0;
    uint32_t act_bits = 16;
};

class Pe : public sc_core::sc_module {
public:
    Pe(sc_core::sc_module_name name, uint32_t id, const ArchConfig& arch);

    uint32_t id() const { return id_; }

    // Memories (the host interface reads and writes them in I/O mode).
    SpmatSram& spmat() { return spmat_; }
    PointerSram& pointers() { return ptr_; }
    std::vector<std::vector<int32_t>>& codebooks() { return codebooks_; }
    ActRW& act() { return act_; }
    // Reads without counting an access (verification, closed form, waveforms).
    int32_t act_view_src(uint64_t local) const { return act_.src_rf()[local]; }
    int32_t act_view_sram(uint64_t addr) const { return act_.sram()[addr]; }
    ActivationQueue& queue() { return queue_; }
    const ActivationQueue& queue() const { return queue_; }

    void start_batch(const PeBatchContext& ctx);
    // One clock of the whole pipeline. Returns the sparse-matrix stage's slot.
    PeSlot cycle(PeStats& st);
    // No column in flight in the front end and nothing queued.
    bool front_idle() const { return !pending_empty_ && addr_ >= end_ && queue_.empty(); }
    bool arith_empty() const { return arith_.empty(); }

    // Random bubbles in the front end (stall injection); probability in [0,1).
    void set_stall(double probability, uint64_t seed);

    // Waveform views.
    struct View {
        uint64_t addr, end;
        bool pending_empty;
        const ArithInput& issue;
        const ArithUnit& arith;
        PeSlot slot;
        bool popped;
        uint32_t pop_index;
        uint32_t ptr_start, ptr_end;
    };
    View view() const {
        return View{addr_, end_, pending_empty_, issue_, arith_, last_slot_, popped_, pop_index_, ptr_start_, ptr_end_};
    }

private:

    uint32_t id_;
    ArchConfig arch_;
    ActivationQueue queue_;
    PointerSram ptr_;
    SpmatSram spmat_;
    std::vector<std::vector<int32_t>> codebooks_;
    ActRW act_;
    ArithUnit arith_;
    PeBatchContext ctx_;

    // front end: the column being issued, absolute entry addresses [addr_, end_)
    uint64_t addr_ = 0, end_ = 0;
    bool pending_empty_ = false;  // a popped column with no entries owes its one cycle
    bool first_ = false;          // next issued entry is its column's first
    int32_t col_act_ = 0;
    // sparse-matrix line buffer
    int64_t buffered_line_ = -1;
    std::vector<uint16_t> line_buf_;
    // output register of the sparse-matrix read stage (S1's input)
    ArithInput issue_;
    StallInjector stall_;
    // last cycle, for waveforms
    PeSlot last_slot_ = PeSlot::starved;
    bool popped_ = false;
    uint32_t pop_index_ = 0, ptr_start_ = 0, ptr_end_ = 0;
};

}  // namespace eie
