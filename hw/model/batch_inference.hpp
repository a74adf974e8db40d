// Batch inference: a set of real inputs through the cycle model of EIE, the
// way a host CPU would run a test set. The image is loaded once (I/O mode);
// then per input the host writes the input over TLM, starts, waits for the
// done interrupt and reads the last layer's output back. Every input is
// checked bit for bit against the golden fixed-point model, and gets its
// own statistics (cycles, time, energy, load balance, input densities).
//
// Used by eie-sim (--inputs), and meant for any tool that needs the
// accuracy or the per-inference figures of a hardware configuration.
// docs/eie-sim.md describes the options and the figures.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/hw/image.hpp"
#include "eie/hw/npy.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/stats.hpp"

namespace eie {

// Bad input set, labels or selection: the message names the file, what was
// found and what is allowed (eie-sim exits 2).
struct BatchInputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Which inputs of a file to run: indices first, first + every, ... , at most
// `count` of them (all that remain when unset).
struct InputSelection {
    uint64_t first = 0;
    std::optional<uint64_t> count;
    uint64_t every = 1;
};

// Input vectors in the image's input fixed-point format, ready to run.
struct InputSet {
    std::string source;             // the file they were read from
    std::string kind;               // "float" (quantised), "raw fixed point" or "idx images"
    uint64_t in_len = 0;
    uint64_t file_rows = 0;         // vectors in the file, before the selection
    InputSelection selection;
    std::vector<uint64_t> index;    // per selected input: its row in the file
    std::vector<int32_t> values;    // size() * in_len, row-major
    std::vector<uint32_t> saturations;  // per input: values clipped by quantisation

    uint64_t size() const { return index.size(); }
    std::vector<int32_t> row(uint64_t i) const;
};

// Reads `path`: a .npy of shape (N, in_len) or (in_len,), float16/32/64
// (quantised with the first layer's input format, saturations counted) or
// integer (raw fixed point, range-checked against act_bits), or an IDX image
// file of the MNIST family (plain or .gz, scaled to [0, 1], then quantised).
// NaN/Inf, a wrong length, an empty selection: BatchInputError.
InputSet load_inputs(const std::string& path, const Image& image, const InputSelection& selection);

// The same from an array already in memory (the Python module's numpy
// arrays): `source` names it in errors; `idx_images` scales like IDX files.
InputSet inputs_from_array(const NpyArray& array, const std::string& source, const Image& image,
                           const InputSelection& selection, bool idx_images = false);

// Reads labels from a .npy of integers or an IDX idx1 file, applies the same
// selection as the inputs (the file must hold exactly inputs.file_rows
// labels) and checks each against [0, num_classes).
std::vector<int64_t> load_labels(const std::string& path, const InputSet& inputs, uint32_t num_classes);
std::vector<int64_t> labels_from_array(const NpyArray& array, const std::string& source, const InputSet& inputs,
                                       uint32_t num_classes);

// The figures of one inference.
struct InferenceRecord {
    uint64_t index = 0;              // row in the input file
    uint64_t cycles = 0;             // computing-mode cycles, all layers
    double time_us = 0;              // cycles at the clock
    double energy_pj = 0;            // estimated energy of the inference (energy model)
    double load_balance_efficiency = 0;  // cycle-weighted over the layers
    std::vector<double> input_density;   // per layer: non-zero share of its input
    uint32_t saturations = 0;        // input values clipped by quantisation
    int32_t predicted = -1;          // arg-max of the last layer's output
};

struct BatchMismatch {
    uint64_t input = 0;              // position in the selection
    uint64_t file_row = 0;           // row in the input file
    Mismatch where;                  // layer, row, expected (golden), got (model)
};

struct BatchOptions {
    double stall_probability = 0;    // testing: random bubbles (seeded per input)
    uint64_t stall_seed = 1;
    unsigned jobs = 1;               // worker processes (fork), each its own simulation
    EnergyTable energy_table = EnergyTable::defaults();
    // Called now and then with (inputs done, total) from the calling process.
    std::function<void(uint64_t, uint64_t)> progress;
};

// Host wall time, where it goes (seconds, summed over workers).
struct BatchTimes {
    double load = 0;        // loading the image over TLM
    double input_io = 0;    // writing inputs and reading outputs over TLM
    double compute = 0;     // simulating computing mode
    double golden = 0;      // the golden model and the comparison
    double total = 0;       // the whole run_batch call (wall)
};

struct BatchResult {
    ArchConfig arch;
    uint32_t out_len = 0;
    std::vector<InferenceRecord> records;  // one per input, in input order
    std::vector<int32_t> raw_outputs;      // inputs x out_len, the model's last layer (read over TLM)
    RunStats stats;                        // every count summed over all inputs
    uint64_t image_load_io_cycles = 0;     // host I/O: loading the image once
    uint64_t input_io_cycles = 0;          // host I/O: all inputs in, all outputs out
    uint64_t io_bytes = 0;                 // all host I/O (the image counted once)
    uint64_t image_load_bytes = 0;
    bool bit_exact = true;
    std::optional<BatchMismatch> first_mismatch;
    unsigned jobs = 1;
    BatchTimes times;
};

// Runs every input of `inputs` through the model of `image` (with
// image.arch). Throws std::runtime_error on a simulation failure.
BatchResult run_batch(const Image& image, const InputSet& inputs, const BatchOptions& options = BatchOptions{});

// The last layer's outputs dequantised with its output format.
std::vector<float> dequantised_outputs(const BatchResult& result, const Image& image);

// min, mean, median, p90, p99, max (percentiles: linear interpolation
// between closest ranks, as numpy.percentile's default).
struct Distribution {
    double min = 0, mean = 0, median = 0, p90 = 0, p99 = 0, max = 0;
};
Distribution distribution(std::vector<double> values);
// Pearson correlation; 0 when either side is constant.
double correlation(const std::vector<double>& x, const std::vector<double>& y);

struct AccuracyReport {
    uint64_t count = 0;
    uint64_t top1_correct = 0;
    std::optional<uint64_t> top5_correct;   // when there are at least 5 outputs
    uint32_t classes = 0;
    std::vector<std::vector<uint64_t>> confusion;  // [label][predicted]
    double top1() const { return count ? double(top1_correct) / double(count) : 0.0; }
    std::optional<double> top5() const;
};
// Top-k ties: a class counts as in the top k when fewer than k outputs are
// strictly greater than its own (and the arg-max is the lowest index of the
// maximum, as numpy.argmax).
AccuracyReport accuracy(const BatchResult& result, const std::vector<int64_t>& labels);

// The "batch" object of the statistics JSON (docs/eie-sim.md).
nlohmann::json batch_json(const BatchResult& result, const InputSet& inputs, const Image& image,
                          const std::optional<AccuracyReport>& acc, const std::string& labels_path);
// The readable summary's batch part.
std::string format_batch_summary(const BatchResult& result, const InputSet& inputs, const Image& image,
                                 const std::optional<AccuracyReport>& acc);
// One CSV row per input (--per-input), header included.
// Columns: input, file_row, label, predicted, correct, cycles, time_us,
// energy_pj, load_balance_efficiency, saturations, input_density_L<k>...
std::string per_input_csv(const BatchResult& result, const std::vector<int64_t>& labels);
// One inference's figures as JSON (the fields of InferenceRecord, by their names).
nlohmann::json to_json(const InferenceRecord& record);

}  // namespace eie
