// The PE variants (docs/modelling.md, "PE variants"): skip_empty_columns and
// spmat_entries_per_cycle = 2, alone and together. Bit-exact across the
// usual grid (PE counts, queue depths, stall injection), the closed form
// exact when no PE starves, the stage units on their own, and waveforms.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "eie/hw/image_io.hpp"
#include "eie/hw/model/closed_form.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/model/vcd_writer.hpp"
#include "eie/pe/pointer_read.hpp"
#include "eie/pe/spmat_read.hpp"
#include "model_fixtures.hpp"

using namespace eie;

namespace {

struct Variant {
    bool skip;
    uint32_t lanes;
};
const Variant kVariants[] = {{false, 1}, {true, 1}, {false, 2}, {true, 2}};

ArchConfig with_variant(ArchConfig a, const Variant& v) {
    a.skip_empty_columns = v.skip;
    a.spmat_entries_per_cycle = v.lanes;
    return a;
}

// Cycles of one PE's sparse-matrix read on its columns, by hand.
uint64_t column_cycles(const PeImage& pe, uint32_t j, const Variant& v, uint32_t per_line) {
    uint64_t b = pe.pointers[j], e = pe.pointers[j + 1];
    if (b == e) return v.skip ? 0 : 1;
    if (v.lanes == 1) return e - b;
    uint64_t c = 0;
    while (b < e) {
        const uint64_t seg = std::min<uint64_t>(e, (b / per_line + 1) * per_line);
        c += (seg - b + 1) / 2;
        b = seg;
    }
    return c;
}

}  // namespace

TEST_CASE("variants: N x queue depth, bit-exact and the same outputs as the default PE", "[regression][variant]") {
    uint64_t seed = 700;
    for (uint32_t n : {1u, 2u, 3u, 8u, 64u}) {
        for (uint32_t depth : {1u, 2u, 8u}) {
            ArchConfig base;
            base.num_pes = n;
            base.queue_depth = depth;
            const uint32_t in = 2 * n + 5, out = 3 * n + 4;
            Image img = test::make_image({{in, out, 0.15, seed % 2 == 0}}, base, seed, 0.4);
            const SimResult ref = simulate(img);
            REQUIRE(ref.bit_exact);
            for (const Variant& v : kVariants) {
                img.arch = with_variant(base, v);
                const SimResult r = simulate(img);
                INFO(fmt::format("N={} depth={} skip={} lanes={}", n, depth, v.skip, v.lanes));
                CHECK(r.bit_exact);
                CHECK(r.outputs == ref.outputs);
                const LayerStats& l = r.stats.layers[0];
                CHECK(l.cycles >= l.closed_form_cycles);
                CHECK(l.useful_macs == ref.stats.layers[0].useful_macs);
                if (v.skip) CHECK(l.pe_total().empty_col_cycles == 0);
                // neither variant is ever slower than the default PE here
                CHECK(l.cycles <= ref.stats.layers[0].cycles);
            }
            ++seed;
        }
    }
}

TEST_CASE("variants: stall injection never changes the results", "[regression][variant][stall]") {
    ArchConfig base;
    base.num_pes = 4;
    base.queue_depth = 2;
    Image img = test::make_image({{37, 29, 0.3, true}, {29, 21, 0.3, false}}, base, 77, 0.5);
    for (const Variant& v : kVariants) {
        img.arch = with_variant(base, v);
        for (double p : {0.1, 0.4}) {
            SimOptions opt;
            opt.stall_probability = p;
            const SimResult r = simulate(img, opt);
            INFO(fmt::format("skip={} lanes={} p={}", v.skip, v.lanes, p));
            CHECK(r.bit_exact);
        }
    }
}

TEST_CASE("variants: with no starvation, cycles equal the closed form (each PE's column cost)", "[timing][variant]") {
    uint64_t seed = 800;
    for (uint32_t n : {1u, 4u, 16u}) {
        for (const Variant& v : kVariants) {
            ArchConfig arch;
            arch.num_pes = n;
            const uint32_t in = 3 * n + 5, out = 2 * n + 7;
            arch.queue_depth = in + 2;
            // Dense weights: every column has entries in every PE, so the
            // busiest PE never waits for a broadcast.
            Image img = test::make_image({{in, out, 1.0, true}}, arch, seed++, 1.0);
            img.arch = with_variant(arch, v);
            const SimResult r = simulate(img);
            const LayerStats& l = r.stats.layers[0];
            INFO(fmt::format("N={} skip={} lanes={}", n, v.skip, v.lanes));
            CHECK(r.bit_exact);
            CHECK(l.cycles == l.closed_form_cycles);
            uint64_t worst = 0;
            for (const PeImage& pe : img.pes) {
                uint64_t s = 0;
                for (uint32_t j = 0; j < img.layers[0].num_cols(); ++j)
                    s += column_cycles(pe, j, v, arch.entries_per_line());
                worst = std::max(worst, s);
            }
            CHECK(l.cycles == worst + arch.lnzd_levels() + 2 + Eie::kArithStages);
        }
    }
}

TEST_CASE("closed form: a PE's front end with one broadcast per cycle", "[unit][timing]") {
    using V = std::vector<uint64_t>;
    CHECK(pe_front_end_cycles(V{}) == 0);
    CHECK(pe_front_end_cycles(V{1, 1, 1}) == 3);
    CHECK(pe_front_end_cycles(V{2, 1, 3}) == 6);  // costs >= 1: the sum
    CHECK(pe_front_end_cycles(V{0, 0, 0}) == 2);  // the last drop waits for the last broadcast
    CHECK(pe_front_end_cycles(V{3, 0, 0, 0, 0}) == 4);
    CHECK(pe_front_end_cycles(V{0, 0, 0, 2}) == 5);  // column 3 arrives at 3
    CHECK(pe_front_end_cycles(V{1, 0, 0, 0, 1, 2}) == 7);
}

TEST_CASE("skip_empty_columns: with the CCU never pausing, cycles equal the closed form", "[timing][variant]") {
    // Sparse weights, so the PEs run ahead of the broadcast and wait for it;
    // every input non-zero (no all-zero pack) and a queue deeper than the
    // layer (no back-pressure): the CCU sends one column per cycle.
    uint64_t seed = 900;
    for (uint32_t n : {1u, 4u, 16u}) {
        for (double density : {0.02, 0.1, 0.4}) {
            for (uint32_t lanes : {1u, 2u}) {
                ArchConfig arch;
                arch.num_pes = n;
                const uint32_t in = 6 * n + 5, out = 3 * n + 2;
                arch.queue_depth = in + 2;
                Image img = test::make_image({{in, out, density, seed % 2 == 0}}, arch, seed, 1.0);
                ++seed;
                img.arch = with_variant(arch, {true, lanes});
                const SimResult r = simulate(img);
                const LayerStats& l = r.stats.layers[0];
                INFO(fmt::format("N={} density={} lanes={}", n, density, lanes));
                REQUIRE(r.bit_exact);
                CHECK(l.ccu.backpressure_stalls == 0);
                CHECK(l.ccu.empty_packs == 0);
                CHECK(l.cycles == l.closed_form_cycles);
                // By hand: PE p pops broadcast k no earlier than k cycles after
                // the first, occupies its slots back to back, drops empty ones.
                const uint32_t cols = img.layers[0].num_cols();
                uint64_t worst = 0;
                for (const PeImage& pe : img.pes) {
                    uint64_t free_at = 0, idle_at = 0;
                    for (uint32_t j = 0; j < cols; ++j) {
                        const uint64_t c = column_cycles(pe, j, {true, lanes}, arch.entries_per_line());
                        const uint64_t pop = std::max<uint64_t>(free_at, j);
                        if (c > 0) free_at = pop + c;
                        idle_at = std::max(idle_at, c > 0 ? free_at : pop);
                    }
                    worst = std::max(worst, idle_at);
                }
                CHECK(l.cycles == worst + arch.lnzd_levels() + 2 + Eie::kArithStages);
            }
        }
    }
}

TEST_CASE("skip_empty_columns: empty columns cost no cycle and no pointer read", "[timing][variant]") {
    ArchConfig arch;
    arch.num_pes = 8;
    arch.queue_depth = 8;
    // Sparse weights: most columns are empty in most PEs.
    Image img = test::make_image({{64, 64, 0.03, false}}, arch, 5, 1.0);
    const SimResult ref = simulate(img);
    img.arch.skip_empty_columns = true;
    const SimResult r = simulate(img);
    REQUIRE(r.bit_exact);
    const PeStats a = ref.stats.layers[0].pe_total(), b = r.stats.layers[0].pe_total();
    CHECK(a.empty_col_cycles > 0);
    CHECK(b.empty_col_cycles == 0);
    CHECK(b.columns == a.columns);  // every broadcast is still popped
    CHECK(b.ptr_reads_even == a.ptr_reads_even - a.empty_col_cycles);
    CHECK(r.stats.layers[0].cycles < ref.stats.layers[0].cycles);
}

TEST_CASE("spmat_entries_per_cycle = 2: dense columns take half the slots", "[timing][variant]") {
    ArchConfig arch;
    arch.num_pes = 2;
    arch.queue_depth = 64;
    Image img = test::make_image({{20, 64, 1.0, false}}, arch, 6, 1.0);
    const SimResult ref = simulate(img);
    img.arch.spmat_entries_per_cycle = 2;
    const SimResult r = simulate(img);
    REQUIRE(r.bit_exact);
    const PeStats a = ref.stats.layers[0].pe_total(), b = r.stats.layers[0].pe_total();
    CHECK(b.acc_writes == a.acc_writes);
    CHECK(b.multiplies == a.multiplies);
    CHECK(b.spmat_line_reads == a.spmat_line_reads);
    CHECK(b.busy_cycles + b.padding_cycles < a.busy_cycles + a.padding_cycles);
    CHECK(r.stats.layers[0].cycles < ref.stats.layers[0].cycles);
}

TEST_CASE("pointer read unit: drops empty-flagged entries ahead of the next column", "[unit][variant]") {
    ArchConfig a;
    a.skip_empty_columns = true;
    PointerRead pr;
    pr.configure(a);
    // columns 0..3: 0 empty, 1 has 2 entries, 2 empty, 3 has 1
    const uint32_t p[] = {0, 0, 2, 2, 3};
    for (uint32_t i = 0; i < 5; ++i) pr.sram().set_word(i, p[i]);
    pr.start_batch(100, 0);
    ActivationQueue q(4);
    for (uint32_t j = 0; j < 4; ++j) {
        QueueEntry e{j, int32_t(10 + j)};
        e.nonempty = pr.nonempty(j);
        q.push(e);
        q.commit();
    }
    PeStats st;
    pr.cycle<true>(q, false, st);
    q.commit();
    CHECK(st.queue_pops == 2);  // column 0 dropped, column 1 taken
    CHECK(st.ptr_reads_even == 1);
    CHECK(pr.column().addr == 100);
    CHECK(pr.column().end == 102);
    CHECK(pr.column().act == 11);
    pr.column().addr = pr.column().end;  // the sparse-matrix read used it up
    pr.cycle<true>(q, false, st);
    q.commit();
    CHECK(st.queue_pops == 4);
    CHECK(pr.column().addr == 102);
    CHECK(pr.column().end == 103);
    CHECK(q.empty());
    CHECK(pr.empty_column_cost() == 0);
}

TEST_CASE("sparse-matrix read unit: pairs stay inside one line and one column", "[unit][variant]") {
    ArchConfig a;
    a.spmat_entries_per_cycle = 2;
    a.spmat_sram_bytes = 64;
    SpmatRead sr;
    sr.configure(a);
    std::vector<uint16_t> entries;
    for (uint32_t k = 0; k < 24; ++k) entries.push_back(make_entry(1 + k % 15, k % 3, a.weight_bits));
    sr.sram().bytes() = SpmatSram::pack(entries, a);
    sr.sram().bytes().resize(64, 0);
    sr.start_batch();
    // entries [5, 12) of 8 per line: lines 0 and 1 -> slots {5,6}, {7}, {8,9}, {10,11}
    ColumnCursor col{5, 12, true, 3};
    PeStats st;
    std::vector<uint32_t> issued;
    while (col.has_entries()) {
        ArithIssue out;
        sr.issue<2>(col, out, st);
        issued.push_back(out.lane[1].valid ? 2 : 1);
        CHECK(out.lane[0].zeros == entries[col.addr - (out.lane[1].valid ? 2 : 1)] >> a.weight_bits);
    }
    CHECK(issued == std::vector<uint32_t>{2, 1, 2, 2});
    CHECK(sr.issue_cycles(5, 12) == 4);
    CHECK(st.spmat_line_reads == 2);
}

TEST_CASE("variants: waveforms carry the lane-1 and skip signals", "[vcd][variant]") {
    ArchConfig arch;
    arch.num_pes = 2;
    Image img = test::make_image({{12, 10, 0.3, false}}, arch, 3, 1.0);
    img.arch = with_variant(arch, {true, 2});
    const std::string path = "variant_test.vcd";
    std::unique_ptr<VcdWriter> w;
    SimOptions opt;
    opt.on_elaborated = [&](Eie& e) {
        w = std::make_unique<VcdWriter>(path, e, VcdOptions{});
        e.set_tracer(w.get());
    };
    const SimResult r = simulate(img, opt);
    REQUIRE(r.bit_exact);
    w->close();
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* s : {" skipped_columns ", " issue_valid_l1 ", " s4_sum_l1 ", " dst_write_l1 ", " issue_row_l1 "})
        CHECK(text.find(s) != std::string::npos);
    std::remove(path.c_str());
}

namespace {

// Rewrites DIR/manifest.json without the given arch keys.
void drop_arch_keys(const std::string& dir, std::initializer_list<const char*> keys) {
    const std::string path = dir + "/manifest.json";
    nlohmann::json m;
    {
        std::ifstream in(path);
        in >> m;
    }
    for (const char* k : keys) m["arch"].erase(k);
    std::ofstream(path) << m.dump(1);
}

}  // namespace

TEST_CASE("image without the variant keys (written before they existed) loads with the default PE", "[image][variant]") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{40, 33, 0.2, true}, {33, 17, 0.3, false}}, arch, 91, 0.5);
    const SimResult ref = simulate(img);
    REQUIRE(ref.bit_exact);
    const std::string dir = "variant_old_image";
    std::filesystem::remove_all(dir);

    SECTION("both keys absent: default timing, bit-exact, statistics of the default PE") {
        img.arch = with_variant(arch, {true, 2});  // what was written is overridden by the absence
        write_image_dir(img, dir);
        drop_arch_keys(dir, {"skip_empty_columns", "spmat_entries_per_cycle"});
        const Image old = read_image_dir(dir);
        CHECK(!old.arch.skip_empty_columns);
        CHECK(old.arch.spmat_entries_per_cycle == 1);
        const SimResult r = simulate(old);
        CHECK(r.bit_exact);
        CHECK(r.outputs == ref.outputs);
        REQUIRE(r.stats.layers.size() == ref.stats.layers.size());
        for (std::size_t l = 0; l < r.stats.layers.size(); ++l) {
            CHECK(r.stats.layers[l].cycles == ref.stats.layers[l].cycles);
            CHECK(r.stats.layers[l].pe_total().empty_col_cycles == ref.stats.layers[l].pe_total().empty_col_cycles);
        }
    }
    SECTION("present keys are read back") {
        img.arch = with_variant(arch, {true, 2});
        write_image_dir(img, dir);
        const Image back = read_image_dir(dir);
        CHECK(back.arch.skip_empty_columns);
        CHECK(back.arch.spmat_entries_per_cycle == 2);
        CHECK(simulate(back).bit_exact);
    }
    SECTION("a key that describes stored data stays required") {
        write_image_dir(img, dir);
        drop_arch_keys(dir, {"skip_empty_columns", "ptr_bits"});
        CHECK_THROWS_WITH(read_image_dir(dir), Catch::Contains("arch.ptr_bits") && Catch::Contains("is missing"));
    }
    std::filesystem::remove_all(dir);
}
