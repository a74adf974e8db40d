#include "eie/hw/model/output_tap.hpp"

#include "eie/pe/pe.hpp"

namespace eie {

std::vector<int32_t> tap_layer_output(const LayerDesc& l, const std::vector<Pe*>& pes) {
    std::vector<int32_t> out(l.out_len);
    const uint32_t n = static_cast<uint32_t>(pes.size());
    for (uint32_t i = 0; i < l.out_len; ++i) out[i] = pes[i % n]->peek(l.output, i / n);
    return out;
}

}  // namespace eie
