#include "eie/hw/model/host_interface.hpp"

#include <cstring>

#include <fmt/format.h>

#include "eie/pe/pe.hpp"

namespace eie {

using namespace sc_core;

namespace {

// The PE window's regions are the PE's memories, in the same order.
static_assert(uint32_t(PeMemory::spmat) == mmap::kSpmat && uint32_t(PeMemory::ptr_even) == mmap::kPtrEven &&
              uint32_t(PeMemory::ptr_odd) == mmap::kPtrOdd && uint32_t(PeMemory::codebook) == mmap::kCodebook &&
              uint32_t(PeMemory::src_rf) == mmap::kSrcRf && uint32_t(PeMemory::dst_rf) == mmap::kDstRf &&
              uint32_t(PeMemory::act_sram) == mmap::kActSram && kPeMemories == mmap::kRegions,
              "memory_map.hpp regions and pe/pe.hpp PeMemory must match");

// DMI hands out the backing stores as they are: their 32-bit words are the
// window's little-endian words only on a little-endian host.
bool host_is_little_endian() {
    const uint32_t one = 1;
    uint8_t first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

}  // namespace

HostInterface::HostInterface(sc_module_name name, const ArchConfig& arch, HostControlled& array)
    : sc_module(name),
      socket("socket"),
      irq("irq"),
      clk("clk"),
      arch_(arch),
      array_(array),
      period_(arch.clock_period_ns(), SC_NS) {
    desc_words_.assign(size_t(mmap::kMaxLayers) * mmap::kDescWords, 0);
    socket.register_b_transport(this, &HostInterface::b_transport);
    socket.register_get_direct_mem_ptr(this, &HostInterface::get_direct_mem_ptr);
    socket.register_transport_dbg(this, &HostInterface::transport_dbg);
}

void HostInterface::end_of_elaboration() {
    if (!external_clock()) return;
    // An sc_clock can be checked; another signal is the platform's promise.
    if (auto* c = dynamic_cast<const sc_clock*>(clk.get_interface()); c && c->period() != period_) {
        SC_REPORT_ERROR("/eie/clock", fmt::format("{}: the clock bound to clk has period {}, but the architecture's "
                                                  "clock period (clock_mhz) is {}; they must be equal",
                                                  name(), c->period().to_string(), period_.to_string())
                                          .c_str());
    }
}

void HostInterface::run_started() {
    status_ = mmap::kStatusBusy;
    // The array owns the PE memories now (and swaps the register files at
    // each layer's end): no initiator may keep a pointer into them.
    if (dmi_granted_) {
        dmi_granted_ = false;
        socket->invalidate_direct_mem_ptr(mmap::kPeBase, mmap::kPeBase + (uint64_t(arch_.num_pes) << mmap::kPeShift) - 1);
    }
}

void HostInterface::run_finished(uint32_t error) {
    error_ = error;
    status_ = mmap::kStatusDone | (error ? mmap::kStatusError : 0u);
    irq.write(ctrl_irq_enable_ != 0);
}

bool HostInterface::route(tlm::tlm_generic_payload& trans) {
    const bool write = trans.get_command() == tlm::TLM_WRITE_COMMAND;
    if (!write && trans.get_command() != tlm::TLM_READ_COMMAND) {
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return false;
    }
    if (trans.get_byte_enable_ptr()) {
        trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return false;
    }
    const uint32_t len = trans.get_data_length();
    if (trans.get_streaming_width() < len) {
        trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return false;
    }
    const uint64_t addr = trans.get_address();
    const tlm::tlm_response_status rs = addr >= mmap::kPeBase
                                            ? access_pe(write, addr, trans.get_data_ptr(), len)
                                            : access_register(write, addr, trans.get_data_ptr(), len);
    trans.set_response_status(rs);
    return rs == tlm::TLM_OK_RESPONSE;
}

void HostInterface::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
    if (!route(trans)) return;
    trans.set_dmi_allowed(trans.get_address() >= mmap::kPeBase);
    // I/O mode time: the DMA moves dma_bits per cycle.
    const uint32_t len = trans.get_data_length();
    const uint64_t io = (uint64_t(len) * 8 + arch_.dma_bits - 1) / arch_.dma_bits;
    array_.count_io(len, io);
    delay += period_ * double(io);
}

unsigned int HostInterface::transport_dbg(tlm::tlm_generic_payload& trans) {
    // Memories only: the control and status registers act on access (START,
    // IRQ_CLEAR), which a debugger's peek must not do.
    if (trans.get_address() < mmap::kDescBase) return 0;
    return route(trans) ? trans.get_data_length() : 0;
}

bool HostInterface::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
    const uint64_t addr = trans.get_address();
    // A refusal covers this address only: the same address may be granted
    // once the run is over.
    dmi.set_start_address(addr);
    dmi.set_end_address(addr);
    PeAddress a;
    if (array_.computing() || !host_is_little_endian() || !decode_pe(addr, a)) return false;
    const Pe::WindowSpan span = array_.window_of(a.pe).window_span(PeMemory(a.region), a.offset);
    if (!span.data) return false;
    const uint64_t base = addr - a.offset + span.begin;
    dmi.set_dmi_ptr(span.data);
    dmi.set_start_address(base);
    dmi.set_end_address(base + span.bytes - 1);
    dmi.allow_read_write();
    // Per DMA beat (dma_bits), as b_transport annotates.
    dmi.set_read_latency(period_);
    dmi.set_write_latency(period_);
    dmi_granted_ = true;
    return true;
}

tlm::tlm_response_status HostInterface::access_register(bool write, uint64_t addr, uint8_t* data, uint32_t len) {
    const bool computing = array_.computing();
    if (addr >= mmap::kDescBase && addr < mmap::kDescEnd) {
        if ((addr & 3) || (len & 3) || len == 0 || addr + len > mmap::kDescEnd) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
        if (write && computing) return tlm::TLM_GENERIC_ERROR_RESPONSE;
        uint32_t* w = &desc_words_[(addr - mmap::kDescBase) / 4];
        if (write) std::memcpy(w, data, len);
        else std::memcpy(data, w, len);
        return tlm::TLM_OK_RESPONSE;
    }
    if (len != 4 || (addr & 3)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    uint32_t v = 0;
    if (write) std::memcpy(&v, data, 4);
    if (addr > mmap::kRegLast) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (write) {
        switch (addr) {
            case mmap::kRegCtrl:
                if (v & mmap::kCtrlIrqClear) {
                    status_ &= ~mmap::kStatusDone;
                    irq.write(false);
                }
                ctrl_irq_enable_ = (v & mmap::kCtrlIrqEnable) ? 1 : 0;
                if (v & mmap::kCtrlStart) {
                    if (computing) return tlm::TLM_GENERIC_ERROR_RESPONSE;
                    irq.write(false);
                    array_.start(first_layer_, num_layers_, desc_words_);
                }
                return tlm::TLM_OK_RESPONSE;
            case mmap::kRegFirstLayer:
                if (computing) return tlm::TLM_GENERIC_ERROR_RESPONSE;
                first_layer_ = v;
                return tlm::TLM_OK_RESPONSE;
            case mmap::kRegNumLayers:
                if (computing) return tlm::TLM_GENERIC_ERROR_RESPONSE;
                num_layers_ = v;
                return tlm::TLM_OK_RESPONSE;
            default: return tlm::TLM_COMMAND_ERROR_RESPONSE;  // read-only
        }
    }
    const uint64_t cycles = array_.compute_cycles();
    switch (addr) {
        case mmap::kRegId: v = mmap::kIdValue; break;
        case mmap::kRegCtrl: v = ctrl_irq_enable_ ? mmap::kCtrlIrqEnable : 0; break;
        case mmap::kRegStatus: v = status_; break;
        case mmap::kRegFirstLayer: v = first_layer_; break;
        case mmap::kRegNumLayers: v = num_layers_; break;
        case mmap::kRegCyclesLo: v = static_cast<uint32_t>(cycles); break;
        case mmap::kRegCyclesHi: v = static_cast<uint32_t>(cycles >> 32); break;
        case mmap::kRegNumPes: v = arch_.num_pes; break;
        case mmap::kRegMaxLayers: v = mmap::kMaxLayers; break;
        case mmap::kRegError: v = error_; break;
        default: return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    }
    std::memcpy(data, &v, 4);
    return tlm::TLM_OK_RESPONSE;
}

bool HostInterface::decode_pe(uint64_t addr, PeAddress& out) const {
    if (addr < mmap::kPeBase) return false;
    const uint64_t rel = addr - mmap::kPeBase;
    const uint64_t pe = rel >> mmap::kPeShift;
    out.region =
        static_cast<uint32_t>((rel >> mmap::kRegionShift) & ((1u << (mmap::kPeShift - mmap::kRegionShift)) - 1));
    out.offset = rel & ((uint64_t(1) << mmap::kRegionShift) - 1);
    out.pe = static_cast<uint32_t>(pe);
    return pe < arch_.num_pes && out.region < mmap::kRegions;
}

tlm::tlm_response_status HostInterface::access_pe(bool write, uint64_t addr, uint8_t* data, uint32_t len) {
    PeAddress a;
    if (!decode_pe(addr, a)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (a.offset + len > (uint64_t(1) << mmap::kRegionShift)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (array_.computing()) return tlm::TLM_GENERIC_ERROR_RESPONSE;  // PE memories belong to the array
    const bool ok = array_.window_of(a.pe).window_access(PeMemory(a.region), write, a.offset, data, len);
    return ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE;
}

}  // namespace eie
