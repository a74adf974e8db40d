// The widest datapath (act_bits = codebook_value_bits = 32): layers whose
// codebook values and activations span the whole int32 range, at product
// shifts from the most negative to the most positive an image may hold, run
// in the cycle model bit-exact against the golden model; the golden model
// itself is checked against the fixed-point rules evaluated independently in
// 128-bit integers (exact products, saturation to 32 bits after every add,
// columns in order, the bias column last with the activation 1.0).
#include <catch2/catch.hpp>

#include <limits>

#include <fmt/format.h>

#include "eie/hw/golden.hpp"
#include "eie/hw/model/simulator.hpp"
#include "model_fixtures.hpp"

using namespace eie;

namespace {

using i128 = __int128;
constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

ArchConfig arch32(uint32_t pes) {
    ArchConfig a;
    a.num_pes = pes;
    a.act_bits = 32;
    a.codebook_value_bits = 32;
    return a;
}

// Codebook: the int32 extremes and random values of every magnitude.
QuantLayer wide_layer(const char* name, uint32_t in_len, uint32_t out_len, bool bias, Activation act,
                      LayerFormat fmt, const ArchConfig& arch, test::Rng& rng) {
    QuantLayer q;
    q.name = name;
    q.in_len = in_len;
    q.out_len = out_len;
    q.has_bias = bias;
    q.act = act;
    q.fmt = fmt;
    const uint32_t k = arch.codebook_entries();
    q.codebook.assign(k, 0);
    q.codebook_float.assign(k, 0.0);
    const int32_t fixed[] = {kMin, kMax, kMin + 1, -1, 1};
    for (uint32_t c = 1; c < k; ++c) {
        int32_t v = c <= 5 ? fixed[c - 1] : int32_t(uint32_t(rng.below(1u << 31)) >> rng.below(31)) * (c % 2 ? 1 : -1);
        if (v == 0) v = 7;
        q.codebook[c] = v;
        q.codebook_float[c] = std::ldexp(double(v), -fmt.w_frac);
    }
    const uint32_t cols = in_len + (bias ? 1 : 0);
    for (uint32_t c = 0; c < cols; ++c)
        for (uint32_t r = 0; r < out_len; ++r)
            if (rng.uniform() < 0.3) q.nonzeros.push_back({r, c, 1 + rng.below(k - 1)});
    return q;
}

std::vector<int32_t> wide_input(uint32_t n, test::Rng& rng) {
    std::vector<int32_t> a(n, 0);
    for (uint32_t i = 0; i < n; ++i) {
        if (i < 3) a[i] = i == 0 ? kMax : i == 1 ? kMin : kMax - 1;
        else if (rng.uniform() < 0.6) a[i] = int32_t(rng.below(1u << 31)) >> rng.below(31);
    }
    return a;
}

// The layer by the rules alone.
std::vector<int32_t> reference_layer(const QuantLayer& q, const std::vector<int32_t>& x) {
    std::vector<int32_t> code(uint64_t(q.out_len) * (q.in_len + 1), 0);
    for (const auto& nz : q.nonzeros) code[uint64_t(nz.row) * (q.in_len + 1) + nz.col] = int32_t(nz.code);
    const int s = q.fmt.shift();
    auto term = [&](int32_t a, int32_t w) -> i128 {
        i128 p = i128(a) * i128(w);
        if (s > 0) {
            i128 num = p + (i128(1) << (s - 1)), den = i128(1) << s;
            i128 t = num / den;
            if (num % den != 0 && num < 0) t -= 1;
            return t;
        }
        for (int k = 0; k < -s; ++k) p *= 2;  // |p| <= 2^62, -s <= 31: exact in 128 bits
        return p;
    };
    std::vector<int32_t> y(q.out_len, 0);
    for (uint32_t r = 0; r < q.out_len; ++r) {
        i128 acc = 0;
        const uint32_t cols = q.in_len + (q.has_bias ? 1 : 0);
        for (uint32_t c = 0; c < cols; ++c) {
            const int32_t w = q.codebook[code[uint64_t(r) * (q.in_len + 1) + c]];
            const int32_t a = c < q.in_len ? x[c] : int32_t(1) << q.fmt.in_frac;
            if (w == 0 || a == 0) continue;
            acc += term(a, w);
            acc = acc > kMax ? kMax : acc < kMin ? kMin : acc;
        }
        y[r] = int32_t(q.act == Activation::relu && acc < 0 ? 0 : acc);
    }
    return y;
}

}  // namespace

TEST_CASE("datapath 32-bit: extreme values at every shift, bit-exact and equal to the rules", "[datapath][32-bit]") {
    uint64_t seed = 320;
    std::size_t saturated = 0, inside = 0;
    // (in_frac, w_frac, out_frac): shifts -31, -12, 0, 1, 31, 45, 62
    const LayerFormat formats[] = {{0, 0, 31}, {4, 2, 18}, {10, 10, 20}, {16, 15, 30}, {30, 30, 29}, {30, 30, 15},
                                   {30, 30, -2}};
    for (const LayerFormat& f : formats) {
        for (uint32_t pes : {1u, 4u, 7u}) {
            for (bool bias : {false, true}) {
                if (bias && f.in_frac > 30) continue;
                test::Rng rng(seed++);
                const ArchConfig arch = arch32(pes);
                const Activation act = (seed % 2) ? Activation::relu : Activation::identity;
                QuantLayer q = wide_layer("wide", 19 + pes, 23 + 2 * pes, bias, act, f, arch, rng);
                Image img = encode_layers({q}, arch);
                img.input = wide_input(q.in_len, rng);
                img.expected = golden_run(img, img.input);
                INFO(fmt::format("shift {} (in {} w {} out {}), {} PEs, bias {}", f.shift(), f.in_frac, f.w_frac,
                                 f.out_frac, pes, bias));
                REQUIRE(img.expected.size() == 1);
                CHECK(img.expected[0] == reference_layer(q, img.input));
                for (int32_t v : img.expected[0]) (v == kMax || v == kMin ? saturated : inside) += 1;
                SimResult r = simulate(img);
                CHECK(r.bit_exact);
                CHECK(r.outputs.back() == img.expected.back());
            }
        }
    }
    // The extremes are reached: some sums saturate, most do not.
    CHECK(saturated > 0);
    CHECK(inside > saturated);
}

TEST_CASE("datapath 32-bit: multi-layer networks with batches, bit-exact", "[datapath][32-bit]") {
    for (uint32_t pes : {2u, 8u}) {
        test::Rng rng(3200 + pes);
        ArchConfig arch = arch32(pes);
        arch.act_rf_entries = 4;  // several output batches per layer
        std::vector<QuantLayer> layers = {
            wide_layer("L0", 40, 37, true, Activation::relu, {12, 28, 20}, arch, rng),
            wide_layer("L1", 37, 29, false, Activation::relu, {20, 30, 24}, arch, rng),
            wide_layer("L2", 29, 10, true, Activation::identity, {24, 26, 10}, arch, rng)};
        Image img = encode_layers(layers, arch);
        img.input = wide_input(40, rng);
        img.expected = golden_run(img, img.input);
        std::vector<int32_t> x = img.input;
        for (std::size_t l = 0; l < layers.size(); ++l) {
            x = reference_layer(layers[l], x);
            INFO("layer " << l << ", " << pes << " PEs");
            CHECK(img.expected[l] == x);
        }
        SimResult r = simulate(img);
        INFO(pes << " PEs");
        CHECK(r.bit_exact);
    }
}
