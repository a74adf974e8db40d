// Tests of the golden model: it must equal a straightforward dense
// fixed-point computation (independent code below, using only the fx::
// rules) on random layers with saturation, bias, ReLU and identity, several
// layers and batches; and the float reference must equal a dense double
// computation in the same order.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "eie/compress/encode.hpp"
#include "eie/hw/fixed_point.hpp"
#include "eie/hw/golden.hpp"

using namespace eie;

namespace {

struct GenSpec {
    uint32_t in_len, out_len;
    double density;
    bool bias;
    Activation act;
    LayerFormat fmt;
    int32_t max_weight;  // codebook values in [-max_weight, max_weight]
};

QuantLayer make_layer(const std::string& name, const GenSpec& g, uint32_t weight_bits, std::mt19937_64& rng) {
    QuantLayer L;
    L.name = name;
    L.in_len = g.in_len;
    L.out_len = g.out_len;
    L.has_bias = g.bias;
    L.act = g.act;
    L.fmt = g.fmt;
    const uint32_t n = 1u << weight_bits;
    L.codebook.assign(n, 0);
    L.codebook_float.assign(n, 0.0);
    std::uniform_int_distribution<int32_t> w(-g.max_weight, g.max_weight);
    std::uniform_real_distribution<double> jitter(-0.5, 0.5);
    for (uint32_t c = 1; c < n; ++c) {
        int32_t v = w(rng);
        if (v == 0) v = 1;
        L.codebook[c] = v;
        // The float centroid the fixed-point value was rounded from.
        L.codebook_float[c] = std::ldexp(v + jitter(rng), -g.fmt.w_frac);
    }
    std::bernoulli_distribution keep(g.density);
    std::uniform_int_distribution<uint32_t> code(1, n - 1);
    const uint32_t nc = g.in_len + (g.bias ? 1 : 0);
    for (uint32_t j = 0; j < nc; ++j)
        for (uint32_t i = 0; i < g.out_len; ++i)
            if (keep(rng)) L.nonzeros.push_back({i, j, code(rng)});
    return L;
}

std::vector<int32_t> random_input(uint32_t len, double density, int32_t max_abs, bool nonneg, std::mt19937_64& rng) {
    std::vector<int32_t> in(len, 0);
    std::bernoulli_distribution nz(density);
    std::uniform_int_distribution<int32_t> v(nonneg ? 1 : -max_abs, max_abs);
    for (auto& x : in)
        if (nz(rng)) x = v(rng);
    return in;
}

// The dense reference: W as a dense matrix of codebook values, each row
// accumulated over the columns in broadcast order with the fx:: rules.
struct DenseResult {
    std::vector<int32_t> out;
    uint64_t saturations = 0;  // additions whose exact sum left the act_bits range
};

DenseResult dense_layer(const QuantLayer& L, const std::vector<int32_t>& in, unsigned bits) {
    const uint32_t nc = L.in_len + (L.has_bias ? 1 : 0);
    std::vector<int32_t> W(uint64_t(L.out_len) * nc, 0);
    std::vector<bool> present(W.size(), false);
    for (const auto& nz : L.nonzeros) {
        W[uint64_t(nz.row) * nc + nz.col] = L.codebook[nz.code];
        present[uint64_t(nz.row) * nc + nz.col] = true;
    }
    std::vector<uint32_t> order;
    std::vector<int32_t> act(nc, 0);
    for (uint32_t j = 0; j < L.in_len; ++j)
        if (in[j] != 0) {
            order.push_back(j);
            act[j] = in[j];
        }
    if (L.has_bias) {
        order.push_back(L.in_len);
        act[L.in_len] = 1 << L.fmt.in_frac;
    }
    DenseResult r;
    r.out.resize(L.out_len);
    for (uint32_t i = 0; i < L.out_len; ++i) {
        int32_t acc = 0;
        for (uint32_t j : order) {
            if (!present[uint64_t(i) * nc + j]) continue;
            const int64_t t = fx::product_term(act[j], W[uint64_t(i) * nc + j], L.fmt.shift());
            const int64_t exact = int64_t(acc) + t;
            acc = fx::accumulate(acc, t, bits);
            if (exact != acc) ++r.saturations;
        }
        r.out[i] = L.act == Activation::relu ? std::max(acc, 0) : acc;
    }
    return r;
}

std::vector<double> dense_float(const QuantLayer& L, const std::vector<double>& in) {
    const uint32_t nc = L.in_len + (L.has_bias ? 1 : 0);
    std::vector<double> W(uint64_t(L.out_len) * nc, 0.0);
    for (const auto& nz : L.nonzeros) W[uint64_t(nz.row) * nc + nz.col] = L.codebook_float[nz.code];
    std::vector<double> out(L.out_len, 0.0);
    for (uint32_t i = 0; i < L.out_len; ++i) {
        double acc = 0;
        for (uint32_t j = 0; j < nc; ++j) {
            const double a = j < L.in_len ? in[j] : 1.0;
            if (a != 0.0 && W[uint64_t(i) * nc + j] != 0.0) acc += a * W[uint64_t(i) * nc + j];
        }
        out[i] = L.act == Activation::relu ? std::max(acc, 0.0) : acc;
    }
    return out;
}

ArchConfig arch_for(uint32_t N, uint32_t rf, uint32_t act_bits, uint32_t index_bits = 4) {
    ArchConfig a;
    a.num_pes = N;
    a.act_rf_entries = rf;
    a.act_bits = act_bits;
    a.index_bits = index_bits;
    a.grow_memories = true;
    return a;
}

}  // namespace

TEST_CASE("golden model equals the dense fixed-point computation", "[golden]") {
    std::mt19937_64 rng(2024);
    const LayerFormat formats[] = {{8, 8, 8}, {6, 12, 4}, {2, 2, 6}, {0, 0, 0}, {10, 14, 10}};
    uint64_t saturations = 0, layers = 0, nonzero_outputs = 0, outputs = 0;
    for (uint32_t N : {1u, 2u, 3u, 4u, 7u, 16u}) {
        for (uint32_t bits : {16u, 8u, 12u}) {
            for (const LayerFormat& f : formats) {
                for (int variant = 0; variant < 4; ++variant) {
                    INFO("N=" << N << " act_bits=" << bits << " fmt=" << f.in_frac << "/" << f.w_frac << "/"
                              << f.out_frac << " variant=" << variant);
                    if (f.in_frac > int(bits) - 2) continue;  // bias 1.0 would not be representable
                    const bool bias = variant % 2 == 0;
                    const Activation act = variant < 2 ? Activation::relu : Activation::identity;
                    // act_rf_entries of 3 forces several batches for 40 outputs.
                    const uint32_t rf = variant == 3 ? 3 : 64;
                    const int32_t wmax = variant == 1 ? int32_t(fx::max_value(16)) : 300;
                    GenSpec g{33, 40, 0.3, bias, act, f, wmax};
                    QuantLayer L = make_layer("l", g, 4, rng);
                    const Image img = encode_layers({L}, arch_for(N, rf, bits, 1 + variant % 4));
                    const int32_t amax = int32_t(fx::max_value(bits));
                    const auto in = random_input(L.in_len, 0.5, variant == 2 ? amax / 50 : amax, variant == 0, rng);
                    const DenseResult ref = dense_layer(L, in, bits);
                    const auto got = golden_layer(img, 0, in);
                    CHECK(got == ref.out);
                    saturations += ref.saturations;
                    for (int32_t v : got) nonzero_outputs += v != 0;
                    outputs += got.size();
                    ++layers;
                }
            }
        }
    }
    CHECK(layers > 300);
    // The comparison is only meaningful if saturation and real values happen.
    INFO("saturating additions " << saturations << ", non-zero outputs " << nonzero_outputs << " of " << outputs);
    CHECK(saturations > 1000);
    CHECK(nonzero_outputs * 2 > outputs);
}

TEST_CASE("golden model chains layers with batches", "[golden]") {
    std::mt19937_64 rng(77);
    for (uint32_t N : {1u, 3u, 8u}) {
        for (uint32_t rf : {2u, 5u, 64u}) {
            INFO("N=" << N << " rf=" << rf);
            std::vector<QuantLayer> net;
            const uint32_t sizes[] = {50, 64, 31, 45, 10};
            for (int l = 0; l < 4; ++l) {
                LayerFormat f{l == 0 ? 8 : net.back().fmt.out_frac, 9, 7 + l % 2};
                GenSpec g{sizes[l], sizes[l + 1], 0.25, l != 2, l == 3 ? Activation::identity : Activation::relu, f,
                          400};
                net.push_back(make_layer("fc" + std::to_string(l), g, 4, rng));
            }
            const Image img = encode_layers(net, arch_for(N, rf, 16));
            const auto in = random_input(50, 0.6, 3000, true, rng);
            const auto got = golden_run(img, in);
            REQUIRE(got.size() == net.size());
            std::vector<int32_t> x = in;
            for (std::size_t l = 0; l < net.size(); ++l) {
                x = dense_layer(net[l], x, 16).out;
                CHECK(got[l] == x);
            }
        }
    }
}

TEST_CASE("accumulation order is the broadcast order, with saturation after every add", "[golden]") {
    // One row, act_bits = 8: 100 + 100 saturates at 127, then - 100 gives 27
    // (in any other order the result would differ).
    QuantLayer L;
    L.name = "order";
    L.in_len = 3;
    L.out_len = 1;
    L.act = Activation::identity;
    L.fmt = {0, 0, 0};
    L.codebook.assign(16, 0);
    L.codebook_float.assign(16, 0.0);
    L.codebook[1] = 100;
    L.codebook[2] = -100;
    L.nonzeros = {{0, 0, 1}, {0, 1, 1}, {0, 2, 2}};
    ArchConfig a;
    a.num_pes = 1;
    a.act_bits = 8;
    a.codebook_value_bits = 8;
    const Image img = encode_layers({L}, a);
    CHECK(golden_layer(img, 0, {1, 1, 1}) == std::vector<int32_t>{27});
    CHECK(golden_layer(img, 0, {0, 1, 1}) == std::vector<int32_t>{0});
    // -100, then -200 saturates at -128, then + 100 gives -28.
    CHECK(golden_layer(img, 0, {-1, -1, -1}) == std::vector<int32_t>{-28});
}

TEST_CASE("bias, rounding and ReLU by hand", "[golden]") {
    // 2 outputs, 1 input, bias; in_frac 4, w_frac 4, out_frac 4: shift 4.
    QuantLayer L;
    L.name = "hand";
    L.in_len = 1;
    L.out_len = 2;
    L.has_bias = true;
    L.act = Activation::relu;
    L.fmt = {4, 4, 4};
    L.codebook.assign(16, 0);
    L.codebook_float.assign(16, 0.0);
    L.codebook[1] = 24;   // 1.5
    L.codebook[2] = -40;  // -2.5
    L.codebook[3] = 3;    // 0.1875
    // row 0: 1.5 * a + 0.1875 (bias); row 1: -2.5 * a (bias -2.5)
    L.nonzeros = {{0, 0, 1}, {1, 0, 2}, {0, 1, 3}, {1, 1, 2}};
    ArchConfig a;
    a.num_pes = 2;
    const Image img = encode_layers({L}, a);
    // a = 2.0 (32): row 0 = (32*24 + 8) >> 4 = 48 (3.0), + (16*3 + 8) >> 4 = 3 -> 51;
    // row 1 = -80 + -40 = -120 -> ReLU 0.
    CHECK(golden_layer(img, 0, {32}) == std::vector<int32_t>{51, 0});
    // a = -1/16 (-1): row 0 = (-24 + 8) >> 4 = -1, + 3 = 2; row 1 = (40 + 8) >> 4 = 3, - 40 -> 0.
    CHECK(golden_layer(img, 0, {-1}) == std::vector<int32_t>{2, 0});
    // a = 0: only the bias column is broadcast.
    CHECK(golden_layer(img, 0, {0}) == std::vector<int32_t>{3, 0});
}

TEST_CASE("golden model reads the PE memories", "[golden]") {
    std::mt19937_64 rng(5);
    GenSpec g{20, 12, 1.0, false, Activation::identity, {8, 8, 8}, 200};
    QuantLayer L = make_layer("mem", g, 4, rng);
    Image img = encode_layers({L}, arch_for(3, 64, 16));
    const auto in = random_input(20, 1.0, 100, true, rng);
    const auto before = golden_layer(img, 0, in);
    // Change one codebook value in PE 1 only: only PE 1's rows (1, 4, 7, 10) move.
    img.pes[1].codebooks[0][5] += 50;
    const auto after = golden_layer(img, 0, in);
    for (uint32_t i = 0; i < 12; ++i) {
        INFO("row " << i);
        if (i % 3 != 1) CHECK(after[i] == before[i]);
    }
    CHECK(after != before);
    // A pointer beyond the stored entries is an error, not a silent result.
    img.pes[2].pointers[3] = 1000;
    CHECK_THROWS_WITH(golden_layer(img, 0, in), Catch::Contains("PE 2"));
}

TEST_CASE("float reference equals the dense double computation", "[golden]") {
    std::mt19937_64 rng(99);
    for (uint32_t N : {1u, 4u, 5u}) {
        std::vector<QuantLayer> net;
        net.push_back(make_layer("a", GenSpec{30, 45, 0.3, true, Activation::relu, {8, 8, 8}, 500}, 4, rng));
        net.push_back(make_layer("b", GenSpec{45, 20, 0.3, false, Activation::identity, {8, 8, 8}, 500}, 4, rng));
        const Image img = encode_layers(net, arch_for(N, 4, 16));
        std::vector<double> in(30, 0.0);
        std::uniform_real_distribution<double> u(0, 2);
        for (auto& x : in) x = u(rng) < 0.7 ? u(rng) : 0.0;
        const auto got = float_run(img, in);
        auto x = in;
        for (std::size_t l = 0; l < net.size(); ++l) {
            x = dense_float(net[l], x);
            CHECK(got[l] == x);  // same order of additions: bit-identical
        }
    }
}

TEST_CASE("golden model errors name the layer and the value", "[golden]") {
    std::mt19937_64 rng(6);
    GenSpec g{8, 8, 0.5, true, Activation::relu, {15, 8, 8}, 100};
    QuantLayer L = make_layer("bias15", g, 4, rng);
    const Image img = encode_layers({L}, arch_for(2, 64, 16));
    // 1.0 with 15 fractional bits does not fit 16-bit activations.
    CHECK_THROWS_WITH(golden_layer(img, 0, std::vector<int32_t>(8, 1)),
                      Catch::Contains("'bias15'") && Catch::Contains("in_frac = 15"));
    g.fmt = {8, 8, 8};
    const Image ok = encode_layers({make_layer("ok", g, 4, rng)}, arch_for(2, 64, 16));
    CHECK_THROWS_WITH(golden_layer(ok, 0, std::vector<int32_t>(7, 1)), Catch::Contains("in_len = 8"));
    std::vector<int32_t> big(8, 0);
    big[3] = 40000;
    CHECK_THROWS_WITH(golden_layer(ok, 0, big), Catch::Contains("input[3] = 40000"));
    CHECK_THROWS_AS(golden_layer(ok, 1, big), std::invalid_argument);
}
