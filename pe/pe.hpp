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
    void push(const QueueEntry& e, PeStats& st) {
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
    // whose pointer pair starts at pointer address `ptr_addr`.
    uint64_t column_cost(uint64_t entry_base, uint64_t ptr_addr) const;

    // ---- control (the top level)
    void start_batch(const PeBatchContext& ctx);
    // One clock of the whole pipeline. Returns the sparse-matrix stage's slot.
    PeSlot cycle(PeStats& st);
    // End of a computing cycle: the queue's pushes and pops take effect.
    void commit(PeStats& st) {
        queue_.commit();
        if (queue_.occupancy() > st.queue_max_occupancy) st.queue_max_occupancy = queue_.occupancy();
    }
    // End of a batch whose output goes to the activation SRAM.
    void write_back(const ActPlacement& out, uint64_t first_local, uint32_t rows, Activation f, PeStats& st) {
        act_.write_back(out, first_local, rows, f, st);
    }
    // End of a layer whose output stays in the register files.
    void end_layer(Activation f) { act_.swap(f); }
    const ActivationQueue& queue() const { return queue_; }
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
