#include "eie/hw/model/host_driver.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "eie/hw/model/image_loader.hpp"
#include "eie/hw/model/memory_map.hpp"

namespace eie {

using namespace sc_core;

namespace {

const char* response_name(tlm::tlm_response_status s) {
    switch (s) {
        case tlm::TLM_OK_RESPONSE: return "OK";
        case tlm::TLM_INCOMPLETE_RESPONSE: return "INCOMPLETE";
        case tlm::TLM_GENERIC_ERROR_RESPONSE: return "GENERIC_ERROR";
        case tlm::TLM_ADDRESS_ERROR_RESPONSE: return "ADDRESS_ERROR";
        case tlm::TLM_COMMAND_ERROR_RESPONSE: return "COMMAND_ERROR";
        case tlm::TLM_BURST_ERROR_RESPONSE: return "BURST_ERROR";
        case tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE: return "BYTE_ENABLE_ERROR";
    }
    return "?";
}

// Bulk transfers go in chunks the size of a DMA burst descriptor.
constexpr uint32_t kChunk = 1u << 16;

}  // namespace

HostDriver::HostDriver(sc_module_name name, const sc_signal_in_if<bool>& irq, std::function<void(HostDriver&)> program)
    : sc_module(name), socket("socket"), irq_(irq), program_(std::move(program)) {
    SC_THREAD(thread);
}

void HostDriver::thread() {
    // The program's end is the driver's only: the platform decides whether
    // the simulation stops (a program may call sc_stop() itself).
    program_(*this);
    finished_ = true;
    finished_event_.notify(SC_ZERO_TIME);
}

tlm::tlm_response_status HostDriver::try_access(bool write, uint64_t addr, void* data, uint32_t len) {
    tlm::tlm_generic_payload t;
    sc_time delay = SC_ZERO_TIME;
    prepare_payload(t, write, addr, data, len);
    socket->b_transport(t, delay);
    if (delay > SC_ZERO_TIME) {
        io_time_ += delay;
        wait(delay);
    }
    return t.get_response_status();
}

void HostDriver::transport(bool write, uint64_t addr, void* data, uint32_t len) {
    tlm::tlm_response_status s = try_access(write, addr, data, len);
    if (s != tlm::TLM_OK_RESPONSE)
        throw HostError(fmt::format("host: {} of {} bytes at 0x{:x} failed with {}", write ? "write" : "read", len,
                                    addr, response_name(s)));
}

void HostDriver::write32(uint64_t addr, uint32_t v) { transport(true, addr, &v, 4); }

uint32_t HostDriver::read32(uint64_t addr) {
    uint32_t v = 0;
    transport(false, addr, &v, 4);
    return v;
}

void HostDriver::write_block(uint64_t addr, const void* data, uint32_t len) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (uint32_t done = 0; done < len;) {
        uint32_t n = std::min(kChunk, len - done);
        transport(true, addr + done, const_cast<uint8_t*>(p + done), n);
        done += n;
    }
}

void HostDriver::read_block(uint64_t addr, void* data, uint32_t len) {
    uint8_t* p = static_cast<uint8_t*>(data);
    for (uint32_t done = 0; done < len;) {
        uint32_t n = std::min(kChunk, len - done);
        transport(false, addr + done, p + done, n);
        done += n;
    }
}

void HostDriver::issue(const std::vector<BusWrite>& writes) {
    for (const BusWrite& w : writes) write_block(w.addr, w.data.data(), static_cast<uint32_t>(w.data.size()));
}

void HostDriver::load_image(const Image& image) {
    const uint32_t pes = read32(mmap::kRegNumPes);
    if (pes != image.arch.num_pes)
        throw HostError(fmt::format("host: the image is for {} PEs but the accelerator has {}", image.arch.num_pes, pes));
    try {
        issue(image_writes(image));
    } catch (const std::invalid_argument& e) {
        throw HostError(fmt::format("host: {}", e.what()));
    }
}

void HostDriver::load_input(const Image& image, const std::vector<int32_t>& input, uint32_t layer) {
    try {
        issue(input_writes(image, input, layer));
    } catch (const std::invalid_argument& e) {
        throw HostError(fmt::format("host: {}", e.what()));
    }
}

uint32_t HostDriver::run(uint32_t first, uint32_t count) {
    write32(mmap::kRegFirstLayer, first);
    write32(mmap::kRegNumLayers, count);
    write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlStart);
    while (!irq_.read()) wait(irq_.posedge_event());
    uint32_t status = read32(mmap::kRegStatus);
    write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlIrqClear);
    if (status & mmap::kStatusError)
        throw HostError(fmt::format("host: the accelerator rejected the layer sequence (ERROR code {})",
                                    read32(mmap::kRegError)));
    return status;
}

std::vector<int32_t> HostDriver::read_output(const Image& image, uint32_t layer) {
    try {
        std::vector<std::vector<uint32_t>> words;
        for (const OutputRead& r : output_reads(image, layer)) {
            words.emplace_back(r.words);
            read_block(r.addr, words.back().data(), r.words * 4);
        }
        return assemble_output(image, layer, words);
    } catch (const std::invalid_argument& e) {
        throw HostError(fmt::format("host: {}", e.what()));
    }
}

}  // namespace eie
