#include "eie/hw/model/host_driver.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "eie/hw/geometry.hpp"
#include "eie/hw/model/memory_map.hpp"
#include "eie/pe/spmat_sram.hpp"

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
    program_(*this);
    sc_stop();
}

tlm::tlm_response_status HostDriver::try_access(bool write, uint64_t addr, void* data, uint32_t len) {
    tlm::tlm_generic_payload t;
    sc_time delay = SC_ZERO_TIME;
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(addr);
    t.set_data_ptr(static_cast<unsigned char*>(data));
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_byte_enable_ptr(nullptr);
    t.set_dmi_allowed(false);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
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

void HostDriver::load_image(const Image& image) {
    const ArchConfig& a = image.arch;
    num_pes_ = a.num_pes;
    if (read32(mmap::kRegNumPes) != a.num_pes)
        throw HostError(fmt::format("host: the image is for {} PEs but the accelerator has {}", a.num_pes,
                                    read32(mmap::kRegNumPes)));
    for (uint32_t p = 0; p < a.num_pes; ++p) {
        const PeImage& pe = image.pes[p];
        std::vector<uint8_t> lines = SpmatSram::pack(pe.entries, a);
        if (!lines.empty())
            write_block(mmap::pe_addr(p, mmap::kSpmat, 0), lines.data(), static_cast<uint32_t>(lines.size()));
        for (uint32_t bank = 0; bank < 2; ++bank) {
            std::vector<uint32_t> words;
            for (uint64_t i = bank; i < pe.pointers.size(); i += 2) words.push_back(pe.pointers[i]);
            if (!words.empty())
                write_block(mmap::pe_addr(p, bank ? mmap::kPtrOdd : mmap::kPtrEven, 0), words.data(),
                            static_cast<uint32_t>(words.size() * 4));
        }
        std::vector<uint32_t> cb;
        for (const auto& slot : pe.codebooks)
            for (int32_t v : slot) cb.push_back(static_cast<uint32_t>(v));
        if (!cb.empty())
            write_block(mmap::pe_addr(p, mmap::kCodebook, 0), cb.data(), static_cast<uint32_t>(cb.size() * 4));
    }
    for (uint32_t k = 0; k < image.layers.size(); ++k) {
        uint32_t w[mmap::kDescWords];
        mmap::encode_descriptor(image.layers[k], w);
        write_block(mmap::kDescBase + uint64_t(k) * mmap::kDescWords * 4, w, sizeof w);
    }
    if (!image.layers.empty()) load_input(image, image.input, 0);
}

void HostDriver::load_input(const Image& image, const std::vector<int32_t>& input, uint32_t layer) {
    const LayerDesc& l = image.layers.at(layer);
    const uint32_t n = image.arch.num_pes;
    if (input.size() != l.in_len)
        throw HostError(fmt::format("host: input has {} values, layer {} expects {}", input.size(), l.name, l.in_len));
    for (uint32_t p = 0; p < n; ++p) {
        std::vector<uint32_t> local;
        for (uint64_t i = p; i < input.size(); i += n) local.push_back(static_cast<uint32_t>(input[i]));
        if (local.empty()) continue;
        uint64_t addr = l.input.in_sram ? mmap::pe_addr(p, mmap::kActSram, uint64_t(l.input.sram_base) * 4)
                                        : mmap::pe_addr(p, mmap::kSrcRf, 0);
        write_block(addr, local.data(), static_cast<uint32_t>(local.size() * 4));
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
    const LayerDesc& l = image.layers.at(layer);
    const uint32_t n = image.arch.num_pes;
    std::vector<int32_t> out(l.out_len);
    for (uint32_t p = 0; p < n && p < l.out_len; ++p) {
        const uint64_t local = local_length(l.out_len, n, p);
        std::vector<uint32_t> words(local);
        uint64_t addr = l.output.in_sram ? mmap::pe_addr(p, mmap::kActSram, uint64_t(l.output.sram_base) * 4)
                                         : mmap::pe_addr(p, mmap::kSrcRf, 0);
        read_block(addr, words.data(), static_cast<uint32_t>(words.size() * 4));
        for (uint64_t k = 0; k < local; ++k) out[p + k * n] = int32_t(words[k]);
    }
    return out;
}

}  // namespace eie
