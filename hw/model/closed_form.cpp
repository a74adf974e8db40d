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

uint64_t pe_front_end_cycles(const std::vector<uint64_t>& costs) {
    // The pointer read may pop column k once it has arrived (k cycles after
    // the first) and the previous column's last slot is issued; a column
    // with slots occupies them back to back, an empty one (cost 0, only with
    // skip_empty_columns) is dropped when it could be popped. With every
    // cost >= 1 the PE is never ahead of the broadcast and this is the sum.
    uint64_t free_at = 0, idle_at = 0;
    for (uint64_t k = 0; k < costs.size(); ++k) {
        const uint64_t pop = std::max(free_at, k);
        if (costs[k] > 0) free_at = pop + costs[k];
        idle_at = std::max(idle_at, costs[k] > 0 ? free_at : pop);
    }
    return idle_at;
}

uint64_t closed_form_batch(const ArchConfig& arch, const LayerDesc& l, uint32_t batch,
                           const std::vector<uint32_t>& cols, const std::vector<Pe*>& pes) {
    const uint32_t n = arch.num_pes;
    const uint64_t base = l.ptr_base + uint64_t(batch) * l.pointers_per_batch();
    uint64_t worst = 0;
    std::vector<uint64_t> costs(cols.size());
    for (uint32_t p = 0; p < n; ++p) {
        for (std::size_t k = 0; k < cols.size(); ++k) costs[k] = pes[p]->column_cost(l.entry_base, base + cols[k]);
        worst = std::max(worst, pe_front_end_cycles(costs));
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
