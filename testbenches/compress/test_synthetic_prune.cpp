// Synthetic layers and inputs (counts, placement statistics, value model,
// reproducibility) and magnitude pruning (against a sort-based reference).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "eie/compress/prune.hpp"
#include "eie/hw/rng.hpp"
#include "eie/compress/synthetic.hpp"

using eie::FloatLayer;
using eie::Placement;
using eie::SyntheticSpec;

namespace {

uint64_t count_nonzero(const std::vector<float>& v) {
    return uint64_t(std::count_if(v.begin(), v.end(), [](float x) { return x != 0.0f; }));
}

// FNV-1a over the bit patterns: a fingerprint of a whole vector.
uint64_t fingerprint(const std::vector<float>& v) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (float f : v) {
        uint32_t b;
        std::memcpy(&b, &f, 4);
        for (int k = 0; k < 4; ++k) {
            h ^= (b >> (8 * k)) & 0xff;
            h *= 0x100000001b3ull;
        }
    }
    return h;
}

struct Moments {
    double mean = 0, var = 0;
    double cv() const { return std::sqrt(var) / mean; }
};
Moments moments(const std::vector<double>& v) {
    Moments m;
    for (double x : v) m.mean += x;
    m.mean /= double(v.size());
    for (double x : v) m.var += (x - m.mean) * (x - m.mean);
    m.var /= double(v.size() - 1);
    return m;
}

SyntheticSpec spec(uint32_t in, uint32_t out, double density, uint64_t seed = 1,
                   Placement placement = Placement::uniform) {
    SyntheticSpec s;
    s.name = "t";
    s.in_len = in;
    s.out_len = out;
    s.weight_density = density;
    s.seed = seed;
    s.placement = placement;
    return s;
}

FloatLayer layer_of(uint32_t in, uint32_t out, std::vector<float> w) {
    FloatLayer L;
    L.name = "p";
    L.in_len = in;
    L.out_len = out;
    L.weights = std::move(w);
    return L;
}

}  // namespace

TEST_CASE("rng: xoshiro256** and splitmix64 match their reference outputs", "[synthetic]") {
    // Reference values of the published C implementations (Vigna):
    // splitmix64 from state 0, xoshiro256** from state {1, 2, 3, 4}.
    uint64_t sm = 0;
    CHECK(eie::splitmix64(sm) == 0xe220a8397b1dcdafull);
    CHECK(eie::splitmix64(sm) == 0x6e789e6aa1b965f4ull);
    auto x = eie::Rng::from_state(1, 2, 3, 4);
    CHECK(x.next() == 11520u);
    CHECK(x.next() == 0u);
    CHECK(x.next() == 1509978240u);
    CHECK(x.next() == 1215971899390074240ull);
    // below() stays in range and hits every value of a small range evenly.
    eie::Rng r(5);
    std::vector<int> hist(7, 0);
    for (int i = 0; i < 70000; ++i) ++hist[r.below(7)];
    for (int h : hist) CHECK(h == Approx(10000).margin(400));
    for (int i = 0; i < 1000; ++i) {
        const double u = r.uniform_open();
        REQUIRE((u > 0.0 && u < 1.0));
    }
}

TEST_CASE("synthetic: the presets are the benchmark specs of traces/benchmarks, in suite.txt's order", "[synthetic]") {
    const std::string dir = std::string(EIE_SOURCE_DIR) + "/traces/benchmarks/";
    std::vector<std::string> suite;
    {
        std::ifstream in(dir + "suite.txt");
        REQUIRE(in);
        for (std::string line; std::getline(in, line);)
            if (!line.empty() && line[0] != '#') suite.push_back(line);
    }
    // EIE Table III has nine fully-connected benchmark layers.
    REQUIRE(suite.size() == 9);
    CHECK(eie::preset_names() == suite);
    std::vector<uint64_t> seeds;
    for (const std::string& name : suite) {
        INFO("preset " << name);
        std::ifstream in(dir + name + ".json");
        REQUIRE(in);
        const nlohmann::json j = nlohmann::json::parse(in);
        const SyntheticSpec s = eie::preset(name);
        CHECK(s.name == j.at("name").get<std::string>());
        CHECK(s.in_len == j.at("in_len").get<uint32_t>());
        CHECK(s.out_len == j.at("out_len").get<uint32_t>());
        CHECK(s.weight_density == j.at("weight_density").get<double>());
        CHECK(s.act_density == j.at("act_density").get<double>());
        CHECK(s.seed == j.at("seed").get<uint64_t>());
        CHECK(eie::to_string(s.placement) == j.at("placement").get<std::string>());
        CHECK((s.act == eie::Activation::relu ? "relu" : "identity") == j.at("activation").get<std::string>());
        CHECK(s.bias == j.at("bias").get<bool>());
        std::vector<std::string> arch;
        for (const auto& [k, v] : j.at("arch").items()) arch.push_back(k + "=" + v.dump());
        CHECK(s.arch_overrides == arch);
        seeds.push_back(s.seed);
    }
    std::sort(seeds.begin(), seeds.end());
    CHECK(std::unique(seeds.begin(), seeds.end()) == seeds.end());

    CHECK_THROWS_WITH(eie::preset("alex9"), Catch::Contains("alex9") && Catch::Contains("alex6") &&
                                                Catch::Contains("ntlstm"));
    CHECK(eie::parse_placement("skewed") == Placement::skewed);
    CHECK(eie::parse_placement(eie::to_string(Placement::uniform)) == Placement::uniform);
    CHECK_THROWS_WITH(eie::parse_placement("random"), Catch::Contains("uniform, skewed"));
}

TEST_CASE("synthetic: exactly round(density * in * out) non-zeros, every density, both placements", "[synthetic]") {
    for (Placement pl : {Placement::uniform, Placement::skewed}) {
        for (auto [in, out] : {std::pair<uint32_t, uint32_t>{37, 53}, {64, 16}, {1, 1}, {5, 300}, {300, 5}}) {
            for (double d : {0.0, 0.001, 0.1, 0.25, 0.5, 0.51, 0.9, 0.999, 1.0}) {
                INFO(eie::to_string(pl) << " " << in << "x" << out << " density " << d);
                const FloatLayer L = eie::make_synthetic_layer(spec(in, out, d, 3, pl));
                REQUIRE(L.weights.size() == uint64_t(in) * out);
                CHECK(count_nonzero(L.weights) == uint64_t(std::llround(d * in * out)));
                CHECK(L.in_len == in);
                CHECK(L.out_len == out);
                CHECK(L.bias.empty());
                for (float w : L.weights) REQUIRE(std::isfinite(w));
            }
        }
    }
    for (const auto& name : eie::preset_names()) {
        if (name == "vgg6" || name == "alex6") continue;  // the largest two: see the [perf] case
        const SyntheticSpec s = eie::preset(name);
        INFO("preset " << name);
        CHECK(count_nonzero(eie::make_synthetic_layer(s).weights) ==
              uint64_t(std::llround(s.weight_density * s.in_len * double(s.out_len))));
    }
}

TEST_CASE("synthetic: reproducible from the seed, streams independent, output pinned", "[synthetic]") {
    for (Placement pl : {Placement::uniform, Placement::skewed}) {
        SyntheticSpec s = spec(120, 80, 0.15, 42, pl);
        s.bias = true;
        const FloatLayer a = eie::make_synthetic_layer(s), b = eie::make_synthetic_layer(s);
        CHECK(a.weights == b.weights);
        CHECK(a.bias == b.bias);
        CHECK(eie::make_synthetic_input(s) == eie::make_synthetic_input(s));
        s.seed = 43;
        CHECK(eie::make_synthetic_layer(s).weights != a.weights);
        CHECK(eie::make_synthetic_input(s) != eie::make_synthetic_input(spec(120, 80, 0.15, 42, pl)));
    }
    // The input does not depend on the weight model (its own streams).
    SyntheticSpec u = spec(500, 40, 0.1, 9), k = u;
    k.placement = Placement::skewed;
    k.weight_density = 0.3;
    CHECK(eie::make_synthetic_input(u) == eie::make_synthetic_input(k));

    // Fingerprints pinned to catch any unintended change of the generator
    // (PRNG, stream numbers, placement or value model): every synthetic
    // result downstream (images, cycle counts in docs) would change with it.
    // Update these only together with a deliberate model change.
    SyntheticSpec p = spec(64, 48, 0.2, 2016);
    p.bias = true;
    p.act_density = 0.4;
    const FloatLayer pu = eie::make_synthetic_layer(p);
    p.placement = Placement::skewed;
    const FloatLayer ps = eie::make_synthetic_layer(p);
    CHECK(fingerprint(pu.weights) == 0x5de36eca82b64101ull);
    CHECK(fingerprint(pu.bias) == 0x65fc833e277ca9f2ull);
    CHECK(fingerprint(ps.weights) == 0xc03af3354d159681ull);
    CHECK(fingerprint(eie::make_synthetic_input(p)) == 0xa66fdd5ceb07a1e3ull);
}

TEST_CASE("synthetic: uniform placement is uniform, skewed placement is skewed", "[synthetic]") {
    const uint32_t in = 400, out = 300;
    const double d = 0.1;
    auto counts = [&](const FloatLayer& L, std::vector<double>& rows, std::vector<double>& cols) {
        rows.assign(out, 0);
        cols.assign(in, 0);
        for (uint32_t i = 0; i < out; ++i)
            for (uint32_t j = 0; j < in; ++j)
                if (L.at(i, j) != 0.0f) ++rows[i], ++cols[j];
    };
    std::vector<double> rows, cols;
    counts(eie::make_synthetic_layer(spec(in, out, d, 5)), rows, cols);
    const Moments r = moments(rows), c = moments(cols);
    // A uniform K-subset gives (nearly) binomial counts: variance n d (1 - d).
    CHECK(r.mean == Approx(in * d));
    CHECK(r.var == Approx(in * d * (1 - d)).epsilon(0.3));
    CHECK(c.mean == Approx(out * d));
    CHECK(c.var == Approx(out * d * (1 - d)).epsilon(0.3));

    counts(eie::make_synthetic_layer(spec(in, out, d, 5, Placement::skewed)), rows, cols);
    const Moments rs = moments(rows), cs = moments(cols);
    CHECK(rs.mean == Approx(in * d));  // same total
    CHECK(cs.mean == Approx(out * d));
    // Column counts follow the log-normal factors: CV = sqrt(e^{sigma^2} - 1) = 0.947.
    CHECK(cs.cv() == Approx(0.947).epsilon(0.25));
    CHECK(rs.cv() > 4 * r.cv());
    CHECK(cs.cv() > 4 * c.cv());
}

TEST_CASE("synthetic: values are the tail of a Laplacian (pruned layer), inputs Exp(1)", "[synthetic]") {
    SyntheticSpec s = spec(1000, 1000, 0.04, 77);
    s.bias = true;
    const FloatLayer L = eie::make_synthetic_layer(s);
    const double b = 0.02, t = b * std::log(1 / 0.04);
    double excess = 0;
    uint64_t n = 0, negative = 0;
    for (float w : L.weights) {
        if (w == 0.0f) continue;
        ++n;
        negative += w < 0;
        REQUIRE(std::fabs(double(w)) >= t * (1 - 1e-6));
        excess += std::fabs(double(w)) - t;
    }
    REQUIRE(n == 40000);
    CHECK(excess / double(n) == Approx(b).epsilon(0.03));      // Exp(b) beyond the threshold
    CHECK(double(negative) / double(n) == Approx(0.5).margin(0.015));
    REQUIRE(L.bias.size() == 1000);
    double bias_mag = 0;
    for (float v : L.bias) {
        REQUIRE(v != 0.0f);
        bias_mag += std::fabs(double(v));
    }
    CHECK(bias_mag / 1000 == Approx(b).epsilon(0.15));

    SyntheticSpec in = spec(20000, 1, 0.1, 8);
    in.act_density = 0.5;
    const auto a = eie::make_synthetic_input(in);
    REQUIRE(a.size() == 20000);
    CHECK(count_nonzero(a) == 10000);
    double sum = 0;
    for (float v : a) {
        REQUIRE(v >= 0.0f);
        sum += v;
    }
    CHECK(sum / 10000 == Approx(1.0).epsilon(0.05));
    for (double act : {0.0, 0.183, 0.351, 1.0}) {
        in.in_len = 1201;
        in.act_density = act;
        INFO("act_density " << act);
        CHECK(count_nonzero(eie::make_synthetic_input(in)) == uint64_t(std::llround(act * 1201)));
    }
    for (const auto& name : eie::preset_names()) {
        const SyntheticSpec p = eie::preset(name);
        CHECK(count_nonzero(eie::make_synthetic_input(p)) == uint64_t(std::llround(p.act_density * p.in_len)));
    }
}

TEST_CASE("synthetic: invalid specs are rejected with the field named", "[synthetic]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(eie::make_synthetic_layer(spec(0, 5, 0.1)), Contains("in_len = 0"));
    CHECK_THROWS_WITH(eie::make_synthetic_layer(spec(5, 0, 0.1)), Contains("out_len = 0"));
    CHECK_THROWS_WITH(eie::make_synthetic_layer(spec(5, 5, 1.5)), Contains("weight_density = 1.5"));
    CHECK_THROWS_WITH(eie::make_synthetic_layer(spec(5, 5, std::nan(""))), Contains("weight_density = nan"));
    SyntheticSpec s = spec(5, 5, 0.1);
    s.act_density = -0.1;
    CHECK_THROWS_WITH(eie::make_synthetic_input(s), Contains("act_density = -0.1") && Contains("0 .. 1"));
}

TEST_CASE("synthetic: the largest presets generate in well under a second", "[synthetic][.perf]") {
    for (const char* name : {"vgg6", "alex6"}) {
        for (Placement pl : {Placement::uniform, Placement::skewed}) {
            SyntheticSpec s = eie::preset(name);
            s.placement = pl;
            const auto t0 = std::chrono::steady_clock::now();
            const FloatLayer L = eie::make_synthetic_layer(s);
            const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            WARN(name << " " << eie::to_string(pl) << ": " << sec << " s");
            CHECK(sec < 1.0);
            CHECK(count_nonzero(L.weights) == uint64_t(std::llround(s.weight_density * s.in_len * double(s.out_len))));
        }
    }
}

// ---------------------------------------------------------------------------

TEST_CASE("prune: keeps the largest magnitudes, ties broken by position", "[prune]") {
    const std::vector<float> w = {0.5f, -0.1f, 0.0f, 0.3f, -0.3f, 0.2f, 0.3f, -0.05f, 0.0f, 0.9f};
    FloatLayer L = layer_of(5, 2, w);
    L.bias = {0.01f, -0.02f};
    auto r = eie::prune_to_density(L, 0.4);
    CHECK(r.total == 10);
    CHECK(r.nonzero_before == 8);
    CHECK(r.nonzero_after == 4);
    CHECK(r.density() == 0.4);
    CHECK(r.threshold == Approx(0.3));  // the largest magnitude removed (the third 0.3)
    CHECK(L.weights == std::vector<float>{0.5f, 0, 0, 0.3f, -0.3f, 0, 0, 0, 0, 0.9f});
    CHECK(L.bias == std::vector<float>{0.01f, -0.02f});

    FloatLayer all = layer_of(5, 2, w);
    r = eie::prune_to_density(all, 0.8);  // keeps 8 = every non-zero
    CHECK(r.nonzero_after == 8);
    CHECK(r.threshold == 0.0);
    CHECK(all.weights == w);
    r = eie::prune_to_density(all, 1.0);
    CHECK(all.weights == w);
    r = eie::prune_to_density(all, 0.0);
    CHECK(r.nonzero_after == 0);
    CHECK(r.threshold == Approx(0.9));
    CHECK(count_nonzero(all.weights) == 0);

    // -0.0 is zero: it counts as already pruned.
    FloatLayer nz = layer_of(4, 1, {-0.0f, 1.0f, 2.0f, 3.0f});
    r = eie::prune_to_density(nz, 0.5);
    CHECK(r.nonzero_before == 3);
    CHECK(nz.weights == std::vector<float>{0, 0, 2.0f, 3.0f});

    CHECK_THROWS_WITH(eie::prune_to_density(nz, 1.2), Catch::Contains("density = 1.2"));
    CHECK_THROWS_AS(eie::prune_to_density(nz, std::nan("")), std::invalid_argument);
}

TEST_CASE("prune: agrees with a sort-based reference on random layers", "[prune]") {
    eie::Rng rng(99);
    for (int trial = 0; trial < 40; ++trial) {
        const uint32_t in = 1 + uint32_t(rng.below(90)), out = 1 + uint32_t(rng.below(70));
        std::vector<float> w(uint64_t(in) * out);
        const bool ties = trial % 2 == 0;  // coarse values: many equal magnitudes
        for (float& x : w) {
            if (rng.uniform() < 0.2) continue;
            double v = ties ? double(int64_t(rng.below(41)) - 20) * 0.01 : (rng.uniform() - 0.5) * std::ldexp(1.0, int(rng.below(20)) - 10);
            x = float(v);
        }
        const double density = rng.uniform();
        // Reference: non-zeros ranked by (|w| desc, position asc).
        std::vector<uint64_t> idx;
        for (uint64_t p = 0; p < w.size(); ++p)
            if (w[p] != 0.0f) idx.push_back(p);
        std::stable_sort(idx.begin(), idx.end(), [&](uint64_t a, uint64_t b) { return std::fabs(w[a]) > std::fabs(w[b]); });
        const uint64_t keep = std::min<uint64_t>(idx.size(), uint64_t(std::llround(density * double(w.size()))));
        std::vector<float> expect(w.size(), 0.0f);
        double removed_max = 0;
        for (uint64_t k = 0; k < idx.size(); ++k) {
            if (k < keep)
                expect[idx[k]] = w[idx[k]];
            else
                removed_max = std::max(removed_max, double(std::fabs(w[idx[k]])));
        }
        FloatLayer L = layer_of(in, out, w);
        const auto r = eie::prune_to_density(L, density);
        INFO("trial " << trial << " " << in << "x" << out << " density " << density);
        CHECK(L.weights == expect);
        CHECK(r.nonzero_before == idx.size());
        CHECK(r.nonzero_after == keep);
        CHECK(r.threshold == removed_max);
    }
}

TEST_CASE("prune: by threshold, and NaN or infinity do not crash", "[prune]") {
    FloatLayer L = layer_of(3, 2, {0.1f, -0.2f, 0.0f, 0.25f, -0.05f, 0.2f});
    auto r = eie::prune_by_threshold(L, 0.2);
    CHECK(r.nonzero_before == 5);
    CHECK(r.nonzero_after == 3);
    CHECK(r.threshold == 0.2);
    CHECK(L.weights == std::vector<float>{0, -0.2f, 0, 0.25f, 0, 0.2f});  // |w| == threshold is kept
    CHECK_THROWS_WITH(eie::prune_by_threshold(L, -1), Catch::Contains("threshold = -1"));

    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    FloatLayer bad = layer_of(6, 1, {nan, 0.5f, -inf, 0.1f, nan, 0.2f});
    r = eie::prune_to_density(bad, 0.5);  // keeps 3: NaN ranks as +inf, first by position
    CHECK(r.nonzero_after == 3);
    CHECK(std::isnan(bad.weights[0]));
    CHECK(bad.weights[2] == -inf);
    CHECK(std::isnan(bad.weights[4]));
    CHECK(bad.weights[1] == 0.0f);
    FloatLayer bad2 = layer_of(3, 1, {nan, 0.5f, inf});
    r = eie::prune_by_threshold(bad2, 1.0);
    CHECK(r.nonzero_after == 2);
}

TEST_CASE("prune: a 16M-weight layer, kept magnitudes all above removed ones", "[prune]") {
    FloatLayer L = eie::make_synthetic_layer(spec(4096, 4096, 1.0, 11));
    const auto r = eie::prune_to_density(L, 0.05);
    const uint64_t expect = uint64_t(std::llround(0.05 * 4096.0 * 4096.0));
    CHECK(r.nonzero_before == 4096ull * 4096);
    CHECK(r.nonzero_after == expect);
    CHECK(count_nonzero(L.weights) == expect);
    float smallest_kept = std::numeric_limits<float>::infinity();
    for (float w : L.weights)
        if (w != 0.0f) smallest_kept = std::min(smallest_kept, std::fabs(w));
    CHECK(double(smallest_kept) >= r.threshold);
    // Dense Laplacian(0.02): the 5% tail starts at b ln(20).
    CHECK(r.threshold == Approx(0.02 * std::log(20.0)).epsilon(0.02));
}
