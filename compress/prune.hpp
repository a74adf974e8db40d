// Magnitude pruning (Deep Compression step 1), per layer.
#pragma once

#include <cstdint>

#include "eie/compress/synthetic.hpp"

namespace eie {

struct PruneResult {
    uint64_t total = 0;       // weights in the layer
    uint64_t nonzero_before = 0;
    uint64_t nonzero_after = 0;
    double threshold = 0;     // magnitude below (or at) which weights were removed
    double density() const { return total ? double(nonzero_after) / double(total) : 0.0; }
};

// Keeps the round(density * total) largest-magnitude weights (ties broken by
// position so the result is deterministic); weights already zero stay zero
// and count towards the pruned ones. Bias is never pruned.
PruneResult prune_to_density(FloatLayer& layer, double density);
// Removes every weight with |w| < threshold.
PruneResult prune_by_threshold(FloatLayer& layer, double threshold);

}  // namespace eie
