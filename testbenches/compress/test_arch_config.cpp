#include <catch2/catch.hpp>

#include "eie/hw/arch_config.hpp"

using eie::ArchConfig;
using eie::ConfigError;

TEST_CASE("paper defaults are valid and derive the documented geometry", "[config]") {
    ArchConfig c;
    REQUIRE_NOTHROW(c.validate());
    CHECK(c.entry_bits() == 8);
    CHECK(c.entries_per_line() == 8);
    CHECK(c.spmat_capacity_entries() == 128 * 1024);
    CHECK(c.ptr_capacity() == 16 * 1024);
    CHECK(c.lnzd_nodes() == 21);  // 16 + 4 + 1 for 64 PEs
    CHECK(c.lnzd_levels() == 3);
    CHECK(c.batch_rows() == 4096);
}

TEST_CASE("LNZD tree covers any PE count", "[config]") {
    ArchConfig c;
    c.num_pes = 1;
    CHECK(c.lnzd_levels() == 1);
    CHECK(c.lnzd_nodes() == 1);
    c.num_pes = 5;
    CHECK(c.lnzd_levels() == 2);
    CHECK(c.lnzd_nodes() == 3);
    c.num_pes = 256;
    CHECK(c.lnzd_levels() == 4);
    CHECK(c.lnzd_nodes() == 64 + 16 + 4 + 1);
}

TEST_CASE("JSON round trip and overrides", "[config]") {
    ArchConfig c;
    c.num_pes = 16;
    c.queue_depth = 2;
    auto back = eie::arch_from_json(eie::to_json(c), "test");
    CHECK(back.num_pes == 16);
    CHECK(back.queue_depth == 2);
    eie::apply_override(back, "spmat_line_bits=128");
    CHECK(back.spmat_line_bits == 128);
    auto d = eie::diff(c, back);
    REQUIRE(d.size() == 1);
    CHECK(d[0].name == "spmat_line_bits");
    CHECK(d[0].cls == eie::ParamClass::layout);
}

TEST_CASE("bad parameters name the field, the value and what is allowed", "[config]") {
    ArchConfig c;
    try {
        eie::apply_override(c, "num_pes=0", "cli");
        FAIL("no error");
    } catch (const ConfigError& e) {
        std::string m = e.what();
        CHECK(m.find("cli") != std::string::npos);
        CHECK(m.find("num_pes") != std::string::npos);
        CHECK(m.find("0") != std::string::npos);
        CHECK(m.find("allowed") != std::string::npos);
    }
    CHECK_THROWS_AS(eie::apply_override(c, "no_such=3"), ConfigError);
    CHECK_THROWS_AS(eie::apply_override(c, "queue_depth=abc"), ConfigError);
    CHECK_THROWS_AS(eie::arch_from_json(nlohmann::json{{"num_pes", "x"}}, "f.json"), ConfigError);
    CHECK_THROWS_AS(eie::arch_from_json(nlohmann::json{{"weight_bits", 8}, {"index_bits", 9}}, "f.json"),
                    ConfigError);
    ArchConfig wide;
    wide.weight_bits = 8;
    wide.index_bits = 8;
    wide.spmat_line_bits = 8;
    CHECK_THROWS_AS(wide.validate(), ConfigError);
}
