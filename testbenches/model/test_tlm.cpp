// The host interface: memory-map error responses, the done interrupt, and a
// second image loaded after a first run.
#include <catch2/catch.hpp>

#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/host_driver.hpp"
#include "eie/hw/model/systemc_run.hpp"
#include "eie/hw/model/memory_map.hpp"
#include "eie/hw/model/simulator.hpp"
#include "model_fixtures.hpp"

using namespace eie;

namespace {

// Elaborates a top level and a host running `program`, and simulates.
void run_host(const ArchConfig& arch, const std::function<void(HostDriver&, Eie&)>& program) {
    new_simulation_context();
    Eie eie("eie", arch);
    HostDriver host("host", eie.irq, [&](HostDriver& h) { program(h, eie); });
    host.socket.bind(eie.socket);
    run_systemc();  // sc_start(), keeping AddressSanitizer in step with the main stack
}

}  // namespace

TEST_CASE("TLM: registers identify the accelerator", "[tlm]") {
    ArchConfig arch;
    arch.num_pes = 3;
    run_host(arch, [&](HostDriver& h, Eie&) {
        CHECK(h.read32(mmap::kRegId) == mmap::kIdValue);
        CHECK(h.read32(mmap::kRegNumPes) == 3);
        CHECK(h.read32(mmap::kRegMaxLayers) == mmap::kMaxLayers);
        CHECK(h.read32(mmap::kRegStatus) == 0);
    });
}

TEST_CASE("TLM: accesses outside the map get an address error, never a crash", "[tlm]") {
    ArchConfig arch;
    arch.num_pes = 2;
    run_host(arch, [&](HostDriver& h, Eie&) {
        uint32_t v = 0;
        CHECK(h.try_access(false, 0x800, &v, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);            // hole
        CHECK(h.try_access(false, mmap::kDescEnd, &v, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);   // past table
        CHECK(h.try_access(false, mmap::kRegStatus + 1, &v, 4) == tlm::TLM_ADDRESS_ERROR_RESPONSE);  // unaligned
        CHECK(h.try_access(false, mmap::pe_addr(2, mmap::kSpmat, 0), &v, 4) ==
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // PE 2 of 2
        CHECK(h.try_access(false, mmap::pe_addr(0, mmap::kRegions, 0), &v, 4) ==
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // no region 7
        const uint64_t spmat_bytes = arch.spmat_sram_bytes;
        CHECK(h.try_access(false, mmap::pe_addr(1, mmap::kSpmat, spmat_bytes - 2), &v, 4) ==
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // runs past the SRAM
        CHECK(h.try_access(false, mmap::pe_addr(1, mmap::kSpmat, spmat_bytes - 4), &v, 4) == tlm::TLM_OK_RESPONSE);
        CHECK(h.try_access(false, mmap::pe_addr(0, mmap::kCodebook, 2), &v, 4) ==
              tlm::TLM_ADDRESS_ERROR_RESPONSE);  // word regions need word alignment
        v = 5;
        CHECK(h.try_access(true, mmap::kRegId, &v, 4) == tlm::TLM_COMMAND_ERROR_RESPONSE);  // read-only
        // START with an empty sequence is refused through STATUS.ERROR, with the interrupt
        h.write32(mmap::kRegNumLayers, 0);
        CHECK_THROWS_AS(h.run(0, 0), HostError);
        CHECK(h.read32(mmap::kRegError) == mmap::kErrNoLayers);
    });
}

TEST_CASE("TLM: PE memories are refused while computing", "[tlm]") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{200, 300, 0.3}}, arch, 21, 0.5);
    run_host(arch, [&](HostDriver& h, Eie& eie) {
        h.load_image(img);
        h.write32(mmap::kRegFirstLayer, 0);
        h.write32(mmap::kRegNumLayers, 1);
        h.write32(mmap::kRegCtrl, mmap::kCtrlIrqEnable | mmap::kCtrlStart);
        sc_core::wait(eie.period() * 20);
        REQUIRE(eie.computing());
        uint32_t v = 0;
        CHECK(h.read32(mmap::kRegStatus) & mmap::kStatusBusy);
        CHECK(h.try_access(false, mmap::pe_addr(0, mmap::kSpmat, 0), &v, 4) == tlm::TLM_GENERIC_ERROR_RESPONSE);
        CHECK(h.try_access(true, mmap::pe_addr(3, mmap::kSrcRf, 0), &v, 4) == tlm::TLM_GENERIC_ERROR_RESPONSE);
        CHECK(h.try_access(true, mmap::kDescBase, &v, 4) == tlm::TLM_GENERIC_ERROR_RESPONSE);
        CHECK(h.try_access(true, mmap::kRegCtrl, &v, 4) == tlm::TLM_OK_RESPONSE);  // no START bit: harmless
        v = mmap::kCtrlStart | mmap::kCtrlIrqEnable;
        CHECK(h.try_access(true, mmap::kRegCtrl, &v, 4) == tlm::TLM_GENERIC_ERROR_RESPONSE);  // already running
        while (!eie.irq.read()) sc_core::wait(eie.irq.posedge_event());
        CHECK(h.read32(mmap::kRegStatus) == mmap::kStatusDone);
        CHECK(h.read_output(img, 0) == img.expected[0]);
        const uint64_t cycles = eie.stats().compute_cycles();
        CHECK(h.read32(mmap::kRegCyclesLo) == uint32_t(cycles));
    });
}

TEST_CASE("TLM: a second image loaded after a first run gives its own results", "[tlm]") {
    ArchConfig arch;
    arch.num_pes = 5;
    Image first = test::make_image({{50, 70, 0.3, true}}, arch, 1, 0.5);
    Image second = test::make_image({{64, 33, 0.5, false, Activation::identity},
                                     {33, 20, 0.5, true, Activation::relu}},
                                    arch, 2, 0.8);
    run_host(arch, [&](HostDriver& h, Eie& eie) {
        h.load_image(first);
        h.run(0, 1);
        CHECK(h.read_output(first, 0) == first.expected[0]);
        const uint64_t io_after_first = eie.stats().io_cycles;
        CHECK(io_after_first > 0);
        h.load_image(second);
        h.run(0, 2);
        CHECK(h.read_output(second, 1) == second.expected[1]);
        CHECK(eie.layer_outputs() == second.expected);
        CHECK(eie.stats().io_cycles > io_after_first);
    });
}

TEST_CASE("TLM: I/O time is annotated from the DMA width", "[tlm]") {
    ArchConfig arch;
    arch.num_pes = 2;
    arch.dma_bits = 32;
    run_host(arch, [&](HostDriver& h, Eie& eie) {
        std::vector<uint8_t> bytes(800, 0xAB);
        const sc_core::sc_time t0 = sc_core::sc_time_stamp();
        h.write_block(mmap::pe_addr(1, mmap::kSpmat, 0), bytes.data(), 800);
        CHECK(sc_core::sc_time_stamp() - t0 == eie.period() * 200.0);  // 800 B over 4 B/cycle
        std::vector<uint8_t> back(800);
        h.read_block(mmap::pe_addr(1, mmap::kSpmat, 0), back.data(), 800);
        CHECK(back == bytes);
    });
}
