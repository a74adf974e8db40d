// Unit testbenches of the PE stages and the CCU parts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "eie/ccu/lnzd.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/simulator.hpp"
#include "model_fixtures.hpp"
#include "eie/pe/act_rw.hpp"
#include "eie/pe/activation_queue.hpp"
#include "eie/pe/arith_unit.hpp"
#include "eie/pe/pointer_sram.hpp"
#include "eie/pe/spmat_sram.hpp"

using namespace eie;

TEST_CASE("activation queue: full, empty and two-phase back-pressure", "[unit][queue]") {
    ActivationQueue q(2);
    CHECK(q.empty());
    CHECK(q.has_room());
    q.push({1, 10});
    CHECK(q.empty());  // a push is visible only after the cycle ends
    q.commit();
    CHECK(q.occupancy() == 1);
    CHECK(q.head().index == 1);
    q.push({2, 20});
    q.commit();
    CHECK(q.occupancy() == 2);
    CHECK_FALSE(q.has_room());  // depth 2 means two usable entries
    // A pop in this cycle does not make room for a push in the same cycle.
    QueueEntry e = q.pop();
    CHECK(e.index == 1);
    CHECK_FALSE(q.has_room());
    q.commit();
    CHECK(q.occupancy() == 1);
    CHECK(q.has_room());
    // push and pop in one cycle: occupancy unchanged, order kept
    q.push({3, 30});
    CHECK(q.pop().index == 2);
    q.commit();
    CHECK(q.occupancy() == 1);
    CHECK(q.head().index == 3);
    CHECK(q.head().value == 30);
    q.pop();
    q.commit();
    CHECK(q.empty());
}

TEST_CASE("pointer read: p[j] and p[j+1] come from different banks for even and odd j", "[unit][pointer]") {
    PointerSram ptr;
    ptr.resize(16);
    for (uint32_t a = 0; a < 16; ++a) ptr.set_word(a, 100 + a);
    CHECK(ptr.bank_word(0, 2) == 104);  // even address 4 -> even bank row 2
    CHECK(ptr.bank_word(1, 2) == 105);  // odd address 5 -> odd bank row 2
    uint64_t even = 0, odd = 0;
    auto [p4, p5] = ptr.read_pair(4, even, odd);  // even j: p[j] even bank, p[j+1] odd bank
    CHECK(p4 == 104);
    CHECK(p5 == 105);
    auto [q5, q6] = ptr.read_pair(5, even, odd);  // odd j: p[j] odd bank, p[j+1] even bank
    CHECK(q5 == 105);
    CHECK(q6 == 106);
    CHECK(even == 2);  // one access per bank per pair
    CHECK(odd == 2);
}

TEST_CASE("sparse-matrix SRAM: packing and line unpacking agree for every width", "[unit][spmat]") {
    for (uint32_t width : {32u, 64u, 128u}) {
        for (uint32_t idx_bits : {3u, 4u, 5u}) {
            ArchConfig a;
            a.spmat_line_bits = width;
            a.index_bits = idx_bits;
            std::vector<uint16_t> entries;
            for (uint32_t k = 0; k < 100; ++k)
                entries.push_back(make_entry(k % 16, k % (1u << idx_bits), a.weight_bits));
            SpmatSram s;
            s.configure(a, (entries.size() + a.entries_per_line() - 1) / a.entries_per_line());
            s.bytes() = SpmatSram::pack(entries, a);
            std::vector<uint16_t> line(a.entries_per_line());
            for (uint64_t addr = 0; addr < entries.size(); ++addr) {
                s.read_line(addr / a.entries_per_line(), line.data());
                CHECK(line[addr % a.entries_per_line()] == entries[addr]);
            }
        }
    }
}

namespace {

// Feeds entries to an arithmetic unit; a negative code is a bubble.
struct ArithDriver {
    std::vector<int32_t> codebook{0, 256, -512, 1024};
    std::vector<int32_t> dst = std::vector<int32_t>(16, 0);
    ArithUnit au;
    PeStats st;
    ArithDriver() { au.configure(codebook.data(), 8, 16); }
    void feed(const ArithInput& in) {
        ArithIssue issue;
        issue.lane[0] = in;
        au.cycle<1>(issue, dst.data(), st);
    }
    void drain() {
        for (int i = 0; i < 5; ++i) feed(ArithInput{});
    }
};

ArithInput entry(bool first, uint16_t code, uint16_t zeros, int32_t act) {
    ArithInput in;
    in.valid = true;
    in.first_of_column = first;
    in.code = code;
    in.zeros = zeros;
    in.act = act;
    return in;
}

}  // namespace

TEST_CASE("arithmetic unit: back-to-back updates of one row are forwarded (distance 1)", "[unit][arith][bypass]") {
    ArithDriver d;
    // Three one-entry columns all hitting local row 3, one per cycle.
    d.feed(entry(true, 1, 3, 100));
    d.feed(entry(true, 2, 3, 50));
    d.feed(entry(true, 3, 3, 7));
    d.drain();
    int32_t expect = 0;
    expect = fx::accumulate(expect, fx::product_term(100, 256, 8), 16);
    expect = fx::accumulate(expect, fx::product_term(50, -512, 8), 16);
    expect = fx::accumulate(expect, fx::product_term(7, 1024, 8), 16);
    CHECK(d.dst[3] == expect);
    CHECK(d.st.bypass_s3 == 2);
    CHECK(d.st.acc_writes == 3);
}

TEST_CASE("arithmetic unit: distance-2 hazards are forwarded from the write stage", "[unit][arith][bypass]") {
    ArithDriver d;
    d.feed(entry(true, 1, 5, 300));
    d.feed(entry(true, 1, 0, 1));  // another row in between
    d.feed(entry(true, 3, 5, 20));
    d.drain();
    int32_t expect = fx::accumulate(fx::accumulate(0, fx::product_term(300, 256, 8), 16),
                                    fx::product_term(20, 1024, 8), 16);
    CHECK(d.dst[5] == expect);
    CHECK(d.st.bypass_s2 == 1);
    CHECK(d.st.bypass_s3 == 0);
    // distance 3 needs no forwarding: the write is visible by then
    ArithDriver e;
    e.feed(entry(true, 1, 5, 300));
    e.feed(ArithInput{});
    e.feed(ArithInput{});
    e.feed(entry(true, 3, 5, 20));
    e.drain();
    CHECK(e.dst[5] == expect);
    CHECK(e.st.bypass_s2 + e.st.bypass_s3 == 0);
}

TEST_CASE("arithmetic unit: rows accumulate (z + 1) and padding never writes", "[unit][arith]") {
    ArithDriver d;
    d.dst.assign(32, 0);
    d.feed(entry(true, 1, 2, 64));    // row 2
    d.feed(entry(false, 0, 15, 64));  // padding: row 18, no write
    d.feed(entry(false, 2, 0, 64));   // row 19
    d.drain();
    CHECK(d.dst[2] == fx::product_term(64, 256, 8));
    CHECK(d.dst[18] == 0);
    CHECK(d.dst[19] == fx::product_term(64, -512, 8));
    CHECK(d.st.acc_writes == 2);
    CHECK(d.st.codebook_lookups == 3);
}

TEST_CASE("LNZD: non-zeros leave in index order, an all-zero pack has no lead", "[unit][lnzd]") {
    test::Rng rng(5);
    for (uint32_t n : {1u, 2u, 3u, 4u, 5u, 7u, 13u, 16u, 17u, 64u, 100u, 256u}) {
        LnzdTree t(n, 4);
        ArchConfig a;
        a.num_pes = n;
        CHECK(t.levels() == a.lnzd_levels());
        CHECK(t.nodes() == a.lnzd_nodes());
        std::vector<uint8_t> zeros(n, 0);
        t.load(zeros.data());
        CHECK_FALSE(t.any());
        CHECK(t.lead() == -1);
        for (int trial = 0; trial < 20; ++trial) {
            std::vector<uint8_t> f(n);
            std::vector<int> expect;
            for (uint32_t i = 0; i < n; ++i) {
                f[i] = rng.uniform() < 0.3;
                if (f[i]) expect.push_back(int(i));
            }
            t.load(f.data());
            std::vector<int> got;
            while (t.any()) {
                int l = t.lead();
                got.push_back(l);
                t.clear(uint32_t(l));
            }
            CHECK(got == expect);
        }
    }
}

namespace {

// Records, per cycle, the PE slots and the top-level phase.
struct SlotRecorder : Tracer {
    std::vector<std::vector<PeSlot>> slots;  // [cycle][pe]
    std::vector<Eie::Phase> phase;
    void sample(uint64_t, const Eie& e) override {
        std::vector<PeSlot> row;
        for (uint32_t p = 0; p < e.num_pes(); ++p) row.push_back(e.pe(p).last_slot());
        slots.push_back(row);
        phase.push_back(e.phase());
    }
};

}  // namespace

TEST_CASE("layer end waits for a PE still draining its pipeline", "[unit][end]") {
    ArchConfig arch;
    arch.num_pes = 4;
    arch.queue_depth = 64;
    // Only rows owned by PE 0 (rows 0, 4, 8, ...) have weights, in every column.
    QuantLayer q = test::hand_layer("skew", 8, 16, 100);
    for (uint32_t c = 0; c < 8; ++c)
        for (uint32_t r = 0; r < 16; r += 4) q.nonzeros.push_back({r, c, 1 + (r + c) % 15});
    Image img = encode_layers({q}, arch);
    img.input.assign(8, 0);
    for (int i = 0; i < 8; ++i) img.input[i] = 10 + i;
    img.expected = golden_run(img, img.input);

    SlotRecorder rec;
    SimOptions opt;
    opt.on_elaborated = [&](Eie& e) { e.set_tracer(&rec); };
    SimResult r = simulate(img, opt);
    REQUIRE(r.bit_exact);
    const LayerStats& l = r.stats.layers[0];
    REQUIRE(rec.slots.size() == l.cycles);
    // PE 0 issues 4 entries per column, 8 columns: 32 busy cycles.
    CHECK(l.pe[0].busy_cycles == 32);
    // The others have only empty columns: 1 cycle each, then they starve.
    CHECK(l.pe[1].empty_col_cycles == 8);
    CHECK(l.pe[1].busy_cycles == 0);
    // The last issue of PE 0, then exactly the 4 arithmetic stages.
    uint64_t last_issue = 0;
    for (uint64_t c = 0; c < rec.slots.size(); ++c)
        if (rec.slots[c][0] == PeSlot::busy) last_issue = c;
    CHECK(l.cycles == last_issue + 1 + Eie::kArithStages);
    CHECK(l.cycles == l.closed_form_cycles);
    // While PE 0 still works, PE 1 has nothing to issue: it starves.
    CHECK(rec.slots[last_issue][1] == PeSlot::starved);
    CHECK(rec.phase[last_issue + 1] == Eie::Phase::drain);
}

TEST_CASE("an entry run crossing an SRAM line reads the next line once", "[unit][spmat]") {
    ArchConfig arch;
    arch.num_pes = 1;
    arch.queue_depth = 16;
    QuantLayer q = test::hand_layer("lines", 2, 12, 37);
    for (uint32_t c = 0; c < 2; ++c)
        for (uint32_t r = 0; r < 12; ++r) q.nonzeros.push_back({r, c, 1 + r % 15});
    // 24 entries over lines of 8: column 0 = entries 0..11 (lines 0,1), column 1 = 12..23 (lines 1,2)
    Image img = encode_layers({q}, arch);
    img.input = {5, 6};
    img.expected = golden_run(img, img.input);
    SimResult r = simulate(img);
    REQUIRE(r.bit_exact);
    // lines 0, 1 (column 0 crosses into it), 2 (column 1 continues in the buffered line 1 first)
    CHECK(r.stats.layers[0].pe[0].spmat_line_reads == 3);
    CHECK(r.stats.layers[0].pe[0].busy_cycles == 24);
    CHECK(r.stats.layers[0].cycles == r.stats.layers[0].closed_form_cycles);

    ArchConfig wide = arch;
    wide.spmat_line_bits = 128;  // 16 entries per line: lines 0 and 1
    SimResult rw = simulate(reencode(img, wide));
    CHECK(rw.bit_exact);
    CHECK(rw.stats.layers[0].pe[0].spmat_line_reads == 2);
    CHECK(rw.stats.layers[0].cycles == r.stats.layers[0].cycles);  // width changes energy, not cycles
}

TEST_CASE("activation read/write: sources from the register file or the SRAM, write-back and swap apply the activation", "[unit][act]") {
    ActRW rw;
    rw.configure(4, 16);
    rw.src_rf() = {5, -6, 7, -8};
    for (uint32_t k = 0; k < 16; ++k) rw.sram()[k] = int32_t(100 + k);
    PeStats st;
    // Register file: local index straight in, one RF read each.
    CHECK(rw.read_source(ActPlacement{false, 0}, 1, st) == -6);
    CHECK(st.src_rf_reads == 1);
    CHECK(st.act_sram_reads == 0);
    // SRAM: offset by the layer's base, one SRAM read each.
    CHECK(rw.read_source(ActPlacement{true, 8}, 3, st) == 111);
    CHECK(st.act_sram_reads == 1);
    CHECK(st.src_rf_reads == 1);

    // Write-back of a batch: `rows` words from the destination registers, ReLU applied.
    int32_t* d = rw.dst();
    d[0] = -3; d[1] = 4; d[2] = 9; d[3] = -1;
    rw.write_back(ActPlacement{true, 4}, 2, 3, Activation::relu, st);
    CHECK(st.act_sram_writes == 3);
    CHECK(rw.sram()[6] == 0);
    CHECK(rw.sram()[7] == 4);
    CHECK(rw.sram()[8] == 9);
    CHECK(rw.sram()[9] == 109);  // beyond `rows`: untouched
    rw.write_back(ActPlacement{true, 12}, 0, 1, Activation::identity, st);
    CHECK(rw.sram()[12] == -3);  // identity keeps the sign
    rw.clear_dst();
    CHECK(std::all_of(rw.dst_rf().begin(), rw.dst_rf().end(), [](int32_t v) { return v == 0; }));

    // End of a layer kept in the register files: the destination becomes the source through ReLU.
    d = rw.dst();
    d[0] = -2; d[1] = 3; d[2] = 0; d[3] = -7;
    rw.swap(Activation::relu);
    CHECK(rw.src_rf() == std::vector<int32_t>{0, 3, 0, 0});
    CHECK(rw.dst_rf() == std::vector<int32_t>{5, -6, 7, -8});  // the old source is the new destination
    rw.swap(Activation::identity);
    CHECK(rw.src_rf() == std::vector<int32_t>{5, -6, 7, -8});
}
