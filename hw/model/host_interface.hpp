// The host interface of the EIE top level: the TLM-2.0 target socket, the
// register file (control, status, layer-descriptor table; memory_map.hpp)
// and the routing of PE-window addresses to each PE's memory window.
//
// It knows nothing of how the array computes: START hands the register
// contents to the array (HostControlled), and the array reports the end of
// the run back with run_finished(), which sets DONE/ERROR and the interrupt.
// I/O-mode time is annotated here: the DMA moves dma_bits per cycle.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "eie/hw/arch_config.hpp"
#include "eie/hw/model/memory_map.hpp"

namespace eie {

class Pe;

// What the host interface needs from the array behind it.
class HostControlled {
public:
    // True while a run is in progress (PE memories and descriptors are locked).
    virtual bool computing() const = 0;
    // START: the array decodes layers [first, first + count) of the
    // descriptor table and runs them; it calls run_finished() at the end
    // (at once when the sequence is rejected).
    virtual void start(uint32_t first_layer, uint32_t num_layers, const std::vector<uint32_t>& desc_words) = 0;
    // Computing cycles of the last run (the CYCLES registers).
    virtual uint64_t compute_cycles() const = 0;
    // PE `i`'s memory window.
    virtual Pe& window_of(uint32_t i) = 0;
    // A completed I/O transfer, for the statistics.
    virtual void count_io(uint64_t bytes, uint64_t cycles) = 0;

protected:
    ~HostControlled() = default;
};

class HostInterface : public sc_core::sc_module {
public:
    tlm_utils::simple_target_socket<HostInterface> socket;
    // High while DONE and IRQ_ENABLE; written by run_finished() in the array's
    // clocked method and by register writes (IRQ_CLEAR) in the host's thread.
    sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq;

    HostInterface(sc_core::sc_module_name name, const ArchConfig& arch, HostControlled& array);

    // The array accepted START: STATUS = BUSY.
    void run_started();
    // The run ended (error = mmap::kErr*): STATUS = DONE (| ERROR), ERROR
    // register, interrupt if enabled.
    void run_finished(uint32_t error);

private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    tlm::tlm_response_status access_register(bool write, uint64_t addr, uint8_t* data, uint32_t len);
    tlm::tlm_response_status access_pe(bool write, uint64_t addr, uint8_t* data, uint32_t len);

    ArchConfig arch_;
    HostControlled& array_;
    sc_core::sc_time period_;

    uint32_t ctrl_irq_enable_ = 0;
    uint32_t status_ = 0;
    uint32_t error_ = 0;
    uint32_t first_layer_ = 0, num_layers_ = 0;
    std::vector<uint32_t> desc_words_;
};

}  // namespace eie
