// The closed form of a batch's cycle count (docs/modelling.md, "Closed
// form"), computed before the batch runs from the layer's input (read from
// the PEs without counting an access) and each PE's column cost, never from
// PE state during the run:
//
//   batch cycles = max over PEs p of  F_p(cost_p(j) for the broadcast columns j)
//                  + fixed overhead (LNZD fill + queue hand-over + pointer
//                    read + the arithmetic pipeline)
//                  + write-back (rows of the batch, when the output goes to
//                    the activation SRAM)
//
// F_p is the PE's front-end time when the CCU sends one column per cycle
// (pe_front_end_cycles); with the default PE every column costs at least one
// cycle and F_p is simply the sum of the costs. cost_p(j) is the PE's own
// figure (Pe::column_cost), so a PE variant that changes how long a column
// takes changes the closed form with it. Exact when the CCU never pauses
// (no all-zero pack of activations, no full queue, no stall) and, for the
// default PE, whenever the critical PE never starves.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/image.hpp"
#include "eie/hw/arch_config.hpp"

namespace eie {

class Pe;

// Fixed pipeline latency of a batch beyond the PE work.
uint64_t batch_overhead_cycles(const ArchConfig& arch);

// The columns every batch of `l` broadcasts, in broadcast order: the
// non-zero inputs in ascending order, then the bias column (in_len).
std::vector<uint32_t> broadcast_columns(const LayerDesc& l, const std::vector<Pe*>& pes);

// Cycles from the first pop opportunity to the PE's last front-end action
// (its last slot, or with skip_empty_columns the drop of its last empty
// column), given its cost for each broadcast column in broadcast order and
// one broadcast per cycle.
uint64_t pe_front_end_cycles(const std::vector<uint64_t>& costs);

// The closed form of batch `batch` of `l`, for broadcast columns `cols`.
uint64_t closed_form_batch(const ArchConfig& arch, const LayerDesc& l, uint32_t batch,
                           const std::vector<uint32_t>& cols, const std::vector<Pe*>& pes);

// The sum over every batch of `l`.
uint64_t closed_form_layer(const ArchConfig& arch, const LayerDesc& l, const std::vector<Pe*>& pes);

}  // namespace eie
