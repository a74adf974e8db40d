// The SystemC coroutine switch and AddressSanitizer (docs/input-safety.md):
// after a simulation, an exception thrown and caught on the main stack must
// leave no stale poison behind. Under ASan (the sanitizer build of CI),
// without run_systemc() handing ASan the main stack back, the reuse below
// reports a stack-buffer-overflow or stack-use-after-scope that never
// happened; in other builds it is an ordinary throw and catch.
#include <catch2/catch.hpp>

#include <cstring>
#include <stdexcept>
#include <string>

#include "eie/hw/model/simulator.hpp"
#include "model_fixtures.hpp"

using namespace eie;

namespace {

// Frames with buffers (and so with redzones under ASan) unwound by a throw.
__attribute__((noinline)) void throw_from_depth(int depth) {
    volatile char frame[512];
    frame[0] = char(depth);
    if (depth == 0) throw std::runtime_error("from depth " + std::to_string(int(frame[0])));
    throw_from_depth(depth - 1);
}

// Uses the stack the unwound frames occupied, through memset (checked by ASan).
__attribute__((noinline)) int reuse_stack(int depth) {
    char frame[2048];
    std::memset(frame, depth, sizeof frame);
    return frame[depth] + (depth > 0 ? reuse_stack(depth - 1) : 0);
}

}  // namespace

TEST_CASE("systemc asan: a throw on the main stack after a simulation leaves no stale poison") {
    ArchConfig arch;
    arch.num_pes = 4;
    Image img = test::make_image({{40, 24, 0.3, true, Activation::relu}}, arch, 7, 0.6);
    REQUIRE(simulate(img).bit_exact);  // SystemC coroutines ran and ended
    for (int round = 0; round < 3; ++round) {
        CHECK_THROWS_WITH(throw_from_depth(16), "from depth 0");
        CHECK(reuse_stack(16) == 16 * 17 / 2);  // frame d holds d
    }
    REQUIRE(simulate(img).bit_exact);  // and the model still runs afterwards
}
