#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "hw/model/simulator.hpp"
#include "model_fixtures.hpp"

using namespace eie;

TEST_CASE("a small layer runs bit-exact", "[model][smoke]") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{32, 48, 0.3}}, arch, 1, 0.5);
    SimResult r = simulate(img);
    CHECK(r.bit_exact);
    REQUIRE(r.stats.layers.size() == 1);
    CHECK(r.stats.layers[0].cycles > 0);
    SimResult r2 = simulate(img);
    CHECK(r2.bit_exact);
    CHECK(r2.stats.layers[0].cycles == r.stats.layers[0].cycles);
}

TEST_CASE("speed probe", "[.speed]") {
    ArchConfig arch;
    Image img = test::make_image({{4096, 4096, 0.09}}, arch, 1, 0.35);
    SimResult r = simulate(img);
    CHECK(r.bit_exact);
    auto& l = r.stats.layers[0];
    std::printf("cycles %llu closed %llu wall %.3f s compute %.3f s PE-cycles/s %.1f M  lbe %.3f\n",
                (unsigned long long)l.cycles, (unsigned long long)l.closed_form_cycles, r.wall_seconds,
                r.stats.compute_wall_seconds, l.cycles * 64.0 / r.stats.compute_wall_seconds / 1e6,
                l.load_balance_efficiency());
}
