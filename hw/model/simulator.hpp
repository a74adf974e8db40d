// Runs an image through the SystemC model of EIE, the way a user's host
// would (TLM loads, START, wait for the interrupt, read back), and checks
// every layer's output against the golden reference model.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eie/hw/image.hpp"
#include "eie/hw/model/tracer.hpp"
#include "eie/hw/stats.hpp"

namespace eie {

class Eie;

struct SimOptions {
    double stall_probability = 0;  // random bubbles in PE front ends and the broadcast
    uint64_t stall_seed = 1;
    // Called with the elaborated top level before the run (attach tracers).
    std::function<void(Eie&)> on_elaborated;
};

struct Mismatch {
    uint32_t layer = 0;
    std::string layer_name;
    uint32_t row = 0;
    int32_t expected = 0, got = 0;
};

// The one comparison of outputs with their reference: the first row of layer
// `layer` where `got` differs from `expected`; vectors of different lengths
// differ at the shorter one's end (a missing value reads as 0). Nothing when equal.
std::optional<Mismatch> first_mismatch(const Image& image, uint32_t layer, const std::vector<int32_t>& expected,
                                       const std::vector<int32_t>& got);
// The first mismatch over layers 0, 1, ...: a missing layer compares as empty.
std::optional<Mismatch> first_mismatch(const Image& image, const std::vector<std::vector<int32_t>>& expected,
                                       const std::vector<std::vector<int32_t>>& got);

struct SimResult {
    ArchConfig arch;
    RunStats stats;
    std::vector<std::vector<int32_t>> outputs;  // every layer's output, from the model
    std::vector<std::vector<int32_t>> golden;   // the golden model's
    std::vector<int32_t> read_back;             // the last layer's output read over TLM
    int output_frac = 0;                        // its fractional bits
    bool bit_exact = false;
    std::optional<Mismatch> first_mismatch;
    double wall_seconds = 0;
    double io_time_ns = 0;
};

// Each call elaborates a fresh SystemC simulation (several per process work).
SimResult simulate(const Image& image, const SimOptions& options = SimOptions{});

// Starts a new SystemC simulation context, for code that elaborates its own
// modules (testbenches with their own host program). simulate() calls it.
void new_simulation_context();

}  // namespace eie
