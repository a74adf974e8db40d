// A processing element: a SystemC module built from its stage units,
//   activation queue (activation_queue.hpp) -> pointer read (pointer_read.hpp)
//   -> sparse-matrix read (spmat_read.hpp) -> arithmetic unit (arith_unit.hpp,
//   4 stages, bypassed) -> activation read/write (act_rw.hpp).
//
// The class is the PE's interface: the rest of the model (CCU, top level,
// host interface, closed form, waveforms) uses nothing else. Each stage owns
// its state, its counters (its fields of PeStats) and its waveform signals.
//
// The PE has no SystemC process of its own: the top level's single clocked
// method calls cycle() on every PE, then commit(). Keeping the per-cycle
// state in plain members with a two-phase update is what makes the model
// fast (docs/modelling.md gives the measured cost of the alternatives); the
// module gives each PE its place and name in the hierarchy. The variant
// parameters (skip_empty_columns, spmat_entries_per_cycle) select a
// specialisation of the cycle once per call, outside the stages' loops.
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
#include "eie/pe/pointer_read.hpp"
#include "eie/pe/signal_sink.hpp"
#include "eie/pe/spmat_read.hpp"
#include "eie/pe/stall_injector.hpp"

namespace eie {

// The part of the layer descriptor a PE needs for one batch.
struct PeBatchContext {
    uint64_t entry_base = 0;     // entry address of the layer's first entry
    uint64_t ptr_base = 0;       // pointer address of this batch's column 0
    uint32_t row_base = 0;       // first local row of the batch
    uint32_t codebook_slot = 0;  // the layer's codebook
    int shift = 0;
};

// The memories of a PE's host window, in the order of the memory map's
// regions (hw/model/memory_map.hpp).
enum class PeMemory : uint32_t { spmat, ptr_even, ptr_odd, codebook, src_rf, dst_rf, act_sram };
constexpr uint32_t kPeMemories = 7;

class Pe : public sc_core::sc_module {
public:
    Pe(sc_core::sc_module_name name, uint32_t id, const ArchConfig& arch);

    // Arithmetic pipeline stages after the sparse-matrix read (S1..S4).
    static constexpr uint32_t kArithStages = 4;

    uint32_t id() const { return id_; }

    // ---- broadcast input (the CCU): two-phase, see ActivationQueue
    bool has_room() const { return queue_.has_room(); }
    void push(QueueEntry e, PeStats& st) {
        if (skip_empty_) e.nonempty = ptr_read_.nonempty(e.index);
        queue_.push(e);
        ++st.queue_pushes;
    }
    // ---- the LNZD leaf: source activation `local` of the layer (counted)
    int32_t read_source(const ActPlacement& in, uint64_t local, PeStats& st) const {
        return act_.read_source(in, local, st);
    }
    // Activation `local` of a placement, without counting an access (closed
    // form, output tap, verification).
    int32_t peek(const ActPlacement& where, uint64_t local) const {
        return where.in_sram ? act_.sram()[where.sram_base + local] : act_.src_rf()[local];
    }
    // ---- the host window (I/O mode): `len` bytes at byte offset `off` of
    // memory `m`; false when the access falls outside it or is misaligned.
    bool window_access(PeMemory m, bool write, uint64_t off, uint8_t* data, uint32_t len);
    // The contiguous backing store of memory `m` around byte offset `off`,
    // laid out as the window shows it (bytes for the sparse-matrix SRAM, one
    // 32-bit word per value elsewhere), for direct memory access: `bytes`
    // bytes from window offset `begin` live at `data`. Empty (data null) when
    // `off` is outside the memory. A codebook span is one slot.
    struct WindowSpan {
        uint8_t* data = nullptr;
        uint64_t begin = 0, bytes = 0;
    };
    WindowSpan window_span(PeMemory m, uint64_t off);
    // ---- closed form: cycles the sparse-matrix read spends on the column
    // whose pointer pair starts at pointer address `ptr_addr` (entries from
    // `entry_base`), as the stages define them.
    uint64_t column_cost(uint64_t entry_base, uint64_t ptr_addr) const;

    // ---- control (the top level)
    void start_batch(const PeBatchContext& ctx);
    // One clock of every PE of an array (all of one configuration), each
    // followed by its queue commit when `commit`; true when every front end
    // is idle afterwards. The variant is chosen once for the whole array, not
    // per PE: this loop is the model's inner loop.
    static bool cycle_all(const std::vector<Pe*>& pes, std::vector<PeStats>& st, bool commit) {
        if (pes.empty()) return true;
        switch (pes.front()->variant_) {
            case 0: return cycle_all<1, false>(pes, st, commit);
            case 1: return cycle_all<1, true>(pes, st, commit);
            case 2: return cycle_all<2, false>(pes, st, commit);
            default: return cycle_all<2, true>(pes, st, commit);
        }
    }
    // One clock of the whole pipeline. Returns the sparse-matrix stage's slot.
    PeSlot cycle(PeStats& st) {
        switch (variant_) {
            case 0: return step<1, false>(st);
            case 1: return step<1, true>(st);
            case 2: return step<2, false>(st);
            default: return step<2, true>(st);
        }
    }
    // End of a computing cycle: the queue's pushes and pops take effect.
    void commit(PeStats& st) {
        queue_.commit();
        if (queue_.occupancy() > st.queue_max_occupancy) st.queue_max_occupancy = queue_.occupancy();
    }
    // No column in flight in the front end and nothing queued.
    bool front_idle() const { return ptr_read_.idle() && queue_.empty(); }
    bool arith_empty() const { return arith_.empty(); }
    // End of a batch whose output goes to the activation SRAM.
    void write_back(const ActPlacement& out, uint64_t first_local, uint32_t rows, Activation f, PeStats& st) {
        act_.write_back(out, first_local, rows, f, st);
    }
    // End of a layer whose output stays in the register files.
    void end_layer(Activation f) { act_.swap(f); }

    // Random bubbles in the front end (stall injection); probability in [0,1).
    void set_stall(double probability, uint64_t seed);

    // ---- waveforms: every stage's signals, in declaration order. `clocked`:
    // the PE ran this cycle; `inputs_done`: the CCU has nothing more to send.
    void declare_signals(SignalSink& s) const;
    void sample_signals(SignalSink& s, bool clocked, bool inputs_done) const;
    // The class of the last cycle (tests).
    PeSlot last_slot() const { return last_slot_; }

private:
    template <uint32_t Lanes, bool SkipEmpty>
    PeSlot step(PeStats& st);
    template <uint32_t Lanes, bool SkipEmpty>
    static bool cycle_all(const std::vector<Pe*>& pes, std::vector<PeStats>& st, bool commit) {
        bool idle = true;
        for (std::size_t p = 0; p < pes.size(); ++p) {
            Pe& pe = *pes[p];
            pe.step<Lanes, SkipEmpty>(st[p]);
            if (commit) pe.commit(st[p]);
            idle = idle && pe.front_idle();
        }
        return idle;
    }

    uint32_t id_;
    ArchConfig arch_;
    uint32_t variant_ = 0;  // (lanes - 1) * 2 + skip_empty_columns
    bool skip_empty_ = false;
    ActivationQueue queue_;
    PointerRead ptr_read_;
    SpmatRead spmat_read_;
    std::vector<std::vector<int32_t>> codebooks_;
    ArithUnit arith_;
    ActRW act_;
    // output register of the sparse-matrix read stage (S1's input)
    ArithIssue issue_;
    StallInjector stall_;
    PeSlot last_slot_ = PeSlot::starved;
};

template <uint32_t Lanes, bool SkipEmpty>
PeSlot Pe::step(PeStats& st) {
    // A PE with nothing anywhere only starves: skip the stages (the common
    // case in sparse layers and during drains, so worth the test).
    if (!issue_.valid() && ptr_read_.idle() && queue_.empty() && !stall_.enabled() && arith_.empty()) {
        ++st.starved_cycles;
        last_slot_ = PeSlot::starved;
        ptr_read_.clear_events();
        arith_.clear_events();
        return PeSlot::starved;
    }
    // Arithmetic unit: S1..S4 consume the entries issued last cycle.
    arith_.cycle<Lanes>(issue_, act_.dst(), st);

    // Sparse-matrix read stage: one slot per cycle, issued into the output
    // register in place (S1 has consumed it).
    ArithIssue& out = issue_;
    for (uint32_t k = 0; k < Lanes; ++k) out.lane[k].valid = false;
    PeSlot slot;
    const bool stall = stall_.hold();
    ColumnCursor& col = ptr_read_.column();
    if (stall) {
        slot = PeSlot::stalled;
    } else if (ptr_read_.owes_empty_slot()) {
        ptr_read_.take_empty_slot();
        slot = PeSlot::empty_column;
    } else if (col.has_entries()) {
        slot = spmat_read_.issue<Lanes>(col, out, st);
    } else {
        slot = PeSlot::starved;
    }
    // Pointer read stage: the next column, read in the cycle the current one
    // leaves the sparse-matrix read.
    ptr_read_.cycle<SkipEmpty>(queue_, stall, st);

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
