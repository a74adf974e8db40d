// Magnitude pruning.
//
// prune_to_density finds the cut with a two-level radix select on the float
// bit patterns of |w| (for non-negative IEEE floats the unsigned bit
// pattern orders like the value): one pass histograms the top 16 bits, one
// pass the low 16 bits inside the selected bucket, one pass removes. O(n)
// time, 512 KB of counters, no copy of the weights: fine for 100M-weight
// layers where a vector of (magnitude, index) pairs would need 1.6 GB.
//
// NaN and infinities are rejected by callers before pruning; should one get
// here, it does not crash: a NaN ranks as +infinity (so it is kept and the
// caller's checks still see it), an infinity is simply the largest value.
#include "eie/compress/prune.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace eie {

namespace {

uint32_t magnitude_key(float w) {
    if (std::isnan(w)) return 0x7f800000u;  // rank NaN as +inf
    const float a = std::fabs(w);
    uint32_t k;
    std::memcpy(&k, &a, 4);
    return k;
}

float key_value(uint32_t k) {
    float f;
    std::memcpy(&f, &k, 4);
    return f;
}

std::string num(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

}  // namespace

PruneResult prune_to_density(FloatLayer& layer, double density) {
    if (!(density >= 0.0 && density <= 1.0))
        throw std::invalid_argument("prune layer '" + layer.name + "': density = " + num(density) +
                                    " is invalid (allowed: 0 .. 1)");
    PruneResult r;
    r.total = layer.weights.size();
    std::vector<uint64_t> hi(1u << 16, 0);
    for (float w : layer.weights) {
        if (w != 0.0f) {
            ++r.nonzero_before;
            ++hi[magnitude_key(w) >> 16];
        }
    }
    const uint64_t keep = std::min<uint64_t>(r.total, uint64_t(std::llround(density * double(r.total))));
    if (keep >= r.nonzero_before) {
        r.nonzero_after = r.nonzero_before;
        return r;  // nothing to remove; threshold 0
    }

    // The keep-th largest key (1-based) is `cut`; `above` keys are larger.
    uint64_t above = 0;
    uint32_t cut = 0;
    if (keep > 0) {
        uint32_t bucket = 0xffff;
        for (;; --bucket) {
            if (above + hi[bucket] >= keep) break;
            above += hi[bucket];
        }
        std::vector<uint64_t> lo(1u << 16, 0);
        for (float w : layer.weights)
            if (w != 0.0f && (magnitude_key(w) >> 16) == bucket) ++lo[magnitude_key(w) & 0xffff];
        uint32_t low = 0xffff;
        for (;; --low) {
            if (above + lo[low] >= keep) break;
            above += lo[low];
        }
        cut = (bucket << 16) | low;
    }

    // Keep every key > cut and, among keys == cut, the first ones by
    // position until `keep` weights are kept.
    uint64_t ties_left = keep - above;
    uint32_t largest_removed = 0;
    for (float& w : layer.weights) {
        if (w == 0.0f) continue;
        const uint32_t k = magnitude_key(w);
        bool kept = keep > 0 && (k > cut || (k == cut && ties_left > 0));
        if (kept && k == cut) --ties_left;
        if (kept) {
            ++r.nonzero_after;
        } else {
            largest_removed = std::max(largest_removed, k);
            w = 0.0f;
        }
    }
    r.threshold = key_value(largest_removed);
    return r;
}

PruneResult prune_by_threshold(FloatLayer& layer, double threshold) {
    if (!(threshold >= 0.0))
        throw std::invalid_argument("prune layer '" + layer.name + "': threshold = " + num(threshold) +
                                    " is invalid (allowed: >= 0)");
    PruneResult r;
    r.total = layer.weights.size();
    r.threshold = threshold;
    for (float& w : layer.weights) {
        if (w == 0.0f) continue;
        ++r.nonzero_before;
        // NaN compares false and is kept (see the top of the file).
        if (double(std::fabs(w)) < threshold)
            w = 0.0f;
        else
            ++r.nonzero_after;
    }
    return r;
}

}  // namespace eie
