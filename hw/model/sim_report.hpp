// What eie-sim reports about a run: the readable summary and the statistics
// JSON (docs/statistics.md defines every field, docs/eie-sim.md shows the
// summary). Both are computed from one set of figures, so they never disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/hw/file_io.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/stats.hpp"
#include "eie/hw/version.hpp"

namespace eie {

// The tool's version (the CMake project version); written into every
// statistics file.
constexpr const char* kEieSimVersion = kEieVersion;
// Bumped when a field of the statistics JSON changes meaning or disappears.
constexpr int kStatsFormatVersion = 1;

// How the run was set up (everything beyond the simulation result).
struct SimRunInfo {
    std::string image_path;
    std::string command_line;
    ArchConfig image_arch;               // as stored in the image
    std::vector<ParamDiff> changes;      // image_arch -> the arch used
    bool reencoded = false;
    std::string reencode_reason;         // e.g. "layout parameter changed: num_pes 64 -> 32"
    double stall_probability = 0;
    uint64_t stall_seed = 1;
    EnergyTable energy_table = EnergyTable::defaults();
    std::string energy_table_source = "built-in defaults (traces/energy/default-45nm.json)";
    struct Vcd {
        std::string path;
        std::vector<uint32_t> pes;
        uint64_t from = 0, to = 0;  // to == UINT64_MAX: to the end
        uint64_t cycles_dumped = 0, signals = 0, bytes = 0;
    };
    std::optional<Vcd> vcd;
    // What the first mismatch was found against.
    std::string mismatch_reference = "the golden model";
    // Layers whose outputs were also compared with the image's expected_L*.npy.
    std::size_t image_expected_layers = 0;
    double wall_seconds = 0;             // the whole tool run up to the report
    // Batch runs (--inputs): the inputs run and the batch part of the
    // summary (format_batch_summary), shown instead of the output head.
    uint64_t batch_inputs = 0;
    std::string batch_summary;
};

// Outputs up to this length are taken as class scores: the summary shows the arg-max.
constexpr std::size_t kMaxClassifierOutputs = 1000;
// "Output of the last layer (...): v0 v1 ... " and, for classifier-sized
// outputs, the arg-max (lowest index of the maximum, as numpy.argmax).
std::string output_head_text(const std::vector<int32_t>& out, int out_frac);

// Whole-run figures, with the per-layer definitions applied to the run as
// one (docs/statistics.md, "totals").
struct RunTotals {
    uint64_t cycles = 0, writeback_cycles = 0, closed_form_cycles = 0, useful_macs = 0;
    DerivedFigures derived;  // time, GOP/s, efficiencies of the run as one span
    double pe_cycles_per_second = 0;  // simulation speed: cycles x PEs / compute_wall_seconds
    PeStats pe;   // summed over PEs and layers (queue_max_occupancy: the maximum)
    CcuStats ccu;
};
RunTotals run_totals(const RunStats& stats, uint32_t num_pes, double clock_mhz);

// The statistics JSON of a run.
nlohmann::json stats_json(const SimResult& result, const SimRunInfo& info);
// The readable summary (several lines, ends with the verdict line).
std::string format_summary(const SimResult& result, const SimRunInfo& info);
// "BIT-EXACT" or "MISMATCH at layer L ('name') row R: expected E got G
// (reference: ...)".
std::string verdict_line(const SimResult& result, const SimRunInfo& info);

// Writes `j` to `path` through write_file_atomic (eie/hw/file_io.hpp,
// also the writer for any other bytes: CSV, .npy), so the file is never seen
// half-written. Throws FileError (a std::runtime_error) naming the file on
// failure, leaving nothing behind.
void write_json_atomic(const std::string& path, const nlohmann::json& j);
// The text write_json_atomic writes (indent 1, a final newline).
std::string json_file_text(const nlohmann::json& j);

}  // namespace eie
