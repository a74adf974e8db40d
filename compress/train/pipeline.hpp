// Deep Compression's "advanced version" (Han et al., ICLR 2016, Sections 2-4):
// dense training, iterative magnitude pruning with masked retraining, weight
// sharing with trained quantisation, then fixed point and the EIE image
// through the same compressor, encoder and storage report as eie-compress.
// Beside it the "easy version" (prune and share the dense network, no
// retraining) at the same densities and bits. docs/training.md describes the
// steps, the checkpoints and the report.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/compress/compressor.hpp"
#include "eie/compress/train/mlp_trainer.hpp"

namespace eie {

struct TrainData {
    Dataset train, val, test;
    std::string source;  // what was read, for the report
};

// Reads images and labels (IDX, plain or gzip, or .npy) and splits a
// validation set off the training set (a seeded random choice of
// val_count examples). limits of 0 mean "all". Throws TrainError naming the
// file and the field for bad data (mismatched counts, labels out of range).
struct DataOptions {
    std::string train_images, train_labels, test_images, test_labels;
    uint64_t train_limit = 0, test_limit = 0;
    uint64_t val_count = 5000;
    uint64_t seed = 1;
};
TrainData load_data(const DataOptions& opt);

// The default data: Debian's dataset-fashion-mnist.
DataOptions fashion_mnist_defaults();

struct StepSchedule {
    uint32_t epochs = 1;
    EpochOptions opt;
};

struct PipelineOptions {
    std::vector<FloatLayer> start;     // initial (or imported) layers
    std::vector<double> densities;     // target weight density per layer, (0, 1]
    uint32_t prune_steps = 3;          // iterative pruning: densities d^(k/steps), k = 1..steps
    StepSchedule dense, retrain, share;
    bool skip_dense = false;           // start from an imported, already trained network
    CompressOptions compress;          // arch (weight_bits, index_bits, widths), k-means init
    uint32_t calibration_count = 256;  // training examples used to choose the activation formats
    uint64_t seed = 1;
    std::string checkpoint_dir;        // empty: no checkpoints
    bool resume = false;
    std::string stop_after;            // a step name: stop (checkpointed) after it
    bool easy_version = true;
};

// One line per epoch and per step, for the progress display.
using ProgressFn = std::function<void(const std::string&)>;

struct StepRecord {
    std::string name;  // dense, prune-1 .. prune-N, share
    uint32_t epochs = 0;
    std::vector<double> density;  // per layer, after the step
    double val_accuracy = 0, test_accuracy = 0;
    double last_loss = 0;
    double seconds = 0;
    bool resumed = false;  // loaded from a checkpoint instead of run
};

struct PipelineResult {
    std::vector<StepRecord> steps;
    bool stopped_early = false;  // stop_after reached before the end
    std::vector<FloatLayer> dense_layers;  // after dense training (or as imported)
    std::vector<FloatLayer> trained;       // after the last step run
    std::optional<CompressResult> compressed;       // the advanced version's image and report
    std::optional<CompressResult> easy;             // the easy version's
    double dense_float = 0, pruned_float = 0, quantised_float = 0;  // test accuracy, float network
    double golden = 0;          // advanced version, fixed point through the golden model
    double easy_float = 0, easy_golden = 0;
    // Through the cycle model (filled in by the caller that links it: eie-train).
    struct CycleModel {
        uint64_t inputs = 0;
        double top1 = 0;
        bool bit_exact = false;
        double mean_cycles = 0, mean_energy_pj = 0;
    };
    std::optional<CycleModel> cycle_model;
    uint64_t test_count = 0;
    nlohmann::json report;
};

PipelineResult run_pipeline(const TrainData& data, const PipelineOptions& opt, const ProgressFn& progress);

// Top-1 accuracy of an image through the golden model on every example
// (inputs quantised to the first layer's format as eie-compress does).
double golden_accuracy(const Image& image, const Dataset& data);
// Top-1 accuracy of the image's float reference (shared, unrounded weights).
double float_image_accuracy(const Image& image, const Dataset& data);

// The report in the shape of Deep Compression's Tables 1-2 and the accuracy
// of every stage, as text.
std::string format_pipeline_report(const PipelineResult& r);
// Records the cycle model's figures in r.cycle_model and r.report.
void set_cycle_model(PipelineResult& r, const PipelineResult::CycleModel& c);

// Per-step pruning densities: geometric from 1 to the target in `steps` steps.
std::vector<double> prune_schedule(double target, uint32_t steps);

}  // namespace eie
