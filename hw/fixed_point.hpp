// The fixed-point arithmetic of EIE, shared by the golden reference model and
// the cycle model's arithmetic unit so the two cannot drift apart.
//
// Rules (docs/fixed-point.md explains the choices):
// - A value with F fractional bits in a B-bit word represents v / 2^F, and
//   is held in int32_t, always inside [-2^(B-1), 2^(B-1) - 1].
// - quantize(): x * 2^F rounded to nearest, ties away from zero, then
//   saturated to B bits. NaN is a caller error (checked before).
// - product term: the full-precision product a * w (up to 2^62 in magnitude at 32-bit widths, so int64) is
//   shifted right by s = in_frac + w_frac - out_frac with rounding to
//   nearest, ties toward +infinity (add 2^(s-1), arithmetic shift); s may be
//   negative, in which case the product is shifted left (exact). The term is
//   kept at full width (int64) until the accumulation.
// - accumulation: acc + term saturated to B bits after every add (the
//   destination register is B bits wide), so the order of accumulation is
//   part of the result: columns in broadcast order, entries in storage order.
// - ReLU: max(0, v), applied when a destination becomes a source.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace eie::fx {

// The product-term shifts the arithmetic unit implements (and an image may
// ask for): a right shift of up to 62 keeps the rounding bit inside the
// 64-bit product, a left shift of up to 31 keeps a 32-bit product in 63 bits.
constexpr int kMinShift = -31;
constexpr int kMaxShift = 62;

inline int64_t max_value(unsigned bits) { return (int64_t(1) << (bits - 1)) - 1; }
inline int64_t min_value(unsigned bits) { return -(int64_t(1) << (bits - 1)); }

inline int32_t saturate(int64_t v, unsigned bits) {
    const int64_t hi = max_value(bits), lo = min_value(bits);
    return static_cast<int32_t>(v > hi ? hi : (v < lo ? lo : v));
}

inline int32_t quantize(double x, int frac_bits, unsigned bits) {
    double scaled = std::ldexp(x, frac_bits);
    double r = std::round(scaled);  // ties away from zero
    if (r > double(max_value(bits))) return static_cast<int32_t>(max_value(bits));
    if (r < double(min_value(bits))) return static_cast<int32_t>(min_value(bits));
    return static_cast<int32_t>(r);
}

inline double dequantize(int64_t v, int frac_bits) { return std::ldexp(double(v), -frac_bits); }

// The shifted, rounded product of activation a and weight w.
// Any shift is defined (an image's format fields can ask for up to +-192):
// |p| <= 2^62, so a right shift of 64 or more rounds to 0, and a left shift
// is clamped to +-2^62, which saturates every accumulator of at most 32 bits
// exactly as the unbounded product would.
inline int64_t product_term(int32_t a, int32_t w, int shift) {
    const int64_t p = int64_t(a) * int64_t(w);
    if (shift > 0) {
        if (shift >= 64) return 0;
        // 128-bit so that p + 2^(shift-1) cannot overflow for shift = 63.
        return static_cast<int64_t>((static_cast<__int128>(p) + (static_cast<__int128>(1) << (shift - 1))) >> shift);
    }
    if (p == 0 || shift == 0) return p;
    constexpr int64_t kClamp = int64_t(1) << 62;
    const int left = -shift;
    if (left >= 62 || (p > 0 ? p : -p) > (kClamp >> left)) return p > 0 ? kClamp : -kClamp;
    return p * (int64_t(1) << left);
}

inline int32_t accumulate(int32_t acc, int64_t term, unsigned bits) { return saturate(int64_t(acc) + term, bits); }

inline int32_t relu(int32_t v) { return v > 0 ? v : 0; }

// Largest fractional-bit count such that |max_abs| still fits in `bits`
// (with `headroom_bits` spare integer bits); clamped to [min_frac, max_frac].
inline int choose_frac_bits(double max_abs, unsigned bits, int headroom_bits = 0, int min_frac = -8,
                            int max_frac = 30) {
    if (!(max_abs > 0)) return std::min<int>(max_frac, int(bits) - 1);
    int frac = int(bits) - 1 - headroom_bits;
    // integer bits needed for max_abs: smallest k with max_abs < 2^k
    int k = 0;
    while (std::ldexp(1.0, k) <= max_abs && k < 64) ++k;
    while (std::ldexp(1.0, k - 1) > max_abs && k > -64) --k;
    frac -= k;
    if (frac < min_frac) frac = min_frac;
    if (frac > max_frac) frac = max_frac;
    return frac;
}

}  // namespace eie::fx
