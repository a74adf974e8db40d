// The three training regimes of eie-train against their definitions, one
// full-batch SGD step at a time (momentum 0, so a step is exactly -lr x the
// gradient): masked retraining moves the kept weights as dense training does
// and leaves the pruned ones at exactly zero; trained quantisation moves
// each shared weight by -lr x the SUM of the dense gradients of the weights
// assigned to it (Deep Compression, Fig. 3) and keeps the assignments.
#include <catch2/catch.hpp>

#include <cmath>

#include "eie/hw/rng.hpp"
#include "eie/compress/train/mlp_trainer.hpp"

using namespace eie;

namespace {

Dataset toy_data(uint32_t n, uint32_t dim, uint64_t seed) {
    Dataset d;
    d.dim = dim;
    Rng r(seed);
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t k = 0; k < dim; ++k) d.x.push_back(float(r.uniform()));
        d.y.push_back(int64_t(r.below(3)));
    }
    return d;
}

EpochOptions one_full_batch_step(double lr) {
    EpochOptions o;
    o.optimizer = Optimizer::sgd;
    o.lr = lr;
    o.momentum = 0;
    o.batch = 1u << 20;  // the whole set in one batch: one step, order irrelevant
    return o;
}

// The dense gradient of every weight and bias at `start` (from one SGD step).
std::vector<std::vector<double>> dense_gradient(const std::vector<FloatLayer>& start, const Dataset& d, double lr) {
    MlpTrainer t(start);
    t.train_epoch(d, one_full_batch_step(lr));
    auto after = t.layers();
    std::vector<std::vector<double>> g;
    for (std::size_t l = 0; l < start.size(); ++l) {
        std::vector<double> gl;
        for (std::size_t k = 0; k < start[l].weights.size(); ++k)
            gl.push_back((double(start[l].weights[k]) - after[l].weights[k]) / lr);
        for (std::size_t k = 0; k < start[l].bias.size(); ++k)
            gl.push_back((double(start[l].bias[k]) - after[l].bias[k]) / lr);
        g.push_back(gl);
    }
    return g;
}

}  // namespace

TEST_CASE("trainer: masked retraining keeps pruned weights at exactly zero and moves the others as dense training") {
    auto start = init_mlp({6, 5, 3}, 11);
    const Dataset d = toy_data(40, 6, 3);
    std::vector<std::vector<uint8_t>> masks;
    for (auto& L : start) {
        std::vector<uint8_t> m(L.weights.size());
        for (std::size_t k = 0; k < m.size(); ++k) m[k] = (k % 3) != 0;
        for (std::size_t k = 0; k < m.size(); ++k)
            if (!m[k]) L.weights[k] = 0;
        masks.push_back(m);
    }
    const double lr = 0.01;
    auto g = dense_gradient(start, d, lr);
    MlpTrainer t(start);
    t.set_masks(masks);
    t.train_epoch(d, one_full_batch_step(lr));
    auto after = t.layers();
    for (std::size_t l = 0; l < start.size(); ++l)
        for (std::size_t k = 0; k < start[l].weights.size(); ++k) {
            if (!masks[l][k]) {
                REQUIRE(after[l].weights[k] == 0.0f);
            } else {
                REQUIRE(after[l].weights[k] == Approx(start[l].weights[k] - lr * g[l][k]).margin(1e-6));
            }
        }
    // and over several Adam epochs the pruned weights never come back
    EpochOptions adam;
    adam.batch = 8;
    for (int e = 0; e < 3; ++e) t.train_epoch(d, adam);
    after = t.layers();
    for (std::size_t l = 0; l < start.size(); ++l)
        for (std::size_t k = 0; k < start[l].weights.size(); ++k)
            if (!masks[l][k]) REQUIRE(after[l].weights[k] == 0.0f);
}

TEST_CASE("trainer: trained quantisation moves each shared weight by the sum of its weights' gradients") {
    auto start = init_mlp({6, 5, 3}, 12);
    const Dataset d = toy_data(40, 6, 4);
    // Four shared values per layer plus zero, assigned round-robin over [W | b].
    std::vector<SharingLayer> sharing;
    for (auto& L : start) {
        SharingLayer s;
        s.codebook = {0.0f, -0.3f, -0.1f, 0.15f, 0.4f};
        const std::size_t nw = L.weights.size(), nb = L.bias.size();
        for (std::size_t k = 0; k < nw + nb; ++k) {
            uint32_t a = uint32_t(k % 5);  // code 0 (zero) included
            s.assignment.push_back(a);
            (k < nw ? L.weights[k] : L.bias[k - nw]) = s.codebook[a];
        }
        sharing.push_back(s);
    }
    const double lr = 0.01;
    auto g = dense_gradient(start, d, lr);
    MlpTrainer t(start);
    t.set_sharing(sharing);
    t.train_epoch(d, one_full_batch_step(lr));
    auto trained = t.sharing();
    for (std::size_t l = 0; l < start.size(); ++l) {
        REQUIRE(trained[l].assignment == sharing[l].assignment);
        REQUIRE(trained[l].codebook[0] == 0.0f);
        for (uint32_t c = 1; c < 5; ++c) {
            double sum = 0;
            for (std::size_t k = 0; k < g[l].size(); ++k)
                if (sharing[l].assignment[k] == c) sum += g[l][k];
            REQUIRE(trained[l].codebook[c] == Approx(sharing[l].codebook[c] - lr * sum).margin(1e-6));
        }
        // the layer's values are the codebook at the fixed assignments
        auto L = t.layers()[l];
        const std::size_t nw = L.weights.size();
        for (std::size_t k = 0; k < trained[l].assignment.size(); ++k) {
            const float v = k < nw ? L.weights[k] : L.bias[k - nw];
            REQUIRE(v == trained[l].codebook[trained[l].assignment[k]]);
        }
    }
}

TEST_CASE("trainer: the same seed and data give the same network") {
    const Dataset d = toy_data(64, 6, 5);
    auto run = [&] {
        MlpTrainer t(init_mlp({6, 8, 3}, 7));
        EpochOptions o;
        o.batch = 16;
        o.shuffle_seed = 9;
        t.train_epoch(d, o);
        return t.layers();
    };
    auto a = run(), b = run();
    for (std::size_t l = 0; l < a.size(); ++l) {
        REQUIRE(a[l].weights == b[l].weights);
        REQUIRE(a[l].bias == b[l].bias);
    }
}

TEST_CASE("trainer: a diverging step raises DivergedError") {
    const Dataset d = toy_data(32, 6, 6);
    MlpTrainer t(init_mlp({6, 8, 3}, 7));
    EpochOptions o = one_full_batch_step(1e30);
    o.batch = 4;
    REQUIRE_THROWS_AS([&] { for (int e = 0; e < 5; ++e) t.train_epoch(d, o); }(), DivergedError);
}
