// Batch inference (hw/model/batch_inference.*): a batch equals the same
// inputs run one by one (outputs, cycles, energy, every count), worker
// processes change nothing, stall injection stays reproducible, and the
// input reader, the distributions and the accuracy follow their definitions.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "eie/hw/npy.hpp"
#include "eie/hw/model/batch_inference.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/hw/model/simulator.hpp"
#include "model_fixtures.hpp"
#include "testbenches/common/temp_dir.hpp"

using namespace eie;

namespace {

Image batched_network(uint32_t n) {
    ArchConfig arch;
    arch.num_pes = n;
    arch.act_rf_entries = 4;  // batches and activation-SRAM placement too
    arch.act_sram_entries = 1024;
    return test::make_image({{7 * n + 3, 11 * n + 1, 0.25, true, Activation::relu},
                             {11 * n + 1, 3 * n + 2, 0.3, true, Activation::identity}},
                            arch, 70 + n, 0.5);
}

InputSet random_inputs(const Image& img, uint32_t count, uint64_t seed) {
    test::Rng rng(seed);
    InputSet s;
    s.source = "random";
    s.kind = "raw fixed point";
    s.in_len = img.layers[0].in_len;
    s.file_rows = count;
    for (uint32_t i = 0; i < count; ++i) {
        // densities from 0.05 to 0.95, so the inputs differ in cycles
        const auto x = test::random_input(s.in_len, 0.05 + 0.9 * i / count, rng);
        s.values.insert(s.values.end(), x.begin(), x.end());
        s.index.push_back(i);
        s.saturations.push_back(0);
    }
    return s;
}

void require_same(const BatchResult& a, const BatchResult& b) {
    REQUIRE(a.records.size() == b.records.size());
    CHECK(a.raw_outputs == b.raw_outputs);
    for (std::size_t i = 0; i < a.records.size(); ++i) {
        INFO("input " << i);
        CHECK(a.records[i].cycles == b.records[i].cycles);
        CHECK(a.records[i].energy_pj == b.records[i].energy_pj);
        CHECK(a.records[i].input_density == b.records[i].input_density);
        CHECK(a.records[i].predicted == b.records[i].predicted);
    }
    REQUIRE(a.stats.layers.size() == b.stats.layers.size());
    for (std::size_t k = 0; k < a.stats.layers.size(); ++k) {
        CHECK(a.stats.layers[k].cycles == b.stats.layers[k].cycles);
        CHECK(to_json(a.stats.layers[k].pe_total()) == to_json(b.stats.layers[k].pe_total()));
        CHECK(to_json(a.stats.layers[k].ccu) == to_json(b.stats.layers[k].ccu));
    }
    CHECK(a.stats.io_cycles == b.stats.io_cycles);
    CHECK(a.io_bytes == b.io_bytes);
    CHECK(a.bit_exact == b.bit_exact);
}

}  // namespace

TEST_CASE("batch inference equals the inputs run one by one", "[batch]") {
    for (uint32_t n : {1u, 4u, 16u}) {
        INFO(fmt::format("N={}", n));
        const Image img = batched_network(n);
        const InputSet in = random_inputs(img, 6, n);
        const BatchResult b = run_batch(img, in);
        REQUIRE(b.bit_exact);
        REQUIRE(b.records.size() == 6);
        RunStats summed;
        uint64_t total_cycles = 0;
        for (uint64_t i = 0; i < in.size(); ++i) {
            Image one = img;
            one.input = in.row(i);
            const SimResult r = simulate(one);
            REQUIRE(r.bit_exact);
            const std::vector<int32_t> row(b.raw_outputs.begin() + i * b.out_len,
                                           b.raw_outputs.begin() + (i + 1) * b.out_len);
            CHECK(row == r.read_back);
            uint64_t cycles = 0;
            for (const auto& l : r.stats.layers) cycles += l.cycles;
            CHECK(b.records[i].cycles == cycles);
            CHECK(b.records[i].energy_pj ==
                  Approx(estimate_energy(r.stats.layers, img.arch, EnergyTable::defaults()).total_pj).epsilon(1e-12));
            total_cycles += cycles;
        }
        uint64_t batch_cycles = 0;
        for (const auto& l : b.stats.layers) batch_cycles += l.cycles;
        CHECK(batch_cycles == total_cycles);
        // the inputs differ in density, so in cycles
        CHECK(b.records.front().cycles < b.records.back().cycles);
        CHECK(b.records.front().input_density[0] < b.records.back().input_density[0]);
    }
}

TEST_CASE("batch inference: worker processes give the --jobs 1 result", "[batch][jobs]") {
    const Image img = batched_network(4);
    const InputSet in = random_inputs(img, 7, 3);
    BatchOptions one, three;
    three.jobs = 3;
    const BatchResult a = run_batch(img, in, one), b = run_batch(img, in, three);
    CHECK(b.jobs == 3);
    require_same(a, b);
    // Stall injection is seeded per input row, so a split reproduces it too.
    one.stall_probability = three.stall_probability = 0.2;
    const BatchResult sa = run_batch(img, in, one), sb = run_batch(img, in, three);
    CHECK(sa.bit_exact);
    require_same(sa, sb);
    uint64_t stalls = 0;
    for (const auto& l : sa.stats.layers) stalls += l.pe_total().stall_cycles;
    CHECK(stalls > 0);
}

TEST_CASE("batch inputs: selection, quantisation and saturation counts", "[batch][inputs]") {
    const Image img = batched_network(4);
    const uint32_t len = img.layers[0].in_len;
    test::TempDir dir;
    std::vector<float> x(5 * len, 0.0f);
    for (uint32_t i = 0; i < 5; ++i) x[i * len] = 0.5f * float(i);
    x[3 * len + 1] = 1000.0f;  // far beyond 16-bit activations with 8 fractional bits
    write_npy(dir / "x.npy", {5, len}, x);
    InputSelection sel;
    sel.first = 1;
    sel.every = 2;
    const InputSet s = load_inputs(dir / "x.npy", img, sel);
    CHECK(s.kind == "float");
    CHECK(s.file_rows == 5);
    CHECK(s.index == std::vector<uint64_t>{1, 3});
    CHECK(s.row(0)[0] == 128);  // 0.5 with 8 fractional bits
    CHECK(s.row(1)[0] == 384);
    CHECK(s.row(1)[1] == 32767);
    CHECK(s.saturations == std::vector<uint32_t>{0, 1});
    sel.count = 1;
    CHECK(load_inputs(dir / "x.npy", img, sel).index == std::vector<uint64_t>{1});
    sel.first = 5;
    CHECK_THROWS_AS(load_inputs(dir / "x.npy", img, sel), BatchInputError);
    write_npy(dir / "short.npy", {2, len - 1}, std::vector<float>(2 * (len - 1), 0.0f));
    CHECK_THROWS_AS(load_inputs(dir / "short.npy", img, InputSelection{}), BatchInputError);
}

TEST_CASE("distribution and correlation follow numpy's definitions", "[batch][figures]") {
    const Distribution d = distribution({10, 1, 9, 2, 8, 3, 7, 4, 6, 5});
    CHECK(d.min == 1);
    CHECK(d.max == 10);
    CHECK(d.mean == Approx(5.5));
    CHECK(d.median == Approx(5.5));
    CHECK(d.p90 == Approx(9.1));   // numpy.percentile(range(1, 11), 90)
    CHECK(d.p99 == Approx(9.91));
    CHECK(correlation({1, 2, 3}, {2, 4, 6}) == Approx(1.0));
    CHECK(correlation({1, 2, 3}, {3, 2, 1}) == Approx(-1.0));
    CHECK(correlation({1, 1, 1}, {1, 2, 3}) == 0.0);
}

TEST_CASE("accuracy: top-1, top-5 with ties, confusion matrix", "[batch][accuracy]") {
    BatchResult r;
    r.out_len = 6;
    r.raw_outputs = {0, 5, 1, 1, 1, 1,   // predicted 1
                     9, 9, 0, 0, 0, 0,   // tie: arg-max is the lowest index, 0
                     1, 2, 3, 4, 5, 6};  // predicted 5
    for (int32_t p : {1, 0, 5}) {
        InferenceRecord rec;
        rec.predicted = p;
        r.records.push_back(rec);
    }
    const AccuracyReport a = accuracy(r, {1, 1, 0});
    CHECK(a.count == 3);
    CHECK(a.top1_correct == 1);
    REQUIRE(a.top5_correct);
    // row 2: label 0 has the smallest value, five are greater: not in the top 5
    CHECK(*a.top5_correct == 2);
    CHECK(a.confusion[1][1] == 1);
    CHECK(a.confusion[1][0] == 1);
    CHECK(a.confusion[0][5] == 1);
}
