// A host driver: the TLM-2.0 initiator that does what a CPU would do with
// EIE: load an image into every PE's memories and the layer sequence into
// the descriptor table (I/O mode), start, wait for the done interrupt, and
// read the results back. Every access goes through the target socket; a
// non-OK response becomes a HostError naming the address and the response.
// What it writes and reads comes from the image loader (image_loader.hpp),
// which any other initiator can use the same way (docs/embedding.md).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "eie/hw/image.hpp"
#include "eie/hw/model/image_loader.hpp"

namespace eie {

// A generic payload for one plain access over the memory map: no byte
// enables, no streaming, no DMI hint, response not yet given. Every initiator
// of the project (the host driver, the tests) fills its payloads here.
inline void prepare_payload(tlm::tlm_generic_payload& t, bool write, uint64_t addr, void* data, uint32_t len) {
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

struct HostError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class HostDriver : public sc_core::sc_module {
public:
    tlm_utils::simple_initiator_socket<HostDriver> socket;

    SC_HAS_PROCESS(HostDriver);
    // `irq` is the accelerator's done interrupt; `program` runs in the
    // driver's thread (it may call every method below). When it returns,
    // finished() becomes true and finished_event() fires; the simulation
    // goes on: the platform stops it (sc_stop() in the program, or sc_start()
    // returns by itself once nothing is left to simulate).
    HostDriver(sc_core::sc_module_name name, const sc_core::sc_signal_in_if<bool>& irq,
               std::function<void(HostDriver&)> program);

    // Raw accesses; `time` accumulates the annotated delay and is waited for
    // before returning, so simulated time follows the I/O.
    void write32(uint64_t addr, uint32_t v);
    uint32_t read32(uint64_t addr);
    void write_block(uint64_t addr, const void* data, uint32_t len);
    void read_block(uint64_t addr, void* data, uint32_t len);
    // Non-throwing access for tests of the error responses.
    tlm::tlm_response_status try_access(bool write, uint64_t addr, void* data, uint32_t len);

    // Loads the memories, the codebooks, the descriptors and the input.
    void load_image(const Image& image);
    // Writes the input vector of `layer` into its source placement.
    void load_input(const Image& image, const std::vector<int32_t>& input, uint32_t layer = 0);
    // START for layers [first, first + count), then waits for the interrupt.
    // Returns the STATUS register; throws if the run reported an error.
    uint32_t run(uint32_t first, uint32_t count);
    // Reads a layer's output from where the layer leaves it.
    std::vector<int32_t> read_output(const Image& image, uint32_t layer);

    sc_core::sc_time io_time() const { return io_time_; }
    bool finished() const { return finished_; }
    const sc_core::sc_event& finished_event() const { return finished_event_; }

private:
    void thread();
    void transport(bool write, uint64_t addr, void* data, uint32_t len);
    void issue(const std::vector<BusWrite>& writes);

    const sc_core::sc_signal_in_if<bool>& irq_;
    std::function<void(HostDriver&)> program_;
    sc_core::sc_time io_time_ = sc_core::SC_ZERO_TIME;
    bool finished_ = false;
    sc_core::sc_event finished_event_;
};

}  // namespace eie
