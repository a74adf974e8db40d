// The host interface of the EIE top level: the TLM-2.0 target socket, the
// register file (control, status, layer-descriptor table; memory_map.hpp)
// and the routing of PE-window addresses to each PE's memory window.
//
// It knows nothing of how the array computes: START hands the register
// contents to the array (HostControlled), and the array reports the end of
// the run back with run_finished(), which sets DONE/ERROR and the interrupt.
// I/O-mode time is annotated here: the DMA moves dma_bits per cycle.
//
// Besides b_transport the socket serves direct memory access to the PE
// memories (granted only in I/O mode, invalidated when a run starts: the
// array owns them while it computes and swaps the register files) and
// debug transport (no time, no statistics). An optional clock input lets a
// platform's clock drive the array (docs/embedding.md).
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
    // Optional clock input: when bound, the array computes one cycle per
    // rising edge of this signal instead of timing its own cycles. Its
    // period must be the architecture's clock period (checked for an
    // sc_clock at the end of elaboration), since I/O time and the
    // statistics' times are counted in that period.
    sc_core::sc_port<sc_core::sc_signal_in_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND> clk;

    HostInterface(sc_core::sc_module_name name, const ArchConfig& arch, HostControlled& array);

    // The array accepted START: STATUS = BUSY.
    void run_started();
    // The run ended (error = mmap::kErr*): STATUS = DONE (| ERROR), ERROR
    // register, interrupt if enabled.
    void run_finished(uint32_t error);

    // True when `clk` is bound (valid from the end of elaboration).
    bool external_clock() const { return clk.size() > 0; }
    // The external clock's rising edge (only when external_clock()).
    const sc_core::sc_event& clock_edge() const { return clk->posedge_event(); }

private:
    void end_of_elaboration() override;
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    unsigned int transport_dbg(tlm::tlm_generic_payload& trans);
    // Address decode shared by every transport; sets the response status and
    // returns true when the access was done.
    bool route(tlm::tlm_generic_payload& trans);
    tlm::tlm_response_status access_register(bool write, uint64_t addr, uint8_t* data, uint32_t len);
    tlm::tlm_response_status access_pe(bool write, uint64_t addr, uint8_t* data, uint32_t len);
    // A PE-window address split into PE, region and offset; false outside the map.
    struct PeAddress {
        uint32_t pe, region;
        uint64_t offset;
    };
    bool decode_pe(uint64_t addr, PeAddress& out) const;

    ArchConfig arch_;
    HostControlled& array_;
    sc_core::sc_time period_;

    uint32_t ctrl_irq_enable_ = 0;
    uint32_t status_ = 0;
    uint32_t error_ = 0;
    uint32_t first_layer_ = 0, num_layers_ = 0;
    std::vector<uint32_t> desc_words_;
    bool dmi_granted_ = false;  // a pointer is out: invalidate it at START
};

}  // namespace eie
