// The top level of the EIE model: clock, CCU, N PEs, the host interface
// (TLM-2.0 target socket, memory map in memory_map.hpp) and the done
// interrupt. One clocked method advances the whole array by a cycle.
//
// The clock is the method re-arming itself one period ahead while the array
// computes, and sleeping on START otherwise. An sc_clock would cost two
// kernel processes and a signal update per cycle, the largest share of a
// small array's simulation time (docs/modelling.md has the measurement).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "eie/ccu/ccu.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/model/memory_map.hpp"
#include "eie/hw/model/tracer.hpp"
#include "eie/hw/stats.hpp"
#include "eie/pe/pe.hpp"

namespace eie {

class Eie : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<Eie> socket;
    // High while DONE and IRQ_ENABLE; written by the clocked method and by
    // register writes (IRQ_CLEAR) in the host's thread, hence many writers.
    sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq;

    SC_HAS_PROCESS(Eie);
    Eie(sc_core::sc_module_name name, const ArchConfig& arch);

    const ArchConfig& arch() const { return arch_; }
    // The clock period; cycle n starts at n * period.
    const sc_core::sc_time& period() const { return period_; }
    // The current clock cycle (time / period).
    uint64_t cycle() const { return cycle_; }
    uint32_t num_pes() const { return arch_.num_pes; }
    Pe& pe(uint32_t i) { return *pes_[i]; }
    const Pe& pe(uint32_t i) const { return *pes_[i]; }
    const Ccu& ccu() const { return ccu_; }
    bool computing() const { return computing_; }

    // Statistics of the last run (computing mode) and of all I/O so far.
    const RunStats& stats() const { return stats_; }
    // Each layer's output of the last run, as left in the PE memories
    // (a debug tap for verification; the host reads the last one over TLM).
    const std::vector<std::vector<int32_t>>& layer_outputs() const { return outputs_; }
    // The descriptors of the last run, as decoded from the registers.
    const std::vector<LayerDesc>& run_layers() const { return run_layers_; }

    void set_stall(double probability, uint64_t seed);
    void set_tracer(Tracer* t) { tracer_ = t; }

    // Fixed pipeline latency of a batch beyond the PE work (timing contract rule T7, docs/reference.md):
    // LNZD fill + queue hand-over + pointer read + 4 arithmetic stages.
    uint64_t batch_overhead_cycles() const { return arch_.lnzd_levels() + 2 + kArithStages; }
    static constexpr uint32_t kArithStages = 4;

    // Where a finished batch / layer is in its state machine (for waveforms).
    enum class Phase : uint8_t { idle, compute, drain, writeback };
    Phase phase() const { return phase_; }
    uint32_t current_layer() const { return layer_; }
    uint32_t current_batch() const { return batch_; }

private:
    void on_clock();
    void step();
    bool start_run();
    void start_layer();
    void start_batch();
    void finish_batch();
    void next_batch_or_layer();
    void finish_run(uint32_t error);
    uint32_t rows_in_batch(uint32_t pe, const LayerDesc& l, uint32_t batch) const;
    uint64_t closed_form_batch(const LayerDesc& l, uint32_t batch) const;
    std::vector<int32_t> gather_output(const LayerDesc& l) const;
    uint32_t validate_descriptor(const LayerDesc& l) const;

    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    tlm::tlm_response_status access_register(bool write, uint64_t addr, uint8_t* data, uint32_t len);
    tlm::tlm_response_status access_pe(bool write, uint64_t addr, uint8_t* data, uint32_t len);

    ArchConfig arch_;
    sc_core::sc_time period_;
    Ccu ccu_;
    std::vector<std::unique_ptr<Pe>> pes_;
    std::vector<Pe*> pe_ptrs_;

    // registers
    uint32_t ctrl_irq_enable_ = 0;
    uint32_t status_ = 0;
    uint32_t error_ = 0;
    uint32_t first_layer_ = 0, num_layers_ = 0;
    std::vector<uint32_t> desc_words_;

    // computing-mode state
    bool computing_ = false;
    sc_core::sc_event start_event_;
    Phase phase_ = Phase::idle;
    std::vector<LayerDesc> run_layers_;
    uint32_t layer_ = 0, batch_ = 0;
    uint32_t drain_left_ = 0;
    uint64_t wb_left_ = 0;
    uint64_t cycle_ = 0;

    RunStats stats_;
    std::vector<std::vector<int32_t>> outputs_;
    Tracer* tracer_ = nullptr;
    std::chrono::steady_clock::time_point run_started_;
};

}  // namespace eie
