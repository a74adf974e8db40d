// Golden statistics: cycles and key counts of fixed-seed runs, kept under
// traces/golden/, so an unintended timing change fails a test. After an
// intended change, regenerate with EIE_UPDATE_GOLDEN=1 and review the diff.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eie/hw/model/simulator.hpp"
#include "model_fixtures.hpp"

using namespace eie;

namespace {

struct GoldenCase {
    const char* name;
    uint32_t pes, depth, line_bits, index_bits, rf;
    std::vector<test::LayerShape> layers;
    double act_density;
    uint64_t seed;
};

nlohmann::json key_figures(const SimResult& r) {
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerStats& l : r.stats.layers) {
        PeStats t = l.pe_total();
        layers.push_back({{"cycles", l.cycles},
                          {"closed_form_cycles", l.closed_form_cycles},
                          {"writeback_cycles", l.writeback_cycles},
                          {"busy", t.busy_cycles},
                          {"padding", t.padding_cycles},
                          {"empty_col", t.empty_col_cycles},
                          {"starved", t.starved_cycles},
                          {"spmat_line_reads", t.spmat_line_reads},
                          {"bypass_s3", t.bypass_s3},
                          {"bypass_s2", t.bypass_s2},
                          {"broadcasts", l.ccu.broadcasts},
                          {"empty_packs", l.ccu.empty_packs},
                          {"backpressure_stalls", l.ccu.backpressure_stalls}});
    }
    return {{"bit_exact", r.bit_exact}, {"layers", layers}};
}

}  // namespace

TEST_CASE("golden statistics of fixed-seed runs are unchanged", "[golden]") {
    const std::vector<GoldenCase> cases = {
        {"n4-depth8", 4, 8, 64, 4, 64, {{96, 130, 0.12, false}}, 0.4, 1},
        {"n16-depth2-line32-idx3", 16, 2, 32, 3, 64, {{300, 250, 0.05, true}}, 0.35, 2},
        {"n64-paper", 64, 8, 64, 4, 64, {{1024, 1024, 0.09, false}}, 0.35, 3},
        {"n5-batches-network", 5, 4, 128, 5, 4,
         {{60, 90, 0.2, true, Activation::relu}, {90, 30, 0.3, false, Activation::identity}}, 0.6, 4},
        {"n1-depth1", 1, 1, 64, 4, 64, {{40, 50, 0.2, true}}, 0.5, 5},
    };
    const std::string path = std::string(EIE_SOURCE_DIR) + "/traces/golden/model_stats.json";
    nlohmann::json current = nlohmann::json::object();
    for (const GoldenCase& c : cases) {
        ArchConfig arch;
        arch.num_pes = c.pes;
        arch.queue_depth = c.depth;
        arch.spmat_line_bits = c.line_bits;
        arch.index_bits = c.index_bits;
        arch.act_rf_entries = c.rf;
        Image img = test::make_image(c.layers, arch, c.seed, c.act_density);
        current[c.name] = key_figures(simulate(img));
    }
    if (std::getenv("EIE_UPDATE_GOLDEN")) {
        std::ofstream(path) << current.dump(2) << "\n";
        WARN("golden statistics rewritten: " << path);
    }
    std::ifstream in(path);
    REQUIRE(in.good());
    nlohmann::json golden;
    in >> golden;
    for (auto it = current.begin(); it != current.end(); ++it) {
        INFO(fmt::format("case {}", it.key()));
        REQUIRE(golden.contains(it.key()));
        CHECK(golden[it.key()].dump() == it.value().dump());
    }
}
