#include "eie/hw/model/host_interface.hpp"

#include <cstring>

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

}  // namespace

HostInterface::HostInterface(sc_module_name name, const ArchConfig& arch, HostControlled& array)
    : sc_module(name), socket("socket"), irq("irq"), arch_(arch), array_(array), period_(arch.clock_period_ns(), SC_NS) {
    desc_words_.assign(size_t(mmap::kMaxLayers) * mmap::kDescWords, 0);
    socket.register_b_transport(this, &HostInterface::b_transport);
}

void HostInterface::run_started() { status_ = mmap::kStatusBusy; }

void HostInterface::run_finished(uint32_t error) {
    error_ = error;
    status_ = mmap::kStatusDone | (error ? mmap::kStatusError : 0u);
    irq.write(ctrl_irq_enable_ != 0);
}

void HostInterface::b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
    const bool write = trans.get_command() == tlm::TLM_WRITE_COMMAND;
    if (!write && trans.get_command() != tlm::TLM_READ_COMMAND) {
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
    }
    if (trans.get_byte_enable_ptr()) {
        trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
        return;
    }
    const uint32_t len = trans.get_data_length();
    if (trans.get_streaming_width() < len) {
        trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
        return;
    }
    const uint64_t addr = trans.get_address();
    tlm::tlm_response_status rs = addr >= mmap::kPeBase ? access_pe(write, addr, trans.get_data_ptr(), len)
                                                        : access_register(write, addr, trans.get_data_ptr(), len);
    trans.set_response_status(rs);
    if (rs == tlm::TLM_OK_RESPONSE) {
        // I/O mode time: the DMA moves dma_bits per cycle.
        const uint64_t io = (uint64_t(len) * 8 + arch_.dma_bits - 1) / arch_.dma_bits;
        array_.count_io(len, io);
        delay += period_ * double(io);
    }
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

tlm::tlm_response_status HostInterface::access_pe(bool write, uint64_t addr, uint8_t* data, uint32_t len) {
    const uint64_t rel = addr - mmap::kPeBase;
    const uint64_t pe = rel >> mmap::kPeShift;
    const uint32_t region =
        static_cast<uint32_t>((rel >> mmap::kRegionShift) & ((1u << (mmap::kPeShift - mmap::kRegionShift)) - 1));
    const uint64_t off = rel & ((uint64_t(1) << mmap::kRegionShift) - 1);
    if (pe >= arch_.num_pes || region >= mmap::kRegions) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (off + len > (uint64_t(1) << mmap::kRegionShift)) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
    if (array_.computing()) return tlm::TLM_GENERIC_ERROR_RESPONSE;  // PE memories belong to the array
    const bool ok = array_.window_of(uint32_t(pe)).window_access(PeMemory(region), write, off, data, len);
    return ok ? tlm::TLM_OK_RESPONSE : tlm::TLM_ADDRESS_ERROR_RESPONSE;
}

}  // namespace eie
