// Energy and area model (hw/model/energy_model.hpp): counts x table, table
// files and their errors, scaling laws, the paper's area, and the
// calibration on Alex-7.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "eie/compress/compressor.hpp"
#include "eie/compress/synthetic.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/hw/model/simulator.hpp"

using namespace eie;
using Catch::Matchers::Contains;

namespace {

// Two PEs with different, known counts.
LayerStats hand_stats() {
    LayerStats ls;
    ls.name = "hand";
    ls.cycles = 1000;
    ls.pe.resize(2);
    PeStats& a = ls.pe[0];
    a.spmat_line_reads = 101;
    a.ptr_reads_even = 37;
    a.ptr_reads_odd = 38;
    a.codebook_lookups = 700;
    a.multiplies = 600;
    a.adds = 590;
    a.dst_rf_reads = 600;
    a.dst_rf_writes = 599;
    a.src_rf_reads = 17;
    a.act_sram_reads = 5;
    a.act_sram_writes = 9;
    a.queue_pushes = 40;
    a.queue_pops = 39;
    PeStats& b = ls.pe[1];
    b.spmat_line_reads = 77;
    b.ptr_reads_even = 40;
    b.ptr_reads_odd = 40;
    b.codebook_lookups = 650;
    b.multiplies = 500;
    b.adds = 500;
    b.dst_rf_reads = 500;
    b.dst_rf_writes = 500;
    b.src_rf_reads = 16;
    b.act_sram_reads = 3;
    b.act_sram_writes = 8;
    b.queue_pushes = 40;
    b.queue_pops = 40;
    ls.ccu.lnzd_node_activations = 1234;
    ls.useful_macs = 1100;
    return ls;
}

// A table whose every value is distinct, so a swapped term shows.
EnergyTable distinct_table() {
    EnergyTable t = EnergyTable::defaults();
    double v = 1.0;
    for (const auto& e : energy_table_entries()) {
        const std::string key = e.key;
        if (key.find("_exp") != std::string::npos || key.rfind("area_", 0) == 0) continue;
        t.*(e.field) = (v += 0.37);
    }
    t.leakage_mw_per_mm2 = 2.5;
    return t;
}

std::string write_temp(const std::string& name, const std::string& text) {
    const std::string path = std::string(EIE_BINARY_DIR) + "/" + name;
    std::ofstream(path) << text;
    return path;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const EnergyError& e) {
        return e.what();
    }
    return "(no EnergyError)";
}

}  // namespace

TEST_CASE("energy: every component is its counts times the table's energy", "[energy]") {
    ArchConfig arch;
    arch.num_pes = 2;  // paper geometry otherwise: every scale factor is exactly 1
    const EnergyTable t = distinct_table();
    const LayerStats ls = hand_stats();
    const EnergyBreakdown e = estimate_energy(ls, arch, t);

    const double T = 1000 / 800e6;  // s
    CHECK(e.time_s == Approx(T).epsilon(1e-15));
    CHECK(e.cycles == 1000);
    CHECK(e.num_pes == 2);
    auto& c = e.component_pj;
    auto eq = [](double a, double b) { return a == Approx(b).epsilon(1e-12); };
    CHECK(eq(c.at("spmat_sram"), (101 + 77) * t.spmat_line_read_pj));
    CHECK(eq(c.at("pointer_sram"), (37 + 38 + 40 + 40) * t.ptr_bank_read_pj));
    CHECK(eq(c.at("codebook"), (700 + 650) * t.codebook_lookup_pj));
    CHECK(eq(c.at("arith_mult"), (600 + 500) * t.mult_pj));
    CHECK(eq(c.at("arith_add"), (590 + 500) * t.add_pj));
    CHECK(eq(c.at("dst_regfile"), (600 + 500) * t.dst_rf_read_pj + (599 + 500) * t.dst_rf_write_pj));
    CHECK(eq(c.at("src_regfile"), (17 + 16) * t.src_rf_read_pj));
    CHECK(eq(c.at("act_sram"), (5 + 3) * t.act_sram_read_pj + (9 + 8) * t.act_sram_write_pj));
    CHECK(eq(c.at("act_queue"), (40 + 40) * t.queue_push_pj + (39 + 40) * t.queue_pop_pj));
    CHECK(eq(c.at("lnzd"), 1234 * t.lnzd_node_pj));
    const double clock_per_cycle = t.clock_spmat_read_pj + t.clock_ptr_read_pj + t.clock_arith_unit_pj +
                                   t.clock_act_rw_pj + t.clock_act_queue_pj;
    CHECK(eq(c.at("clock"), 2 * 1000 * clock_per_cycle));
    // leakage: mW/mm^2 x PE area (paper: 638,024 um^2) x 2 PEs x T, in pJ
    const double pe_mm2 = (469412 + 121849 + 3110 + 18934 + 758 + 23961) * 1e-6;
    CHECK(eq(c.at("leakage"), t.leakage_mw_per_mm2 * pe_mm2 * 2 * T * 1e9));

    double sum = 0;
    for (const auto& [k, v] : c) sum += v;
    CHECK(c.size() == energy_component_names().size());
    CHECK(eq(e.total_pj, sum));
    CHECK(eq(e.pe_total_pj, sum - c.at("lnzd")));
    double msum = 0;
    for (const auto& [k, v] : e.module_pj) msum += v;
    CHECK(eq(msum, e.total_pj));
    // a module carries its own events, clock and leakage
    const double leak_spmat = t.leakage_mw_per_mm2 * 469412e-6 * (pe_mm2 / (pe_mm2 - 23961e-6)) * 2 * T * 1e9;
    CHECK(eq(e.module_pj.at("spmat_read"), c.at("spmat_sram") + 2 * 1000 * t.clock_spmat_read_pj + leak_spmat));
    CHECK(eq(e.module_pj.at("arith_unit") - 2 * 1000 * t.clock_arith_unit_pj,
             c.at("codebook") + c.at("arith_mult") + c.at("arith_add") +
                 t.leakage_mw_per_mm2 * 3110e-6 * (pe_mm2 / (pe_mm2 - 23961e-6)) * 2 * T * 1e9));
    CHECK(eq(e.average_power_mw, e.total_pj * 1e-9 / T));
    CHECK(eq(e.pe_average_power_mw, e.pe_total_pj * 1e-9 / T / 2));
    CHECK(eq(e.module_power_per_pe_mw("ptr_read"), e.module_pj.at("ptr_read") * 1e-9 / T / 2));
    CHECK_THROWS_AS(e.module_power_per_pe_mw("nonsense"), EnergyError);
    CHECK(e.useful_macs == 1100);
    CHECK(eq(e.pj_per_useful_mac(), e.total_pj / 1100));

    const nlohmann::json j = e.to_json();
    CHECK(j.at("component_pj").at("spmat_sram").get<double>() == c.at("spmat_sram"));
    CHECK(j.at("total_pj").get<double>() == e.total_pj);
}

TEST_CASE("energy: a network's energy is the sum of its layers", "[energy]") {
    ArchConfig arch;
    arch.num_pes = 2;
    const EnergyTable t = distinct_table();
    LayerStats a = hand_stats(), b = hand_stats();
    b.cycles = 333;
    b.pe[1].multiplies = 1;
    const EnergyBreakdown ea = estimate_energy(a, arch, t), eb = estimate_energy(b, arch, t);
    const EnergyBreakdown sum = estimate_energy(std::vector<LayerStats>{a, b}, arch, t);
    CHECK(sum.cycles == 1333);
    CHECK(sum.useful_macs == 2200);
    CHECK(sum.total_pj == Approx(ea.total_pj + eb.total_pj).epsilon(1e-12));
    CHECK(sum.time_s == Approx(ea.time_s + eb.time_s).epsilon(1e-12));
    for (const auto& name : energy_component_names())
        CHECK(sum.component_pj.at(name) ==
              Approx(ea.component_pj.at(name) + eb.component_pj.at(name)).epsilon(1e-12));
    CHECK(sum.average_power_mw == Approx(sum.total_pj * 1e-9 / sum.time_s).epsilon(1e-12));
    // statistics of another array size are refused
    ArchConfig other;
    other.num_pes = 4;
    CHECK_THAT(error_of([&] { estimate_energy(a, other, t); }), Contains("num_pes = 4") && Contains("2 PEs"));
}

TEST_CASE("energy: a user table overrides the defaults", "[energy]") {
    nlohmann::json j = EnergyTable::defaults().to_json();
    j["mult_pj"] = 10.0;
    j["clock_act_rw_pj"] = 0.0;
    j["about"] = "my 28 nm numbers";
    const std::string path = write_temp("energy_user_table.json", j.dump(2));
    const EnergyTable t = EnergyTable::from_json_file(path);
    CHECK(t.mult_pj == 10.0);
    CHECK(t.clock_act_rw_pj == 0.0);
    CHECK(t != EnergyTable::defaults());
    ArchConfig arch;
    arch.num_pes = 2;
    const LayerStats ls = hand_stats();
    const EnergyBreakdown e = estimate_energy(ls, arch, t);
    const EnergyBreakdown d = estimate_energy(ls, arch, EnergyTable::defaults());
    CHECK(e.component_pj.at("arith_mult") == Approx(1100 * 10.0));
    CHECK(d.component_pj.at("arith_mult") == Approx(1100 * EnergyTable::defaults().mult_pj));
    CHECK(e.component_pj.at("spmat_sram") == d.component_pj.at("spmat_sram"));
    CHECK(e.component_pj.at("clock") ==
          Approx(d.component_pj.at("clock") - 2 * 1000 * EnergyTable::defaults().clock_act_rw_pj));
    // to_json / from_json round trip
    CHECK(EnergyTable::from_json(t.to_json(), "round trip") == t);
    std::remove(path.c_str());
}

TEST_CASE("energy: bad tables name the file, the key, the value and what is allowed", "[energy]") {
    const nlohmann::json good = EnergyTable::defaults().to_json();
    auto load = [](const nlohmann::json& j) {
        const std::string path = write_temp("energy_bad_table.json", j.dump());
        std::string msg = error_of([&] { EnergyTable::from_json_file(path); });
        std::remove(path.c_str());
        return msg;
    };
    {
        nlohmann::json j = good;
        j.erase("ptr_bank_read_pj");
        const std::string m = load(j);
        CHECK_THAT(m, Contains("energy_bad_table.json") && Contains("missing key 'ptr_bank_read_pj'"));
    }
    {
        nlohmann::json j = good;
        j["add_pj"] = -0.5;
        const std::string m = load(j);
        CHECK_THAT(m, Contains("energy_bad_table.json") && Contains("add_pj = -0.5") && Contains("from 0 to"));
    }
    {
        nlohmann::json j = good;
        j["queue_pop_pj"] = "0.4";
        const std::string m = load(j);
        CHECK_THAT(m, Contains("queue_pop_pj = \"0.4\" is not a number") && Contains("allowed"));
    }
    {
        nlohmann::json j = good;
        j["multiply_pj"] = 1.0;
        const std::string m = load(j);
        CHECK_THAT(m, Contains("unknown key 'multiply_pj'") && Contains("mult_pj"));
    }
    {
        nlohmann::json j = good;
        j["sram_energy_width_exp"] = 3.0;
        CHECK_THAT(load(j), Contains("sram_energy_width_exp = 3.0") && Contains("from 0 to 2"));
    }
    {
        nlohmann::json j = good;
        j["about"] = 5;
        CHECK_THAT(load(j), Contains("about = 5 must be a string"));
    }
    CHECK_THAT(load(nlohmann::json::array({1, 2})), Contains("must be a JSON object"));
    CHECK_THAT(error_of([] { EnergyTable::from_json_file("/nonexistent/table.json"); }),
               Contains("/nonexistent/table.json") && Contains("cannot open"));
    const std::string broken = write_temp("energy_broken.json", "{\"mult_pj\": ");
    CHECK_THAT(error_of([&] { EnergyTable::from_json_file(broken); }), Contains("not valid JSON"));
    std::remove(broken.c_str());
}

TEST_CASE("energy: the default table file equals the compiled-in defaults", "[energy]") {
    const std::string path = std::string(EIE_SOURCE_DIR) + "/traces/energy/default-45nm.json";
    const EnergyTable file = EnergyTable::from_json_file(path);
    for (const auto& e : energy_table_entries()) {
        INFO(e.key);
        CHECK(file.*(e.field) == EnergyTable::defaults().*(e.field));
    }
    CHECK(file == EnergyTable::defaults());
}

TEST_CASE("energy: scaling laws", "[energy]") {
    const EnergyTable t = EnergyTable::defaults();
    LayerStats ls;
    ls.cycles = 100;
    ls.pe.resize(64);
    for (auto& p : ls.pe) p.spmat_line_reads = 50;
    double last = 0;
    for (uint32_t w : {32u, 64u, 128u, 256u, 512u}) {  // same number of line reads
        ArchConfig a;
        a.spmat_line_bits = w;
        const double e = estimate_energy(ls, a, t).component_pj.at("spmat_sram");
        INFO("line bits " << w);
        CHECK(e > last);
        CHECK(e == Approx(64 * 50 * t.spmat_line_read_pj * std::pow(w / 64.0, t.sram_energy_width_exp)));
        last = e;
    }
    ArchConfig big;
    big.spmat_sram_bytes = 512 * 1024;
    CHECK(event_energies(big, t).spmat_line_read ==
          Approx(t.spmat_line_read_pj * std::pow(4.0, t.sram_energy_size_exp)));
    // multiply ~ product of operand widths, add ~ width
    ArchConfig narrow;
    narrow.act_bits = 8;
    narrow.codebook_value_bits = 8;
    CHECK(event_energies(narrow, t).mult == Approx(t.mult_pj / 4));
    CHECK(event_energies(narrow, t).add == Approx(t.add_pj / 2));
    // the paper configuration reproduces the table
    const EventEnergies p = event_energies(ArchConfig{}, t);
    CHECK(p.spmat_line_read == t.spmat_line_read_pj);
    CHECK(p.ptr_bank_read == t.ptr_bank_read_pj);
    CHECK(p.queue_push == t.queue_push_pj);
    CHECK(p.clock_pj_per_cycle.at("spmat_read") == t.clock_spmat_read_pj);
    // a wider line buffer costs more clock
    ArchConfig wide;
    wide.spmat_line_bits = 128;
    CHECK(event_energies(wide, t).clock_pj_per_cycle.at("spmat_read") == Approx(2 * t.clock_spmat_read_pj));
}

TEST_CASE("area: the paper configuration gives 0.638 mm^2 per PE and 40.8 mm^2", "[energy][area]") {
    const AreaBreakdown a = estimate_area(ArchConfig{}, EnergyTable::defaults());
    CHECK(a.pe_total_um2 * 1e-6 == Approx(0.638).epsilon(0.01));
    CHECK(a.pe_total_um2 == Approx(638024).epsilon(1e-12));  // the sum of the published module areas
    CHECK(a.lnzd_nodes == 21);
    CHECK(a.lnzd_um2 == Approx(21 * 189));
    CHECK(a.total_mm2 == Approx(40.8).epsilon(0.005));
    CHECK(a.pe_module_um2.at("spmat_read") == 469412);
    CHECK(a.to_json().at("pe_module_um2").at("filler").get<double>() == Approx(23961));

    // scaling: a bigger sparse-matrix SRAM grows sublinearly, the filler keeps its share
    ArchConfig big;
    big.spmat_sram_bytes = 256 * 1024;
    const AreaBreakdown b = estimate_area(big, EnergyTable::defaults());
    CHECK(b.pe_module_um2.at("spmat_read") > 469412 * 1.5);
    CHECK(b.pe_module_um2.at("spmat_read") < 469412 * 2.0);
    CHECK(b.pe_module_um2.at("filler") / b.pe_total_um2 == Approx(23961.0 / 638024));
    ArchConfig many;
    many.num_pes = 256;
    const AreaBreakdown m = estimate_area(many, EnergyTable::defaults());
    CHECK(m.lnzd_nodes == 64 + 16 + 4 + 1);
    CHECK(m.total_mm2 == Approx((256 * 638024 + 85 * 189) * 1e-6));
}

TEST_CASE("energy: the defaults reproduce the published per-module power on Alex-7", "[energy][calibration]") {
    // The calibration point (docs/energy-area.md): synthetic Alex-7 at the paper configuration.
    const SyntheticSpec spec = preset("alex7");
    const std::vector<float> x = make_synthetic_input(spec);
    CompressOptions co;
    const CompressResult cr = compress_network({make_synthetic_layer(spec)}, std::vector<double>(x.begin(), x.end()), {}, co);
    const SimResult sr = simulate(cr.image);
    REQUIRE(sr.bit_exact);
    const EnergyBreakdown e = estimate_energy(sr.stats.layers, sr.arch, EnergyTable::defaults());
    // rounding the table to 4 significant digits leaves < 0.1%
    CHECK(e.module_power_per_pe_mw("spmat_read") == Approx(4.955).epsilon(1e-3));
    CHECK(e.module_power_per_pe_mw("ptr_read") == Approx(1.807).epsilon(1e-3));
    CHECK(e.module_power_per_pe_mw("arith_unit") == Approx(1.162).epsilon(1e-3));
    CHECK(e.module_power_per_pe_mw("act_rw") == Approx(1.122).epsilon(1e-3));
    CHECK(e.module_power_per_pe_mw("act_queue") == Approx(0.112).epsilon(1e-3));
    CHECK(e.pe_average_power_mw == Approx(9.157).epsilon(1e-3));
    CHECK(e.component_pj.at("clock") * 1e-9 / e.time_s / 64 == Approx(1.874).epsilon(1e-3));
    // LNZD: 21 nodes at 0.023 mW when active (nearly every cycle here)
    CHECK(e.module_pj.at("lnzd") * 1e-9 / e.time_s == Approx(21 * 0.023).epsilon(0.02));
}

TEST_CASE("energy tables: every event has a known component and module", "[energy][table]") {
    const auto& comps = energy_component_names();
    const auto& mods = pe_module_names();
    for (const EnergyEvent& e : energy_events()) {
        INFO(e.name);
        CHECK(std::find(comps.begin(), comps.end(), e.component) != comps.end());
        CHECK((std::find(mods.begin(), mods.end(), e.module) != mods.end() || std::string(e.module) == "lnzd"));
        CHECK(*e.counted_by != '\0');
    }
    CHECK(mods == std::vector<std::string>{"spmat_read", "ptr_read", "arith_unit", "act_rw", "act_queue"});
    // the paper configuration: every module's laws give 1
    const ArchConfig paper;
    double published = 0;
    for (const PeModule& m : pe_modules()) {
        CHECK(m.clock_scale(paper) == 1.0);
        CHECK(m.area_scale(paper, EnergyTable::defaults()) == 1.0);
        published += m.paper_power_mw;
    }
    CHECK(published == Approx(9.158).epsilon(1e-4));  // EIE Table II: 9.157 mW (rounded per module)
    const nlohmann::json j = event_energies(paper, EnergyTable::defaults()).to_json();
    for (const EnergyEvent& e : energy_events()) CHECK(j.contains(std::string(e.name) + "_pj"));
}

TEST_CASE("energy and area of skip_empty_columns: the non-empty bit array", "[energy][area][variant]") {
    ArchConfig base;
    base.num_pes = 2;
    ArchConfig skip = base;
    skip.skip_empty_columns = true;
    const EnergyTable t = EnergyTable::defaults();
    const LayerStats ls = hand_stats();
    const EventEnergies e = event_energies(skip, t);
    // a 1-bit read of a ptr_capacity-bit array, by the SRAM law, relative to a 16-bit read of a 16 KB bank
    const double bit = t.ptr_bank_read_pj * std::pow(1.0 / 16, t.sram_energy_width_exp) *
                       std::pow(skip.ptr_capacity() / 8.0 / 16384, t.sram_energy_size_exp);
    CHECK(e.nonempty_bit_read == Approx(bit));
    const EnergyBreakdown a = estimate_energy(ls, base, t), b = estimate_energy(ls, skip, t);
    // one bit read per column entering each PE's queue, charged to the pointer read
    CHECK(b.component_pj.at("pointer_sram") - a.component_pj.at("pointer_sram") == Approx(80 * bit));
    // the queue entry carries the bit: 33 bits instead of 32
    CHECK(e.queue_push == Approx(t.queue_push_pj * std::pow(33.0 / 32, t.sram_energy_width_exp + t.sram_energy_size_exp)));
    const AreaBreakdown pa = estimate_area(base, t), pb = estimate_area(skip, t);
    const double bits_area = t.area_ptr_read_um2 / 2 * std::pow(1.0 / 16, t.sram_area_width_exp) *
                             std::pow(skip.ptr_capacity() / 8.0 / 16384, t.sram_area_size_exp);
    CHECK(pb.pe_module_um2.at("ptr_read") == Approx(t.area_ptr_read_um2 + bits_area));
    CHECK(pb.pe_module_um2.at("act_queue") == Approx(t.area_act_queue_um2 * 33 / 32));
    CHECK(pb.pe_total_um2 > pa.pe_total_um2);
    CHECK(pb.pe_total_um2 < 1.02 * pa.pe_total_um2);  // about 1 % of a PE
}

TEST_CASE("energy and area of two lanes: a second arithmetic unit and register-file port", "[energy][area][variant]") {
    ArchConfig base;
    ArchConfig two = base;
    two.spmat_entries_per_cycle = 2;
    const EnergyTable t = EnergyTable::defaults();
    const AreaBreakdown a = estimate_area(base, t), b = estimate_area(two, t);
    CHECK(b.pe_module_um2.at("arith_unit") == Approx(2 * t.area_arith_unit_um2));
    CHECK(b.pe_module_um2.at("spmat_read") == a.pe_module_um2.at("spmat_read"));  // the same SRAM and lines
    CHECK(b.pe_module_um2.at("act_rw") ==
          Approx(t.area_act_rw_um2 * std::pow((3.0 * 64 + 1024) / (2.0 * 64 + 1024), t.sram_area_size_exp)));
    const EventEnergies e = event_energies(two, t);
    CHECK(e.clock_pj_per_cycle.at("arith_unit") == Approx(2 * t.clock_arith_unit_pj));
    CHECK(e.clock_pj_per_cycle.at("spmat_read") == Approx(t.clock_spmat_read_pj * (64.0 + 8) / 64));
    CHECK(e.clock_pj_per_cycle.at("act_rw") == Approx(t.clock_act_rw_pj * 1.5));
    // per-entry energies are unchanged: the counters carry the work
    CHECK(e.mult == t.mult_pj);
    CHECK(e.spmat_line_read == t.spmat_line_read_pj);
}

TEST_CASE("energy of the variants from a simulation: counters drive it", "[energy][variant]") {
    SyntheticSpec spec = preset("ntwe");
    spec.in_len = 512;
    spec.out_len = 256;
    std::vector<FloatLayer> layers{make_synthetic_layer(spec)};
    auto x = make_synthetic_input(spec);
    CompressOptions co;
    co.arch.num_pes = 64;
    CompressResult cr = compress_network(layers, std::vector<double>(x.begin(), x.end()), {}, co);
    const EnergyTable t = EnergyTable::defaults();
    const SimResult ref = simulate(cr.image);
    cr.image.arch.skip_empty_columns = true;
    const SimResult skip = simulate(cr.image);
    REQUIRE(skip.bit_exact);
    const LayerStats &a = ref.stats.layers[0], &b = skip.stats.layers[0];
    const EnergyBreakdown ea = estimate_energy(a, ref.arch, t), eb = estimate_energy(b, skip.arch, t);
    // the pointer pairs of empty columns are no longer read; the bits are
    CHECK(b.pe_total().ptr_reads_even < a.pe_total().ptr_reads_even);
    CHECK(eb.component_pj.at("pointer_sram") ==
          Approx(double(b.pe_total().ptr_reads_even + b.pe_total().ptr_reads_odd) *
                     event_energies(skip.arch, t).ptr_bank_read +
                 double(b.pe_total().queue_pushes) * event_energies(skip.arch, t).nonempty_bit_read));
    CHECK(eb.component_pj.at("arith_mult") == ea.component_pj.at("arith_mult"));
    CHECK(b.cycles < a.cycles);
    CHECK(eb.component_pj.at("clock") < ea.component_pj.at("clock"));  // fewer cycles
}
