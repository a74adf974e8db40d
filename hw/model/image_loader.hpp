// The image loader: what an initiator writes over the memory map
// (memory_map.hpp, docs/memory-map.md) to load an image, an input vector,
// and what it reads to get a layer's output. It is a plain list of
// (address, bytes) transfers, so any TLM-2.0 initiator (a CPU model, a DMA
// engine, a debugger through transport_dbg) can issue them in any order,
// split into bursts as it likes; HostDriver is one such initiator.
// docs/embedding.md documents the packing.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/image.hpp"

namespace eie {

// One write: `data` goes to the consecutive addresses from `addr`.
struct BusWrite {
    uint64_t addr = 0;
    std::vector<uint8_t> data;
};

// Every PE's sparse-matrix lines, pointer banks and codebooks, the layer
// descriptors (slot k = layer k), then the image's own input for layer 0.
// Throws std::invalid_argument when the image has more layers than
// descriptor slots.
std::vector<BusWrite> image_writes(const Image& image);

// The input of `layer` (in_len fixed-point values), interleaved over the
// PEs (value i to PE i % N, local index i / N) into the layer's source:
// the source register file, or the activation SRAM at the layer's input
// base. Throws std::invalid_argument for a wrong length or layer.
std::vector<BusWrite> input_writes(const Image& image, const std::vector<int32_t>& input, uint32_t layer = 0);

// Where `layer` leaves its output after a run: per PE, `words` 32-bit words
// from `addr` (PEs without rows are left out).
struct OutputRead {
    uint32_t pe = 0;
    uint64_t addr = 0;
    uint32_t words = 0;
};
std::vector<OutputRead> output_reads(const Image& image, uint32_t layer);

// The output vector from the words read, one vector per output_reads() entry
// in its order: local row k of PE p is row p + k * N.
std::vector<int32_t> assemble_output(const Image& image, uint32_t layer,
                                     const std::vector<std::vector<uint32_t>>& words);

}  // namespace eie
