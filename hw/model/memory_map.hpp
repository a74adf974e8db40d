// The host-visible memory map of the EIE top level (TLM-2.0 target socket).
// docs/memory-map.md is the user's copy of this table; both come from here.
//
//   0x0_0000_0000  control and status registers (32-bit)
//   0x0_0000_1000  layer descriptor table, kDescWords 32-bit words each
//   0x1_0000_0000 + pe * 2^28   PE windows, each split in 2^25-byte regions:
//        region 0  sparse-matrix SRAM, packed lines (spmat_line_bits/8 bytes each)
//        region 1  pointer SRAM, even bank (bank word i = pointer address 2i)
//        region 2  pointer SRAM, odd bank  (bank word i = pointer address 2i+1)
//        region 3  codebooks: slot * 2^weight_bits + index
//        region 4  source activation register file
//        region 5  destination activation register file
//        region 6  activation SRAM
//   Regions 1-6 hold one value per 32-bit word (little-endian, sign-extended
//   for codebooks and activations). PE memories are accessible only in I/O
//   mode: while computing, an access gets TLM_GENERIC_ERROR_RESPONSE;
//   addresses outside the map get TLM_ADDRESS_ERROR_RESPONSE.
#pragma once

#include <cstdint>

#include "eie/hw/image.hpp"

namespace eie::mmap {

constexpr uint64_t kRegId = 0x000;          // RO  kIdValue
constexpr uint64_t kRegCtrl = 0x004;        // RW  bit0 START, bit1 IRQ_ENABLE, bit2 IRQ_CLEAR (reads back IRQ_ENABLE)
constexpr uint64_t kRegStatus = 0x008;      // RO  bit0 BUSY, bit1 DONE, bit2 ERROR
constexpr uint64_t kRegFirstLayer = 0x00C;  // RW  first descriptor of the sequence
constexpr uint64_t kRegNumLayers = 0x010;   // RW  layers in the sequence
constexpr uint64_t kRegCyclesLo = 0x014;    // RO  computing cycles of the last run
constexpr uint64_t kRegCyclesHi = 0x018;
constexpr uint64_t kRegNumPes = 0x01C;      // RO
constexpr uint64_t kRegMaxLayers = 0x020;   // RO  descriptor slots
constexpr uint64_t kRegError = 0x024;       // RO  why the last START failed (kErr*)
constexpr uint64_t kRegLast = 0x024;

constexpr uint32_t kIdValue = 0x45494501;   // "EIE", version 1
constexpr uint32_t kCtrlStart = 1u << 0;
constexpr uint32_t kCtrlIrqEnable = 1u << 1;
constexpr uint32_t kCtrlIrqClear = 1u << 2;
constexpr uint32_t kStatusBusy = 1u << 0;
constexpr uint32_t kStatusDone = 1u << 1;
constexpr uint32_t kStatusError = 1u << 2;

enum ErrorCode : uint32_t {
    kErrNone = 0,
    kErrNoLayers = 1,          // NUM_LAYERS is 0 or the sequence runs past the table
    kErrBadDescriptor = 2,     // a descriptor does not fit the memories
};

constexpr uint64_t kDescBase = 0x1000;
constexpr uint32_t kDescWords = 16;
constexpr uint32_t kMaxLayers = 256;
constexpr uint64_t kDescEnd = kDescBase + uint64_t(kMaxLayers) * kDescWords * 4;

// Descriptor words
enum DescWord : uint32_t {
    kDescInLen = 0,
    kDescOutLen,
    kDescFlags,        // bit0 bias, bit1 relu, bit2 input in SRAM, bit3 output in SRAM
    kDescBatches,
    kDescPtrBase,
    kDescEntryBaseLo,
    kDescEntryBaseHi,
    kDescCodebookSlot,
    kDescShift,        // signed
    kDescInFrac,       // signed; the bias activation 1.0 = 2^in_frac
    kDescInSramBase,
    kDescOutSramBase,
    kDescOutFrac,      // signed; informational (the host converts results)
    kDescWFrac,        // signed; informational
};

constexpr uint64_t kPeBase = 0x1'0000'0000ull;
constexpr uint32_t kPeShift = 28;
constexpr uint32_t kRegionShift = 25;
enum Region : uint32_t {
    kSpmat = 0,
    kPtrEven = 1,
    kPtrOdd = 2,
    kCodebook = 3,
    kSrcRf = 4,
    kDstRf = 5,
    kActSram = 6,
    kRegions = 7,
};

inline uint64_t pe_addr(uint32_t pe, Region r, uint64_t offset) {
    return kPeBase + (uint64_t(pe) << kPeShift) + (uint64_t(r) << kRegionShift) + offset;
}

inline void encode_descriptor(const LayerDesc& l, uint32_t* w) {
    for (uint32_t i = 0; i < kDescWords; ++i) w[i] = 0;
    w[kDescInLen] = l.in_len;
    w[kDescOutLen] = l.out_len;
    w[kDescFlags] = (l.has_bias ? 1u : 0u) | (l.act == Activation::relu ? 2u : 0u) | (l.input.in_sram ? 4u : 0u) |
                    (l.output.in_sram ? 8u : 0u);
    w[kDescBatches] = l.num_batches;
    w[kDescPtrBase] = static_cast<uint32_t>(l.ptr_base);
    w[kDescEntryBaseLo] = static_cast<uint32_t>(l.entry_base);
    w[kDescEntryBaseHi] = static_cast<uint32_t>(l.entry_base >> 32);
    w[kDescCodebookSlot] = l.codebook_slot;
    w[kDescShift] = static_cast<uint32_t>(l.fmt.shift());
    w[kDescInFrac] = static_cast<uint32_t>(l.fmt.in_frac);
    w[kDescInSramBase] = l.input.sram_base;
    w[kDescOutSramBase] = l.output.sram_base;
    w[kDescOutFrac] = static_cast<uint32_t>(l.fmt.out_frac);
    w[kDescWFrac] = static_cast<uint32_t>(l.fmt.w_frac);
}

// The hardware view of a descriptor (no codebook values, no name).
inline LayerDesc decode_descriptor(const uint32_t* w) {
    LayerDesc l;
    l.in_len = w[kDescInLen];
    l.out_len = w[kDescOutLen];
    l.has_bias = w[kDescFlags] & 1u;
    l.act = (w[kDescFlags] & 2u) ? Activation::relu : Activation::identity;
    l.input.in_sram = w[kDescFlags] & 4u;
    l.output.in_sram = w[kDescFlags] & 8u;
    l.num_batches = w[kDescBatches];
    l.ptr_base = w[kDescPtrBase];
    l.entry_base = uint64_t(w[kDescEntryBaseLo]) | (uint64_t(w[kDescEntryBaseHi]) << 32);
    l.codebook_slot = w[kDescCodebookSlot];
    l.fmt.in_frac = int32_t(w[kDescInFrac]);
    l.fmt.out_frac = int32_t(w[kDescOutFrac]);
    l.fmt.w_frac = int32_t(w[kDescWFrac]);
    // shift is carried explicitly; keep w_frac consistent with it
    l.fmt.w_frac = int32_t(w[kDescShift]) - l.fmt.in_frac + l.fmt.out_frac;
    l.input.sram_base = w[kDescInSramBase];
    l.output.sram_base = w[kDescOutSramBase];
    return l;
}

}  // namespace eie::mmap
