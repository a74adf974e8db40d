// The top level of the EIE model: the clock and the layer/batch control of
// the CCU and N PEs. Its other jobs are units of their own:
//   host_interface.hpp  TLM-2.0 target socket, register file, PE windows
//   closed_form.hpp     the closed-form cycle count, computed before a layer
//   output_tap.hpp      each layer's output as the PEs left it (a debug tap)
// One clocked method advances the whole array by a cycle.
//
// The clock is the method re-arming itself one period ahead while the array
// computes, and sleeping on START otherwise. An sc_clock would cost two
// kernel processes and a signal update per cycle, the largest share of a
// small array's simulation time (docs/modelling.md has the measurement).
// A platform that has a clock of its own binds it to `clk` instead.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>

#include "eie/ccu/ccu.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/model/host_interface.hpp"
#include "eie/hw/model/tracer.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/pe.hpp"

namespace eie {

class Eie : public sc_core::sc_module, private HostControlled {
    ArchConfig arch_;
    sc_core::sc_time period_;
    HostInterface host_;

public:
    // The host interface's target socket and done interrupt (memory_map.hpp).
    tlm_utils::simple_target_socket<HostInterface>& socket;
    sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS>& irq;
    // Optional clock input (host_interface.hpp): bind a platform's clock to
    // make its rising edges the array's cycles; unbound, the array times its
    // own cycles. Same cycles and outputs either way.
    sc_core::sc_port<sc_core::sc_signal_in_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND>& clk;

    SC_HAS_PROCESS(Eie);
    Eie(sc_core::sc_module_name name, const ArchConfig& arch);

    const ArchConfig& arch() const { return arch_; }
    // The clock period; cycle n starts at n * period.
    const sc_core::sc_time& period() const { return period_; }
    // The current clock cycle (time / period).
    uint64_t cycle() const { return cycle_; }
    uint32_t num_pes() const { return arch_.num_pes; }
    const Pe& pe(uint32_t i) const { return *pes_[i]; }
    const Ccu& ccu() const { return ccu_; }
    bool computing() const override { return computing_; }

    // Statistics of the last run (computing mode) and of all I/O so far.
    const RunStats& stats() const { return stats_; }
    // Each layer's output of the last run, as left in the PE memories
    // (a debug tap for verification; the host reads the last one over TLM).
    const std::vector<std::vector<int32_t>>& layer_outputs() const { return outputs_; }
    // The descriptors of the last run, as decoded from the registers.
    const std::vector<LayerDesc>& run_layers() const { return run_layers_; }

    void set_stall(double probability, uint64_t seed);
    void set_tracer(Tracer* t) { tracer_ = t; }

    // Fixed pipeline latency of a batch beyond the PE work (closed_form.hpp).
    uint64_t batch_overhead_cycles() const;
    static constexpr uint32_t kArithStages = Pe::kArithStages;

    // Where a finished batch / layer is in its state machine (for waveforms).
    enum class Phase : uint8_t { idle, compute, drain, writeback };
    Phase phase() const { return phase_; }
    uint32_t current_layer() const { return layer_; }
    uint32_t current_batch() const { return batch_; }

    // ---- waveforms (a Tracer's view of the last cycle)
    // The top level's signals (layer, batch, phase during the cycle).
    void declare_signals(SignalSink& s) const;
    void sample_signals(SignalSink& s) const;
    // PE `p`'s and the CCU's signals, with whether they ran in the cycle.
    void sample_pe_signals(SignalSink& s, uint32_t p) const;
    void sample_ccu_signals(SignalSink& s) const;

private:
    // HostControlled
    void start(uint32_t first_layer, uint32_t num_layers, const std::vector<uint32_t>& desc_words) override;
    uint64_t compute_cycles() const override { return stats_.compute_cycles(); }
    Pe& window_of(uint32_t i) override { return *pes_[i]; }
    void count_io(uint64_t bytes, uint64_t cycles) override {
        stats_.io_bytes += bytes;
        stats_.io_cycles += cycles;
    }

    void on_clock();
    void step();
    void start_layer();
    void start_batch();
    void finish_batch();
    void next_batch_or_layer();
    void finish_run(uint32_t error);
    uint32_t validate_descriptor(const LayerDesc& l) const;

    Ccu ccu_;
    std::vector<std::unique_ptr<Pe>> pes_;
    std::vector<Pe*> pe_ptrs_;

    // computing-mode state
    bool computing_ = false;
    bool awaiting_edge_ = false;  // external clock: START seen, first edge to come
    sc_core::sc_event start_event_;
    Phase phase_ = Phase::idle;
    std::vector<LayerDesc> run_layers_;
    uint32_t layer_ = 0, batch_ = 0;
    uint32_t drain_left_ = 0;
    uint64_t wb_left_ = 0;
    uint64_t cycle_ = 0;
    // where the last cycle ran (its state at the start: the end of it may be the next batch)
    uint32_t cycle_layer_ = 0, cycle_batch_ = 0;
    Phase cycle_phase_ = Phase::idle;

    RunStats stats_;
    std::vector<std::vector<int32_t>> outputs_;
    Tracer* tracer_ = nullptr;
    std::chrono::steady_clock::time_point run_started_;
};

}  // namespace eie
