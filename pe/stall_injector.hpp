// Seeded random bubbles for stall injection (testing only): a unit asks
// once per cycle whether to hold. Shared by the PE front ends and the CCU.
#pragma once

#include <cstdint>

#include "eie/hw/rng.hpp"

namespace eie {

class StallInjector {
public:
    // probability in [0, 1); 0 disables. `stream` separates the units.
    void configure(double probability, uint64_t seed, uint64_t stream) {
        p_ = probability;
        state_ = seed * 0x9E3779B97F4A7C15ull + stream;
    }
    bool enabled() const { return p_ > 0; }
    bool hold() {
        if (p_ <= 0) return false;
        return double(splitmix64(state_) >> 11) * 0x1.0p-53 < p_;
    }

private:
    double p_ = 0;
    uint64_t state_ = 0;
};

}  // namespace eie
