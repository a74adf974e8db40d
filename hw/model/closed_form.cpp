#include "eie/hw/model/closed_form.hpp"

#include <algorithm>

#include "eie/hw/geometry.hpp"
#include "eie/pe/pe.hpp"

namespace eie {

uint64_t batch_overhead_cycles(const ArchConfig& arch) {
    // LNZD fill (one cycle per level), the queue hand-over (a pushed entry is
    // poppable one cycle later), the pointer read, then the arithmetic stages.
    return arch.lnzd_levels() + 2 + Pe::kArithStages;
}

std::vector<uint32_t> broadcast_columns(const LayerDesc& l, const std::vector<Pe*>& pes) {
    const uint32_t n = static_cast<uint32_t>(pes.size());
    return broadcast_columns(l.in_len, l.has_bias, [&](uint32_t j) { return pes[j % n]->peek(l.input, j / n) != 0; });
}

uint64_t closed_form_batch(const ArchConfig& arch, const LayerDesc& l, uint32_t batch,
                           const std::vector<uint32_t>& cols, const std::vector<Pe*>& pes) {
    const uint32_t n = arch.num_pes;
    const uint64_t base = l.ptr_base + uint64_t(batch) * l.pointers_per_batch();
    uint64_t worst = 0;
    for (uint32_t p = 0; p < n; ++p) {
        uint64_t sum = 0;
        for (uint32_t j : cols) sum += pes[p]->column_cost(l.entry_base, base + j);
        worst = std::max(worst, sum);
    }
    uint64_t wb = 0;
    if (l.output.in_sram)
        for (uint32_t p = 0; p < n; ++p) wb = std::max<uint64_t>(wb, local_rows_in_batch(l.out_len, arch, p, batch));
    return worst + batch_overhead_cycles(arch) + wb;
}

uint64_t closed_form_layer(const ArchConfig& arch, const LayerDesc& l, const std::vector<Pe*>& pes) {
    const std::vector<uint32_t> cols = broadcast_columns(l, pes);
    uint64_t sum = 0;
    for (uint32_t b = 0; b < l.num_batches; ++b) sum += closed_form_batch(arch, l, b, cols, pes);
    return sum;
}

}  // namespace eie
