// The fixed-point rules at the widest datapath (act_bits = codebook_value_bits
// = 32): a 32 x 32-bit product needs 64 bits, so product_term, accumulate
// and quantize are checked at the extremes of int32 against their
// definitions computed exactly in 128-bit integers, over every shift an
// image may ask for and beyond.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "eie/hw/fixed_point.hpp"

using namespace eie;

namespace {

using i128 = __int128;

// The definition: p = a * w exactly; s > 0: round(p / 2^s) to nearest, ties
// toward +infinity, i.e. floor((p + 2^(s-1)) / 2^s); s <= 0: p * 2^-s,
// clamped to +-2^62 (which saturates any accumulator of at most 32 bits as
// the unbounded value would).
i128 reference_term(int32_t a, int32_t w, int s) {
    const i128 p = i128(a) * i128(w);
    if (s > 0) {
        if (s >= 100) return 0;  // |p| <= 2^62: rounds to 0 long before
        const i128 num = p + (i128(1) << (s - 1));
        const i128 den = i128(1) << s;
        i128 q = num / den;
        if (num % den != 0 && num < 0) q -= 1;  // floor, not truncation
        return q;
    }
    const i128 clamp = i128(1) << 62;
    i128 v = p;
    for (int k = 0; k < -s && v != 0 && v < clamp && v > -clamp; ++k) v *= 2;
    return v > clamp ? clamp : v < -clamp ? -clamp : v;
}

i128 saturate_ref(i128 v, unsigned bits) {
    const i128 hi = (i128(1) << (bits - 1)) - 1, lo = -(i128(1) << (bits - 1));
    return v > hi ? hi : v < lo ? lo : v;
}

std::vector<int32_t> extreme_values() {
    const int32_t mn = std::numeric_limits<int32_t>::min(), mx = std::numeric_limits<int32_t>::max();
    std::vector<int32_t> v = {mn, mn + 1, -(1 << 30), -65536, -3, -2, -1, 0, 1, 2, 3, 65535, 1 << 30, mx - 1, mx};
    std::mt19937_64 rng(32);
    std::uniform_int_distribution<int32_t> any(mn, mx);
    for (int k = 0; k < 12; ++k) v.push_back(any(rng));
    return v;
}

}  // namespace

TEST_CASE("fixed point 32-bit: product_term equals its exact definition at the extremes", "[fixed-point][32-bit]") {
    const auto values = extreme_values();
    std::size_t checked = 0;
    for (int s = -200; s <= 200; ++s) {
        for (int32_t a : values) {
            for (int32_t w : values) {
                const int64_t got = fx::product_term(a, w, s);
                const i128 want = reference_term(a, w, s);
                if (i128(got) != want) {
                    INFO("a = " << a << ", w = " << w << ", shift = " << s << ", got " << got);
                    FAIL("product_term differs from the exact rounded product");
                }
                ++checked;
            }
        }
    }
    CHECK(checked == 401 * values.size() * values.size());
    // The largest product, (-2^31)^2 = 2^62, and its neighbours.
    const int32_t mn = std::numeric_limits<int32_t>::min(), mx = std::numeric_limits<int32_t>::max();
    CHECK(fx::product_term(mn, mn, 0) == (int64_t(1) << 62));
    CHECK(fx::product_term(mn, mx, 0) == -(int64_t(1) << 62) + (int64_t(1) << 31));
    CHECK(fx::product_term(mn, mn, 62) == 1);
    CHECK(fx::product_term(mn, mn, 63) == 1);  // 2^62 / 2^63 = 0.5 rounds up (ties toward +infinity)
    CHECK(fx::product_term(mn, mx, 63) == 0);  // -0.49999... rounds to 0
    CHECK(fx::product_term(mn, mn, -1) == (int64_t(1) << 62));  // clamped
    CHECK(fx::product_term(-1, 1, 1) == 0);                     // -0.5 rounds toward +infinity
    CHECK(fx::product_term(-3, 1, 1) == -1);                    // -1.5 -> -1
}

TEST_CASE("fixed point 32-bit: accumulate saturates to 32 bits exactly", "[fixed-point][32-bit]") {
    const auto values = extreme_values();
    const int64_t big = int64_t(1) << 62;
    std::vector<int64_t> terms = {-big, -big + 1, -(int64_t(1) << 32), -1, 0, 1, int64_t(1) << 32, big - 1, big};
    for (int32_t v : values) terms.push_back(v);
    for (unsigned bits : {8u, 12u, 16u, 31u, 32u}) {
        for (int32_t acc0 : values) {
            const int32_t acc = int32_t(saturate_ref(acc0, bits));  // a register of `bits` bits holds this
            for (int64_t t : terms) {
                INFO("bits = " << bits << ", acc = " << acc << ", term = " << t);
                CHECK(i128(fx::accumulate(acc, t, bits)) == saturate_ref(i128(acc) + i128(t), bits));
            }
        }
    }
}

TEST_CASE("fixed point 32-bit: quantize saturates to the 32-bit range", "[fixed-point][32-bit]") {
    const int32_t mn = std::numeric_limits<int32_t>::min(), mx = std::numeric_limits<int32_t>::max();
    CHECK(fx::quantize(1e30, 0, 32) == mx);
    CHECK(fx::quantize(-1e30, 0, 32) == mn);
    CHECK(fx::quantize(2147483647.4, 0, 32) == mx);
    CHECK(fx::quantize(2147483647.5, 0, 32) == mx);  // rounds to 2^31, saturates
    CHECK(fx::quantize(-2147483648.4, 0, 32) == mn);
    CHECK(fx::quantize(0.75, 30, 32) == (3 << 28));
    CHECK(fx::quantize(-2.0, 30, 32) == mn);  // -2^31 exactly
    CHECK(fx::quantize(2.0, 30, 32) == mx);   // 2^31 does not fit
    CHECK(fx::dequantize(fx::quantize(-1.5, 29, 32), 29) == -1.5);
}
