// The host interface beyond b_transport: direct memory access to the PE
// memories (granted in I/O mode, invalidated at START, refused while
// computing), debug transport (no time, same routing), the optional clock
// input, and the image loader's transfers issued by an initiator that is
// not HostDriver.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>

#include <tlm_utils/simple_initiator_socket.h>

#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/host_driver.hpp"
#include "eie/hw/model/image_loader.hpp"
#include "eie/hw/model/memory_map.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/model/systemc_run.hpp"
#include "model_fixtures.hpp"

using namespace eie;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

// A bare TLM-2.0 initiator: b_transport, transport_dbg and DMI requests,
// and a record of the invalidations it received.
struct Initiator : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Initiator> socket;
    std::function<void(Initiator&)> program;
    struct Invalidation {
        uint64_t start, end;
        sc_time at;
    };
    std::vector<Invalidation> invalidations;

    SC_HAS_PROCESS(Initiator);
    Initiator(sc_core::sc_module_name n, std::function<void(Initiator&)> p) : sc_module(n), socket("socket"), program(std::move(p)) {
        socket.register_invalidate_direct_mem_ptr(this, &Initiator::invalidate);
        SC_THREAD(thread);
    }
    void thread() { program(*this); }
    void invalidate(sc_dt::uint64 start, sc_dt::uint64 end) {
        invalidations.push_back({start, end, sc_core::sc_time_stamp()});
    }

    // b_transport, waiting for the annotated delay.
    tlm::tlm_response_status access(bool write, uint64_t addr, void* data, uint32_t len) {
        tlm::tlm_generic_payload t;
        prepare_payload(t, write, addr, data, len);
        sc_time delay = SC_ZERO_TIME;
        socket->b_transport(t, delay);
        wait(delay);
        return t.get_response_status();
    }
    uint32_t read32(uint64_t addr) {
        uint32_t v = 0;
        REQUIRE(access(false, addr, &v, 4) == tlm::TLM_OK_RESPONSE);
        return v;
    }
    void write32(uint64_t addr, uint32_t v) { REQUIRE(access(true, addr, &v, 4) == tlm::TLM_OK_RESPONSE); }
    unsigned debug(bool write, uint64_t addr, void* data, uint32_t len) {
        tlm::tlm_generic_payload t;
        prepare_payload(t, write, addr, data, len);
        return socket->transport_dbg(t);
    }
    bool dmi(uint64_t addr, tlm::tlm_dmi& d) {
        tlm::tlm_generic_payload t;
        uint32_t scratch = 0;
        prepare_payload(t, false, addr, &scratch, 4);
        d.init();
        return socket->get_direct_mem_ptr(t, d);
    }
    // START for layers [0, count) and the wait for the interrupt.
    void run(Eie& eie, uint32_t count) {
        write32(mmap::kRegFirstLayer, 0);
        write32(mmap::kRegNumLayers, count);
        write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlStart);
        while (!eie.irq.read()) wait(eie.irq.posedge_event());
        REQUIRE(read32(mmap::kRegStatus) == mmap::kStatusDone);
    }
};

void run_initiator(const ArchConfig& arch, const std::function<void(Initiator&, Eie&)>& program) {
    new_simulation_context();
    Eie eie("eie", arch);
    Initiator init("init", [&](Initiator& i) { program(i, eie); });
    init.socket.bind(eie.socket);
    run_systemc();
}

// Every transfer of the image loader through b_transport.
void load_by_transport(Initiator& i, const std::vector<BusWrite>& writes) {
    for (const BusWrite& w : writes) {
        std::vector<uint8_t> d = w.data;
        REQUIRE(i.access(true, w.addr, d.data(), uint32_t(d.size())) == tlm::TLM_OK_RESPONSE);
    }
}

// The output of `layer` read through transport_dbg.
std::vector<int32_t> read_output_debug(Initiator& i, const Image& img, uint32_t layer) {
    std::vector<std::vector<uint32_t>> words;
    for (const OutputRead& r : output_reads(img, layer)) {
        words.emplace_back(r.words);
        REQUIRE(i.debug(false, r.addr, words.back().data(), r.words * 4) == r.words * 4);
    }
    return assemble_output(img, layer, words);
}

}  // namespace

TEST_CASE("DMI: the pointer covers the window's memory and agrees with b_transport", "[tlm][dmi]") {
    ArchConfig arch;
    arch.num_pes = 3;
    Image img = test::make_image({{90, 120, 0.3, true}}, arch, 31, 0.5);
    run_initiator(arch, [&](Initiator& i, Eie& eie) {
        load_by_transport(i, image_writes(img));
        struct Expect {
            mmap::Region region;
            uint64_t offset, begin, bytes;
        };
        const uint64_t cb = arch.codebook_entries() * 4;
        const std::vector<Expect> regions = {
            {mmap::kSpmat, 8, 0, arch.spmat_sram_bytes},
            {mmap::kPtrEven, 4, 0, (arch.ptr_capacity() + 1) / 2 * 4},
            {mmap::kPtrOdd, 0, 0, arch.ptr_capacity() / 2 * 4},
            {mmap::kCodebook, cb + 4, cb, cb},  // one slot
            {mmap::kSrcRf, 0, 0, uint64_t(arch.act_rf_entries) * 4},
            {mmap::kDstRf, 12, 0, uint64_t(arch.act_rf_entries) * 4},
            {mmap::kActSram, 16, 0, uint64_t(arch.act_sram_entries) * 4},
        };
        for (uint32_t pe : {0u, 2u})
            for (const Expect& e : regions) {
                CAPTURE(pe, e.region);
                tlm::tlm_dmi d;
                REQUIRE(i.dmi(mmap::pe_addr(pe, e.region, e.offset), d));
                CHECK(d.get_start_address() == mmap::pe_addr(pe, e.region, e.begin));
                CHECK(d.get_end_address() == mmap::pe_addr(pe, e.region, e.begin + e.bytes - 1));
                CHECK(d.is_read_write_allowed());
                CHECK(d.get_read_latency() == eie.period());
                CHECK(d.get_write_latency() == eie.period());
                // The pointer shows what b_transport reads (the loaded image) ...
                std::vector<uint8_t> through_bus(e.bytes);
                REQUIRE(i.access(false, d.get_start_address(), through_bus.data(), uint32_t(e.bytes)) ==
                        tlm::TLM_OK_RESPONSE);
                CHECK(std::memcmp(d.get_dmi_ptr(), through_bus.data(), e.bytes) == 0);
                // ... a write through the pointer is what b_transport reads back ...
                const uint32_t poke = 0x80000000u + pe * 16 + e.region;
                std::memcpy(d.get_dmi_ptr() + (e.offset - e.begin), &poke, 4);
                CHECK(i.read32(mmap::pe_addr(pe, e.region, e.offset)) == poke);
                // ... and a b_transport write shows through the pointer.
                i.write32(mmap::pe_addr(pe, e.region, e.offset), ~poke);
                uint32_t seen;
                std::memcpy(&seen, d.get_dmi_ptr() + (e.offset - e.begin), 4);
                CHECK(seen == ~poke);
            }
    });
}

TEST_CASE("DMI: refused outside the PE memories", "[tlm][dmi]") {
    ArchConfig arch;
    arch.num_pes = 2;
    run_initiator(arch, [&](Initiator& i, Eie&) {
        tlm::tlm_dmi d;
        for (uint64_t addr : {mmap::kRegStatus, mmap::kDescBase, mmap::pe_addr(2, mmap::kSpmat, 0),
                              mmap::pe_addr(0, mmap::kRegions, 0), mmap::pe_addr(1, mmap::kSpmat, arch.spmat_sram_bytes),
                              mmap::pe_addr(1, mmap::kCodebook, uint64_t(arch.codebook_slots) * arch.codebook_entries() * 4)}) {
            CAPTURE(addr);
            CHECK_FALSE(i.dmi(addr, d));
            CHECK(d.get_dmi_ptr() == nullptr);
            CHECK(d.get_start_address() <= addr);
            CHECK(d.get_end_address() >= addr);
        }
    });
}

TEST_CASE("DMI: START invalidates the pointers, computing refuses them, the run's end grants them again",
          "[tlm][dmi]") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{200, 300, 0.3}, {300, 40, 0.4, true, Activation::identity}}, arch, 21, 0.5);
    run_initiator(arch, [&](Initiator& i, Eie& eie) {
        load_by_transport(i, image_writes(img));
        tlm::tlm_dmi before;
        REQUIRE(i.dmi(mmap::pe_addr(1, mmap::kSrcRf, 0), before));
        CHECK(i.invalidations.empty());
        i.write32(mmap::kRegFirstLayer, 0);
        i.write32(mmap::kRegNumLayers, 2);
        tlm::tlm_generic_payload t;
        uint32_t start = mmap::kCtrlIrqEnable | mmap::kCtrlStart;
        prepare_payload(t, true, mmap::kRegCtrl, &start, 4);
        sc_time delay = SC_ZERO_TIME;
        const sc_time at_start = sc_core::sc_time_stamp();
        i.socket->b_transport(t, delay);
        REQUIRE(t.is_response_ok());
        // Invalidated inside the START write, before the first computing cycle.
        REQUIRE(i.invalidations.size() == 1);
        CHECK(i.invalidations[0].at == at_start);
        CHECK(i.invalidations[0].start <= mmap::pe_addr(0, mmap::kSpmat, 0));
        CHECK(i.invalidations[0].end >= mmap::pe_addr(3, mmap::kActSram, arch.act_sram_entries * 4ull - 1));
        CHECK(i.invalidations[0].start <= before.get_start_address());
        CHECK(i.invalidations[0].end >= before.get_end_address());
        CHECK(eie.stats().compute_cycles() == 0);
        sc_core::wait(delay + eie.period() * 20);
        REQUIRE(eie.computing());
        tlm::tlm_dmi during;
        CHECK_FALSE(i.dmi(mmap::pe_addr(1, mmap::kSrcRf, 0), during));
        CHECK(during.get_dmi_ptr() == nullptr);
        // The refusal covers only the address asked for: no initiator may
        // take it for the window's lasting answer.
        CHECK(during.get_start_address() == mmap::pe_addr(1, mmap::kSrcRf, 0));
        CHECK(during.get_end_address() == mmap::pe_addr(1, mmap::kSrcRf, 0));
        uint32_t v = 0;
        CHECK(i.debug(false, mmap::pe_addr(1, mmap::kSrcRf, 0), &v, 4) == 0);
        while (!eie.irq.read()) sc_core::wait(eie.irq.posedge_event());
        // After the run the register files have swapped: a fresh pointer
        // reads the output where b_transport reads it.
        std::vector<std::vector<uint32_t>> words;
        for (const OutputRead& r : output_reads(img, 1)) {
            tlm::tlm_dmi d;
            REQUIRE(i.dmi(r.addr, d));
            REQUIRE(d.get_end_address() + 1 >= r.addr + r.words * 4ull);
            words.emplace_back(r.words);
            std::memcpy(words.back().data(), d.get_dmi_ptr() + (r.addr - d.get_start_address()), r.words * 4);
        }
        CHECK(assemble_output(img, 1, words) == img.expected[1]);
        CHECK(i.invalidations.size() == 1);
        // A second START invalidates the new grants too.
        i.write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlIrqClear);
        i.write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlStart);
        CHECK(i.invalidations.size() == 2);
        while (!eie.irq.read()) sc_core::wait(eie.irq.posedge_event());
    });
}

TEST_CASE("Debug transport: same data as b_transport, no simulated time, no statistics", "[tlm][debug]") {
    ArchConfig arch;
    arch.num_pes = 3;
    Image img = test::make_image({{70, 50, 0.4, true}}, arch, 5, 0.6);
    run_initiator(arch, [&](Initiator& i, Eie& eie) {
        load_by_transport(i, image_writes(img));
        const sc_time t0 = sc_core::sc_time_stamp();
        const uint64_t io_bytes_loaded = eie.stats().io_bytes;
        for (uint64_t addr : {mmap::pe_addr(0, mmap::kSpmat, 0), mmap::pe_addr(1, mmap::kPtrEven, 0),
                              mmap::pe_addr(2, mmap::kPtrOdd, 8), mmap::pe_addr(1, mmap::kCodebook, 0),
                              mmap::pe_addr(2, mmap::kSrcRf, 0), mmap::kDescBase}) {
            CAPTURE(addr);
            std::vector<uint8_t> by_debug(64), by_bus(64);
            const uint64_t io_bytes = eie.stats().io_bytes, io_cycles = eie.stats().io_cycles;
            const sc_time before = sc_core::sc_time_stamp();
            CHECK(i.debug(false, addr, by_debug.data(), 64) == 64);
            CHECK(sc_core::sc_time_stamp() == before);
            CHECK(eie.stats().io_bytes == io_bytes);
            CHECK(eie.stats().io_cycles == io_cycles);
            std::vector<uint8_t> poke(64);
            for (size_t k = 0; k < poke.size(); ++k) poke[k] = uint8_t(k * 7 + 3);
            CHECK(i.debug(true, addr, poke.data(), 64) == 64);
            CHECK(sc_core::sc_time_stamp() == before);
            CHECK(eie.stats().io_bytes == io_bytes);
            CHECK(eie.stats().io_cycles == io_cycles);
            REQUIRE(i.access(false, addr, by_bus.data(), 64) == tlm::TLM_OK_RESPONSE);
            CHECK(by_bus == poke);
            CHECK(i.debug(true, addr, by_debug.data(), 64) == 64);  // restore
        }
        CHECK(eie.stats().io_bytes == io_bytes_loaded + 6 * 64);  // only the b_transport reads counted
        CHECK(sc_core::sc_time_stamp() > t0);
        uint32_t v = 0;
        // Registers act on access: not for debug transport.
        CHECK(i.debug(false, mmap::kRegId, &v, 4) == 0);
        CHECK(i.debug(false, mmap::kRegStatus, &v, 4) == 0);
        v = mmap::kCtrlStart;
        CHECK(i.debug(true, mmap::kRegCtrl, &v, 4) == 0);
        CHECK_FALSE(eie.computing());
        // Outside the map or misaligned: nothing transferred.
        CHECK(i.debug(false, mmap::pe_addr(3, mmap::kSpmat, 0), &v, 4) == 0);
        CHECK(i.debug(false, mmap::pe_addr(0, mmap::kCodebook, 2), &v, 4) == 0);
        CHECK(i.debug(false, mmap::pe_addr(0, mmap::kSpmat, arch.spmat_sram_bytes - 2), &v, 4) == 0);
        CHECK(i.debug(false, mmap::kDescEnd, &v, 4) == 0);
        // The loaded image still runs bit-exact after the pokes were undone.
        i.run(eie, 1);
        CHECK(read_output_debug(i, img, 0) == img.expected[0]);
    });
}

TEST_CASE("Image loader: its transfers through debug transport load an image that runs bit-exact", "[tlm][loader]") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{120, 200, 0.3, true}, {200, 64, 0.3, false, Activation::identity},
                                  {64, 10, 0.5, true, Activation::identity}},
                                 arch, 77, 0.5);
    test::Rng rng(9);
    const std::vector<int32_t> second_input = test::random_input(img.layers[0].in_len, 0.5, rng);
    const std::vector<std::vector<int32_t>> second_expected = golden_run(img, second_input);
    run_initiator(arch, [&](Initiator& i, Eie& eie) {
        const sc_time t0 = sc_core::sc_time_stamp();
        for (const BusWrite& w : image_writes(img)) {
            std::vector<uint8_t> d = w.data;
            REQUIRE(i.debug(true, w.addr, d.data(), uint32_t(d.size())) == d.size());
        }
        CHECK(sc_core::sc_time_stamp() == t0);  // loading by debug transport takes no time
        i.run(eie, uint32_t(img.layers.size()));
        CHECK(eie.layer_outputs() == img.expected);
        CHECK(read_output_debug(i, img, uint32_t(img.layers.size() - 1)) == img.expected.back());
        // A new input, through b_transport this time.
        i.write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlIrqClear);
        load_by_transport(i, input_writes(img, second_input));
        i.run(eie, uint32_t(img.layers.size()));
        CHECK(eie.layer_outputs() == second_expected);
    });
}

TEST_CASE("Image loader: bad images and inputs are refused with a message", "[tlm][loader]") {
    ArchConfig arch;
    arch.num_pes = 2;
    Image img = test::make_image({{30, 20, 0.5}}, arch, 3, 0.5);
    std::vector<int32_t> short_input(img.layers[0].in_len - 1, 0);
    CHECK_THROWS_WITH(input_writes(img, short_input), Catch::Contains("29") && Catch::Contains("30"));
    CHECK_THROWS_AS(input_writes(img, img.input, 1), std::invalid_argument);
    CHECK_THROWS_AS(output_reads(img, 1), std::invalid_argument);
    Image too_long = img;
    too_long.layers.assign(mmap::kMaxLayers + 1, img.layers[0]);
    CHECK_THROWS_WITH(image_writes(too_long), Catch::Contains(std::to_string(mmap::kMaxLayers)));
}

namespace {

// Runs `img` with the array's own clock or with a bound sc_clock; returns
// the cycle count and checks the outputs against the golden model.
uint64_t run_clocked(const ArchConfig& arch, const Image& img, bool external, double period_ns = 0) {
    new_simulation_context();
    Eie eie("eie", arch);
    sc_core::sc_clock clock("clock", sc_time(period_ns > 0 ? period_ns : arch.clock_period_ns(), sc_core::SC_NS));
    if (external) eie.clk.bind(clock);
    uint64_t cycles = 0;
    Initiator init("init", [&](Initiator& i) {
        load_by_transport(i, image_writes(img));
        i.run(eie, uint32_t(img.layers.size()));
        CHECK(eie.layer_outputs() == img.expected);
        CHECK(read_output_debug(i, img, uint32_t(img.layers.size() - 1)) == img.expected.back());
        cycles = eie.stats().compute_cycles();
        CHECK(i.read32(mmap::kRegCyclesLo) == uint32_t(cycles));
        sc_core::sc_stop();  // the clock would run forever
    });
    init.socket.bind(eie.socket);
    run_systemc();
    return cycles;
}

}  // namespace

TEST_CASE("Clock input: a platform's clock gives the same cycles and outputs", "[tlm][clock]") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{150, 160, 0.3, true}, {160, 30, 0.4, false, Activation::identity}}, arch, 12, 0.5);
    const uint64_t own = run_clocked(arch, img, false);
    const uint64_t platform = run_clocked(arch, img, true);
    CHECK(own > 0);
    CHECK(platform == own);
}

TEST_CASE("Clock input: an sc_clock of another period is refused at elaboration", "[tlm][clock]") {
    ArchConfig arch;
    arch.num_pes = 2;
    Image img = test::make_image({{20, 20, 0.5}}, arch, 4, 0.5);
    CHECK_THROWS_WITH(run_clocked(arch, img, true, arch.clock_period_ns() * 2), Catch::Contains("clock period"));
}

TEST_CASE("Clock input: each rising edge of a bound signal is one computing cycle", "[tlm][clock]") {
    ArchConfig arch;
    arch.num_pes = 2;
    Image img = test::make_image({{40, 30, 0.5}}, arch, 8, 0.6);
    new_simulation_context();
    Eie eie("eie", arch);
    sc_core::sc_signal<bool> clock("clock");
    eie.clk.bind(clock);
    Initiator init("init", [&](Initiator& i) {
        load_by_transport(i, image_writes(img));
        i.write32(mmap::kRegFirstLayer, 0);
        i.write32(mmap::kRegNumLayers, 1);
        i.write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlStart);
        sc_core::wait(eie.period() * 50);
        CHECK(eie.computing());
        CHECK(eie.stats().compute_cycles() == 0);  // no edge yet, no cycle
        uint64_t edges = 0;
        while (!eie.irq.read()) {
            clock.write(true);
            sc_core::wait(eie.period() / 2);
            clock.write(false);
            sc_core::wait(eie.period() / 2);
            ++edges;
            REQUIRE(edges < 100000);
        }
        CHECK(eie.stats().compute_cycles() == edges);
        CHECK(read_output_debug(i, img, 0) == img.expected[0]);
    });
    init.socket.bind(eie.socket);
    run_systemc();
}
