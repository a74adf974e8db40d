// The output tap: a layer's output vector as the PEs left it (row i in PE
// i mod N, local row i / N, in the register file or the activation SRAM),
// read without counting an access. A debug view for verification; the host
// reads the same values over TLM.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/image.hpp"

namespace eie {

class Pe;

std::vector<int32_t> tap_layer_output(const LayerDesc& l, const std::vector<Pe*>& pes);

}  // namespace eie
