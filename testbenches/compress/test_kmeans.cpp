// 1-D k-means weight sharing: initialisations, quality versus bits, exact
// codebooks for pre-quantised layers, the zero-centroid and empty-cluster
// rules, determinism, and speed on a VGG-6-sized set of weights.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "eie/compress/kmeans.hpp"
#include "eie/hw/rng.hpp"

using eie::Codebook;
using eie::KmeansInit;
using eie::kmeans_1d;

namespace {

std::vector<double> laplacian(std::size_t n, uint64_t seed, double b = 0.02) {
    eie::Rng rng(seed);
    std::vector<double> v(n);
    for (double& x : v) {
        const double m = -b * std::log(rng.uniform_open());
        x = (rng.next() >> 63) ? -m : m;
    }
    return v;
}

// What every codebook must satisfy, whatever the input.
void check_invariants(const std::vector<double>& values, const Codebook& cb, uint32_t bits) {
    REQUIRE(cb.centroids.size() == (std::size_t(1) << bits));
    CHECK(cb.centroids[0] == 0.0);
    REQUIRE(cb.used <= (1u << bits) - 1);
    for (uint32_t t = 1; t <= cb.used; ++t) {
        CHECK(cb.centroids[t] != 0.0);
        if (t > 1) CHECK(cb.centroids[t - 1] < cb.centroids[t]);
    }
    for (std::size_t t = cb.used + 1; t < cb.centroids.size(); ++t) CHECK(cb.centroids[t] == 0.0);
    REQUIRE(cb.assignment.size() == values.size());
    double sse = 0, sig = 0;
    std::vector<bool> hit(cb.used + 1, false);
    for (std::size_t i = 0; i < values.size(); ++i) {
        const uint32_t a = cb.assignment[i];
        REQUIRE(a >= 1);
        REQUIRE(a <= cb.used);
        hit[a] = true;
        const double e = values[i] - cb.centroids[a];
        // Nearest-centroid assignment (ties at a midpoint may go either way).
        if (a > 1) REQUIRE(std::fabs(e) <= std::fabs(values[i] - cb.centroids[a - 1]) + 1e-15);
        if (a < cb.used) REQUIRE(std::fabs(e) <= std::fabs(values[i] - cb.centroids[a + 1]) + 1e-15);
        sse += e * e;
        sig += values[i] * values[i];
    }
    for (uint32_t t = 1; t <= cb.used; ++t) CHECK(hit[t]);  // no dead codes
    CHECK(cb.sse == Approx(sse).epsilon(1e-9));
    if (cb.exact) {
        CHECK(cb.sse == 0.0);
        CHECK(std::isinf(cb.snr_db));
    } else {
        CHECK(cb.snr_db == Approx(10 * std::log10(sig / sse)).epsilon(1e-9));
    }
}

}  // namespace

TEST_CASE("kmeans: linear init is an even grid over [min, max], density init the quantiles", "[kmeans]") {
    eie::Rng rng(3);
    std::vector<double> v(5000);
    for (double& x : v) x = 0.25 + rng.uniform() * 1.5;  // uniform over [0.25, 1.75)
    const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());

    // With no iterations the codebook is the initialisation itself.
    Codebook init = kmeans_1d(v, 4, KmeansInit::linear, 1, 0);
    check_invariants(v, init, 4);
    REQUIRE(init.used == 15);
    CHECK(init.iterations == 0);
    for (uint32_t t = 1; t <= 15; ++t) CHECK(init.centroids[t] == Approx(lo + (hi - lo) * (t - 1) / 14.0));

    std::vector<double> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    Codebook dens = kmeans_1d(v, 3, KmeansInit::density, 1, 0);
    REQUIRE(dens.used == 7);
    for (uint32_t t = 1; t <= 7; ++t)
        CHECK(dens.centroids[t] == sorted[std::size_t((t - 0.5) / 7.0 * double(v.size()))]);

    // After convergence: still sorted and inside [min, max]; each centroid
    // is the mean of its cluster.
    Codebook cb = kmeans_1d(v, 4, KmeansInit::linear, 1, 1000);
    check_invariants(v, cb, 4);
    CHECK(cb.iterations < 1000);
    for (uint32_t t = 1; t <= cb.used; ++t) {
        CHECK(cb.centroids[t] >= lo);
        CHECK(cb.centroids[t] <= hi);
        double sum = 0;
        int n = 0;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (cb.assignment[i] == t) sum += v[i], ++n;
        CHECK(cb.centroids[t] == Approx(sum / n).epsilon(1e-12));
    }
    // Uniform data: the optimal quantiser is the even grid, SNR close to
    // theory (step (hi-lo)/15, error variance step^2/12).
    const double step = (hi - lo) / 15, mean_sq = (1.75 * 1.75 * 1.75 - 0.25 * 0.25 * 0.25) / (3 * 1.5);
    CHECK(cb.snr_db == Approx(10 * std::log10(mean_sq / (step * step / 12))).margin(0.3));
}

TEST_CASE("kmeans: error falls as bits grow from 2 to 6, every initialisation", "[kmeans]") {
    const auto v = laplacian(50000, 21);
    for (KmeansInit init : {KmeansInit::linear, KmeansInit::density, KmeansInit::random}) {
        double prev_snr = 0, prev_sse = 1e300;
        for (uint32_t bits = 2; bits <= 6; ++bits) {
            INFO(eie::to_string(init) << " " << bits << " bits");
            // 1-D Lloyd needs a few hundred iterations to converge at 5-6
            // bits (each costs microseconds); compare converged codebooks.
            const Codebook cb = kmeans_1d(v, bits, init, 7, 2000);
            check_invariants(v, cb, bits);
            CHECK(cb.iterations < 2000);
            CHECK_FALSE(cb.exact);
            CHECK(cb.used == (1u << bits) - 1);
            CHECK(cb.sse < prev_sse);
            CHECK(cb.snr_db > prev_snr + 3.0);  // roughly 6 dB per bit for a good quantiser
            prev_snr = cb.snr_db;
            prev_sse = cb.sse;
        }
        CHECK(prev_snr > 27.0);  // 6 bits; Lloyd-Max for a Laplacian with 64 levels: about 29 dB
    }
    // The optimal 3-level quantiser of a Laplacian (scale b) is {-2b, ~0, 2b}
    // with thresholds at +-b (a = E[X | X > t] = t + b and t = a / 2), and
    // distortion b^2 (2 - 5/e) * 2/2 + b^2 / e = b^2 (2 - 4/e), against a
    // signal power 2 b^2: SNR = 10 log10(2 / (2 - 4/e)) = 5.78 dB.
    const double snr3 = 10 * std::log10(2 / (2 - 4 / std::exp(1.0)));
    CHECK(kmeans_1d(v, 2, KmeansInit::linear, 1, 2000).snr_db == Approx(snr3).margin(0.1));
    // 15 levels: below the 16-level Lloyd-Max quantiser (about 18.1 dB).
    const double snr15 = kmeans_1d(v, 4, KmeansInit::linear, 1, 2000).snr_db;
    CHECK(snr15 > 17.3);
    CHECK(snr15 < 18.2);
}

TEST_CASE("kmeans: pre-quantised layers keep their values exactly", "[kmeans]") {
    const std::vector<double> levels = {-0.75, -0.5, -0.125, -0.0625, 0.03125, 0.0625, 0.25, 0.3, 0.6, 1.5};
    eie::Rng rng(4);
    std::vector<double> v(3000);
    for (double& x : v) x = levels[rng.below(levels.size())];
    for (KmeansInit init : {KmeansInit::linear, KmeansInit::density, KmeansInit::random}) {
        const Codebook cb = kmeans_1d(v, 4, init, 1);
        check_invariants(v, cb, 4);
        CHECK(cb.exact);
        CHECK(cb.used == 10);
        CHECK(cb.iterations == 0);
        for (std::size_t t = 0; t < levels.size(); ++t) CHECK(cb.centroids[t + 1] == levels[t]);
        for (std::size_t i = 0; i < v.size(); ++i) CHECK(cb.centroids[cb.assignment[i]] == v[i]);
    }
    // 15 distinct values still fit 4 bits exactly; 16 do not.
    std::vector<double> fifteen, sixteen;
    for (int k = 1; k <= 15; ++k) fifteen.push_back(k * 0.1), fifteen.push_back(k * 0.1);
    sixteen = fifteen;
    sixteen.push_back(-1.0);
    const Codebook a = kmeans_1d(fifteen, 4, KmeansInit::linear);
    CHECK(a.exact);
    CHECK(a.used == 15);
    const Codebook b = kmeans_1d(sixteen, 4, KmeansInit::linear);
    check_invariants(sixteen, b, 4);
    CHECK_FALSE(b.exact);
    CHECK(b.used == 15);
    CHECK(b.sse > 0);
    // One bit: a single centroid, the mean.
    const Codebook one = kmeans_1d({1.0, 2.0, 6.0}, 1, KmeansInit::linear);
    CHECK(one.used == 1);
    CHECK(one.centroids[1] == Approx(3.0));
    // Nothing to cluster.
    const Codebook none = kmeans_1d({}, 4, KmeansInit::linear);
    CHECK(none.used == 0);
    CHECK(none.exact);
    CHECK(none.centroids.size() == 16);
}

TEST_CASE("kmeans: no centroid is ever exactly zero", "[kmeans]") {
    // Symmetric data: the linear grid has a point at exactly 0 (odd K), and
    // the middle cluster straddles zero so its mean is exactly 0.
    std::vector<double> v;
    for (int k = 1; k <= 200; ++k) {
        v.push_back(k * 0.01);
        v.push_back(-k * 0.01);
    }
    for (KmeansInit init : {KmeansInit::linear, KmeansInit::density, KmeansInit::random})
        for (uint32_t iters : {0u, 1u, 100u}) {
            INFO(eie::to_string(init) << " iterations " << iters);
            const Codebook cb = kmeans_1d(v, 4, init, 5, iters);
            check_invariants(v, cb, 4);
            CHECK(cb.used == 15);
        }
    // Linear init, no iterations: the zero grid point moved to the value
    // closest to zero (the negative one on a tie).
    const Codebook cb = kmeans_1d(v, 4, KmeansInit::linear, 1, 0);
    CHECK(cb.centroids[8] == -0.01);
    // A one-centroid codebook of symmetric data: mean 0 becomes the member closest to zero.
    const Codebook one = kmeans_1d({-1.0, -0.5, 0.5, 1.0}, 1, KmeansInit::linear, 1, 10);
    CHECK(one.used == 1);
    CHECK(one.centroids[1] == -0.5);
}

TEST_CASE("kmeans: empty clusters are re-seeded (pruned weights have a hole at zero)", "[kmeans]") {
    // Survivors of pruning: |w| >= 0.1, so the linear grid's middle points
    // start with empty clusters.
    auto v = laplacian(20000, 8);
    for (double& x : v) x += x > 0 ? 0.1 : -0.1;
    const Codebook cb = kmeans_1d(v, 4, KmeansInit::linear, 1);
    check_invariants(v, cb, 4);  // includes: every code is used
    CHECK(cb.used == 15);
    for (uint32_t t = 1; t <= 15; ++t) CHECK(std::fabs(cb.centroids[t]) > 0.1);
    // Better than dropping the empty centroids would be: compare with 3 bits.
    CHECK(cb.snr_db > kmeans_1d(v, 3, KmeansInit::linear, 1).snr_db + 3);
    // Data with heavy duplicates: density init yields repeated quantiles,
    // completed to 15 distinct centroids.
    std::vector<double> dup(1000, 0.5);
    for (int k = 0; k < 40; ++k) dup.push_back(-0.01 * (k + 1));
    const Codebook d = kmeans_1d(dup, 4, KmeansInit::density, 1);
    check_invariants(dup, d, 4);
    CHECK(d.used == 15);
}

TEST_CASE("kmeans: deterministic for a seed, the seed matters only for random init", "[kmeans]") {
    const auto v = laplacian(10000, 30);
    const Codebook a = kmeans_1d(v, 4, KmeansInit::random, 11), b = kmeans_1d(v, 4, KmeansInit::random, 11);
    CHECK(a.centroids == b.centroids);
    CHECK(a.assignment == b.assignment);
    CHECK(a.iterations == b.iterations);
    const Codebook a0 = kmeans_1d(v, 4, KmeansInit::random, 11, 0), c0 = kmeans_1d(v, 4, KmeansInit::random, 12, 0);
    CHECK(a0.centroids != c0.centroids);
    // Forgy: the initial centroids are input values.
    for (uint32_t t = 1; t <= a0.used; ++t) CHECK(std::find(v.begin(), v.end(), a0.centroids[t]) != v.end());
    CHECK(kmeans_1d(v, 4, KmeansInit::linear, 1).centroids == kmeans_1d(v, 4, KmeansInit::linear, 99).centroids);
    CHECK(kmeans_1d(v, 4, KmeansInit::density, 1).centroids == kmeans_1d(v, 4, KmeansInit::density, 2).centroids);
}

TEST_CASE("kmeans: invalid input is rejected with the position and value", "[kmeans]") {
    using Catch::Contains;
    CHECK_THROWS_WITH(kmeans_1d({0.5, 0.0, 1.0}, 4, KmeansInit::linear), Contains("value 1 = 0"));
    CHECK_THROWS_WITH(kmeans_1d({0.5, std::nan("")}, 4, KmeansInit::linear), Contains("value 1 = nan"));
    CHECK_THROWS_WITH(kmeans_1d({HUGE_VAL}, 4, KmeansInit::linear), Contains("value 0 = inf"));
    CHECK_THROWS_WITH(kmeans_1d({1.0}, 0, KmeansInit::linear), Contains("bits = 0"));
    CHECK_THROWS_WITH(kmeans_1d({1.0}, 9, KmeansInit::linear), Contains("bits = 9") && Contains("1 .. 8"));
    CHECK(eie::parse_kmeans_init("density") == KmeansInit::density);
    CHECK(eie::parse_kmeans_init(eie::to_string(KmeansInit::random)) == KmeansInit::random);
    CHECK_THROWS_WITH(eie::parse_kmeans_init("kmeans++"), Contains("linear, density, random"));
}

// Speed is measured by the [.perf] case below (run by hand), never asserted
// in the suite, where a loaded machine would make it fail for no fault.
TEST_CASE("kmeans: a million weights converge to a full codebook", "[kmeans]") {
    const auto v = laplacian(1000000, 77);
    const Codebook cb = kmeans_1d(v, 4, KmeansInit::linear, 1, 1000);
    CHECK(cb.used == 15);
    CHECK(cb.iterations < 1000);
    CHECK(cb.snr_db > 17.5);
}

TEST_CASE("kmeans: VGG-6-sized (4.1M values) in well under a second", "[kmeans][.perf]") {
    const auto v = laplacian(4110418, 78);
    for (KmeansInit init : {KmeansInit::linear, KmeansInit::density, KmeansInit::random}) {
        const auto t0 = std::chrono::steady_clock::now();
        const Codebook cb = kmeans_1d(v, 4, init, 1, 1000);
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        WARN(eie::to_string(init) << ": " << sec << " s, " << cb.iterations << " iterations, SNR " << cb.snr_db
                                  << " dB");
        CHECK(sec < 1.0);
    }
}
