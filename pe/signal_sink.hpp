// The waveform interface of the model's units. A unit that offers signals
// declares them once (name, width) and, every traced cycle, gives their
// values in the same order; the sink (the VCD writer) owns the file format,
// the scopes and which units and cycles are traced. Units know nothing of
// VCD, and the writer knows nothing of the units' registers.
#pragma once

#include <cstdint>

namespace eie {

class SignalSink {
public:
    // The unit's next signal, `width` bits (1..64).
    virtual void declare(const char* name, uint32_t width) = 0;
    // The next signal's value this cycle; known = false dumps x.
    virtual void value(uint64_t v, bool known = true) = 0;
    void value_signed(int64_t v, bool known = true) { value(uint64_t(v), known); }

protected:
    ~SignalSink() = default;
};

// Bits needed to hold v (at least 1): signal widths of counts and addresses.
inline uint32_t signal_bits(uint64_t v) {
    uint32_t n = 0;
    while (v) {
        ++n;
        v >>= 1;
    }
    return n ? n : 1;
}

}  // namespace eie
