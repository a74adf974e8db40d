// The compression pipeline (compress_network) and the storage report.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>

#include "eie/compress/compressor.hpp"
#include "eie/compress/encode.hpp"
#include "eie/hw/fixed_point.hpp"
#include "eie/hw/golden.hpp"
#include "eie/compress/storage_report.hpp"

using namespace eie;

namespace {

// Weights drawn from a small set of distinct values so k-means keeps them
// exactly (at most 15 distinct non-zeros), placed pseudo-randomly.
FloatLayer exact_layer(const std::string& name, uint32_t in, uint32_t out, bool bias, uint32_t seed,
                       Activation act = Activation::relu) {
    static const float vals[] = {-0.75f, -0.5f, -0.25f, -0.125f, 0.125f, 0.25f, 0.5f, 0.875f};
    FloatLayer L;
    L.name = name;
    L.in_len = in;
    L.out_len = out;
    L.act = act;
    L.weights.assign(uint64_t(in) * out, 0.0f);
    uint32_t s = seed * 2654435761u + 12345u;
    auto next = [&] {
        s = s * 1664525u + 1013904223u;
        return s >> 8;
    };
    for (auto& w : L.weights)
        if (next() % 3 == 0) w = vals[next() % 8];
    if (bias) {
        L.bias.resize(out);
        for (auto& b : L.bias) b = (next() % 2) ? vals[next() % 8] : 0.0f;
    }
    return L;
}

std::vector<double> ramp_input(uint32_t n) {
    std::vector<double> x(n, 0.0);
    for (uint32_t i = 0; i < n; ++i)
        if (i % 3 != 1) x[i] = 0.05 * double((i * 7) % 19);
    return x;
}

ArchConfig small_arch() {
    ArchConfig a;
    a.num_pes = 4;
    a.act_rf_entries = 2;  // forces several batches
    a.spmat_sram_bytes = 4096;
    a.ptr_sram_bytes = 1024;
    return a;
}

// An independent dense fixed-point recomputation of one layer from the float
// weights: the same rules (fixed_point.hpp) and the same order (non-zero
// inputs by index, then the bias; every row on its own).
std::vector<int32_t> dense_fixed(const FloatLayer& L, const LayerDesc& d, const std::vector<int32_t>& x,
                                 unsigned bits) {
    // code of each distinct float weight value, from the descriptor's float codebook
    auto code_of = [&](float w) {
        for (uint32_t c = 1; c < d.codebook_float.size(); ++c)
            if (d.codebook_float[c] == double(w)) return c;
        FAIL("weight value " << w << " is not in the codebook");
        return 0u;
    };
    std::vector<int32_t> out(L.out_len, 0);
    for (uint32_t r = 0; r < L.out_len; ++r) {
        int32_t acc = 0;
        for (uint32_t c = 0; c < L.in_len; ++c) {
            float w = L.at(r, c);
            if (w == 0.0f || x[c] == 0) continue;
            acc = fx::accumulate(acc, fx::product_term(x[c], d.codebook[code_of(w)], d.fmt.shift()), bits);
        }
        if (!L.bias.empty() && L.bias[r] != 0.0f)
            acc = fx::accumulate(acc, fx::product_term(int32_t(1) << d.fmt.in_frac, d.codebook[code_of(L.bias[r])],
                                                       d.fmt.shift()),
                                 bits);
        out[r] = (L.act == Activation::relu && acc < 0) ? 0 : acc;
    }
    return out;
}

}  // namespace

TEST_CASE("compress_network: two layers with bias, exact codebook, bit-exact to a dense recomputation",
          "[compressor]") {
    std::vector<FloatLayer> net = {exact_layer("fc1", 10, 9, true, 1), exact_layer("fc2", 9, 6, true, 2,
                                                                                   Activation::identity)};
    CompressOptions opt;
    opt.arch = small_arch();
    auto x = ramp_input(10);
    CompressResult res = compress_network(net, x, {}, opt);
    const Image& img = res.image;

    REQUIRE(img.layers.size() == 2);
    CHECK(img.layers[1].fmt.in_frac == img.layers[0].fmt.out_frac);
    CHECK(res.layers[0].kmeans_exact);
    CHECK(res.layers[0].num_batches == 2);  // 9 rows on 4 PEs, 2 local rows per batch
    // The decoded non-zeros are exactly the non-zeros of [W | b], with their values.
    auto dec = decode_layers(img);
    for (std::size_t l = 0; l < 2; ++l) {
        const FloatLayer& L = net[l];
        std::map<std::pair<uint32_t, uint32_t>, double> got;
        for (const auto& nz : dec[l].nonzeros) got[{nz.row, nz.col}] = img.layers[l].codebook_float[nz.code];
        uint64_t expect_count = 0;
        for (uint32_t r = 0; r < L.out_len; ++r) {
            for (uint32_t c = 0; c <= L.in_len; ++c) {
                float w = c < L.in_len ? L.at(r, c) : L.bias[r];
                if (w == 0.0f) continue;
                ++expect_count;
                auto it = got.find({r, c});
                REQUIRE(it != got.end());
                CHECK(it->second == double(w));
            }
        }
        CHECK(got.size() == expect_count);
    }
    // Reference outputs.
    REQUIRE(img.input.size() == 10);
    for (std::size_t k = 0; k < x.size(); ++k)
        CHECK(img.input[k] == fx::quantize(x[k], img.layers[0].fmt.in_frac, opt.arch.act_bits));
    CHECK(img.expected == golden_run(img, img.input));
    CHECK(img.expected_float == float_run(img, img.input_float));
    auto y0 = dense_fixed(net[0], img.layers[0], img.input, opt.arch.act_bits);
    CHECK(y0 == img.expected[0]);
    CHECK(dense_fixed(net[1], img.layers[1], y0, opt.arch.act_bits) == img.expected[1]);
    // 16-bit fixed point tracks the float reference closely.
    for (const auto& r : res.layers) {
        CHECK(r.snr_db > 50.0);
        CHECK(r.outputs_saturated == 0);
        CHECK(r.outputs_compared == r.out_len);
    }
    // Report JSON carries the per-layer sections.
    CHECK(res.report["layers"].size() == 2);
    CHECK(res.report["layers"][0]["formats"]["shift"] == img.layers[0].fmt.shift());
    CHECK(res.report["storage"]["layers"].size() == 2);
    CHECK(!format_report(res).empty());
}

TEST_CASE("compress_network: formats follow the data and the overrides", "[compressor]") {
    std::vector<FloatLayer> net = {exact_layer("a", 8, 8, false, 3), exact_layer("b", 8, 4, false, 4)};
    CompressOptions opt;
    opt.arch = small_arch();
    std::vector<double> x(8, 0.25);
    auto res = compress_network(net, x, {}, opt);
    // Layer 0 input from max |x|, codebook from max |centroid|, output with 1 bit of headroom.
    CHECK(res.image.layers[0].fmt.in_frac == fx::choose_frac_bits(0.25, 16));
    CHECK(res.image.layers[0].fmt.w_frac == fx::choose_frac_bits(0.875, 16));
    CHECK(res.image.layers[0].fmt.out_frac == fx::choose_frac_bits(res.layers[0].max_abs_output, 16, 1));

    // Calibration vectors widen the input range.
    std::vector<std::vector<double>> cal = {std::vector<double>(8, 3.0)};
    auto res2 = compress_network(net, x, cal, opt);
    CHECK(res2.image.layers[0].fmt.in_frac == fx::choose_frac_bits(3.0, 16));
    CHECK(res2.layers[0].outputs_compared == 2 * 8);
    CHECK(res2.calibration_vectors == 1);

    opt.in_frac = 9;
    opt.layers.resize(2);
    opt.layers[0].w_frac = 11;
    opt.layers[0].out_frac = 7;
    opt.layers[1].out_frac = 5;
    auto res3 = compress_network(net, x, {}, opt);
    const auto& L = res3.image.layers;
    CHECK(L[0].fmt.in_frac == 9);
    CHECK(L[0].fmt.w_frac == 11);
    CHECK(L[0].fmt.out_frac == 7);
    CHECK(L[1].fmt.in_frac == 7);
    CHECK(L[1].fmt.out_frac == 5);
    CHECK(res3.layers[0].w_frac_override);
    CHECK(!res3.layers[1].w_frac_override);
    CHECK(L[0].codebook[1] == fx::quantize(L[0].codebook_float[1], 11, 16));

    opt.layers[1].out_frac = 31;
    CHECK_THROWS_WITH(compress_network(net, x, {}, opt), Catch::Contains("out_frac = 31") && Catch::Contains("-8 .. 30"));
}

TEST_CASE("compress_network: a centroid that rounds to 0 keeps its sign", "[compressor]") {
    FloatLayer L;
    L.name = "tiny";
    L.in_len = 4;
    L.out_len = 2;
    L.act = Activation::identity;
    L.weights = {1.0f, 1e-9f, 0.0f, -1e-9f, 0.5f, 0.0f, 0.0f, -0.5f};
    CompressOptions opt;
    opt.arch = small_arch();
    auto res = compress_network({L}, {1, 1, 1, 1}, {}, opt);
    const LayerDesc& d = res.image.layers[0];
    CHECK(res.layers[0].centroids_nudged == 2);
    for (uint32_t c = 1; c < d.codebook.size(); ++c) {
        if (d.codebook_float[c] == 0.0) continue;
        CHECK(d.codebook[c] != 0);
        CHECK((d.codebook[c] > 0) == (d.codebook_float[c] > 0));
        if (std::fabs(d.codebook_float[c]) < 1e-6) CHECK(std::abs(d.codebook[c]) == 1);
    }
}

TEST_CASE("compress_network: pruning per layer", "[compressor]") {
    std::vector<FloatLayer> net = {exact_layer("p", 20, 12, false, 5), exact_layer("q", 12, 8, false, 6)};
    CompressOptions opt;
    opt.arch = small_arch();
    opt.layers.resize(2);
    opt.layers[0].prune = PruneMode::density;
    opt.layers[0].prune_value = 0.1;
    opt.layers[1].prune = PruneMode::threshold;
    opt.layers[1].prune_value = 0.3;
    auto res = compress_network(net, ramp_input(20), {}, opt);
    CHECK(res.layers[0].nonzero_after == uint64_t(std::llround(0.1 * 240)));
    CHECK(res.layers[0].density_after == Approx(0.1).margin(1.0 / 240));
    CHECK(res.layers[0].density_before > 0.2);
    uint64_t big = 0;
    for (float w : net[1].weights) big += std::fabs(w) >= 0.3f;
    CHECK(res.layers[1].nonzero_after == big);
    CHECK(res.layers[1].stored_nonzeros == big);
    CHECK(res.report["layers"][0]["prune"]["mode"] == "density");
}

TEST_CASE("compress_network: bad input names the layer, position and value", "[compressor]") {
    CompressOptions opt;
    opt.arch = small_arch();
    auto x = ramp_input(6);
    SECTION("NaN weight") {
        auto L = exact_layer("fc6", 6, 5, false, 7);
        L.weights[1 * 6 + 2] = std::numeric_limits<float>::quiet_NaN();
        CHECK_THROWS_AS(compress_network({L}, x, {}, opt), CompressError);
        CHECK_THROWS_WITH(compress_network({L}, x, {}, opt),
                          Catch::Contains("fc6") && Catch::Contains("row 1, col 2") && Catch::Contains("nan"));
    }
    SECTION("Inf bias") {
        auto L = exact_layer("fc6", 6, 5, true, 7);
        L.bias[3] = -std::numeric_limits<float>::infinity();
        CHECK_THROWS_WITH(compress_network({L}, x, {}, opt), Catch::Contains("bias[3]") && Catch::Contains("-inf"));
    }
    SECTION("bias length") {
        auto L = exact_layer("fc6", 6, 5, true, 7);
        L.bias.resize(4);
        CHECK_THROWS_WITH(compress_network({L}, x, {}, opt), Catch::Contains("bias has length 4, expected out_len = 5"));
    }
    SECTION("shape chain") {
        std::vector<FloatLayer> net = {exact_layer("a", 6, 5, false, 1), exact_layer("b", 4, 3, false, 2)};
        CHECK_THROWS_WITH(compress_network(net, x, {}, opt),
                          Catch::Contains("'b'") && Catch::Contains("in_len = 4") && Catch::Contains("out_len = 5"));
    }
    SECTION("input length and values") {
        auto L = exact_layer("fc6", 6, 5, false, 7);
        CHECK_THROWS_WITH(compress_network({L}, ramp_input(5), {}, opt), Catch::Contains("input vector has length 5"));
        auto bad = x;
        bad[2] = std::nan("");
        CHECK_THROWS_WITH(compress_network({L}, x, {bad}, opt), Catch::Contains("calibration vector 0: element 2"));
    }
    SECTION("bias needs 1.0 representable") {
        auto L = exact_layer("fc6", 6, 5, true, 7);
        opt.in_frac = 15;
        CHECK_THROWS_WITH(compress_network({L}, x, {}, opt),
                          Catch::Contains("in_frac = 15") && Catch::Contains("bias") && Catch::Contains("0 .. 14"));
    }
    SECTION("prune options") {
        auto L = exact_layer("fc6", 6, 5, false, 7);
        opt.layers = {LayerOptions{PruneMode::density, 1.5, {}, {}}};
        CHECK_THROWS_WITH(compress_network({L}, x, {}, opt), Catch::Contains("density = 1.5"));
    }
}

TEST_CASE("compress_network: capacity is checked, or the memories grow", "[compressor]") {
    auto L = exact_layer("big", 64, 64, false, 9);
    CompressOptions opt;
    opt.arch = small_arch();
    opt.arch.spmat_sram_bytes = 64;  // 64 entries per PE; the layer needs ~340
    CHECK_THROWS_AS(compress_network({L}, ramp_input(64), {}, opt), CapacityError);
    opt.arch.grow_memories = true;
    auto res = compress_network({L}, ramp_input(64), {}, opt);
    CHECK(res.image.arch.spmat_sram_bytes > 64);
    CHECK(res.capacity[0].memory == "spmat");
    CHECK(res.capacity[0].percent <= 100.0);
    CHECK(res.layers[0].spmat_percent > 90.0);
}

TEST_CASE("storage report counts every stage from the image", "[compressor][storage]") {
    auto L = exact_layer("s", 40, 30, true, 11);
    CompressOptions opt;
    opt.arch = small_arch();
    opt.arch.act_rf_entries = 64;
    auto res = compress_network({L}, ramp_input(40), {}, opt);
    const Image& img = res.image;
    const StorageReport& s = res.storage;
    REQUIRE(s.layers.size() == 1);
    const LayerStorage& t = s.layers[0];
    uint64_t entries = 0, padding = 0, nonzero = 0;
    for (const auto& pe : img.pes) {
        entries += pe.layer_counts[0].entries;
        padding += pe.layer_counts[0].padding;
    }
    for (float w : L.weights) nonzero += w != 0.0f;
    for (float b : L.bias) nonzero += b != 0.0f;
    CHECK(t.entries == entries);
    CHECK(t.padding == padding);
    CHECK(t.nonzeros == nonzero);
    CHECK(t.dense_bits == 32ull * (40 * 30 + 30));
    CHECK(t.pointers == 4ull * (41 + 1));
    CHECK(t.pointer_bits == t.pointers * 16);
    CHECK(t.pruned_bits == entries * (32 + 4));
    CHECK(t.codebook_bits == 16 * 16);
    CHECK(t.quantised_bits == entries * 8 + 256);
    CHECK(t.huffman_table_bits == (16 + 16) * 8);
    // Huffman never beats the entropy and never loses to fixed 4-bit codes by more than 1 bit per symbol.
    CHECK(t.huffman_weight_bits <= entries * 4);
    CHECK(t.huffman_index_bits <= entries * 4 + entries);
    CHECK(t.huffman_bits == t.huffman_weight_bits + t.huffman_index_bits + t.huffman_table_bits + t.codebook_bits);
    CHECK(t.quantised_ratio(false) == Approx(double(t.dense_bits) / double(t.quantised_bits)));
    CHECK(t.quantised_ratio(true) < t.quantised_ratio(false));
    CHECK(s.total.dense_bits == t.dense_bits);
    auto j = to_json(s);
    CHECK(j["layers"][0]["bits"]["quantised"] == t.quantised_bits);
    CHECK(format_storage_table(s).find("s ") != std::string::npos);
}

TEST_CASE("storage report: Huffman of a single-symbol stream costs 1 bit per entry", "[compressor][storage]") {
    // Every weight equal and in row 0 of every column of a 1-PE layer: all
    // codes equal and all relative indices 0.
    FloatLayer L;
    L.name = "one";
    L.in_len = 16;
    L.out_len = 1;
    L.weights.assign(16, 0.5f);
    CompressOptions opt;
    opt.arch = small_arch();
    opt.arch.num_pes = 1;
    auto res = compress_network({L}, std::vector<double>(16, 1.0), {}, opt);
    const LayerStorage& t = res.storage.layers[0];
    CHECK(t.entries == 16);
    CHECK(t.padding == 0);
    CHECK(t.huffman_weight_bits == 16);
    CHECK(t.huffman_index_bits == 16);
}
