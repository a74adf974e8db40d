// A per-cycle observer of the model (the VCD writer is one). The top level
// calls sample() at the end of every computing cycle when one is attached,
// so tracing costs nothing when it is off.
#pragma once

#include <cstdint>

namespace eie {

class Eie;

class Tracer {
public:
    virtual ~Tracer() = default;
    virtual void sample(uint64_t cycle, const Eie& eie) = 0;
    virtual void finish(uint64_t /*cycle*/) {}
};

}  // namespace eie
