// The Deep Compression pipeline: float layers -> pruned -> weight-shared ->
// fixed point -> per-PE image, with the golden and float reference outputs
// and a report of what each step did (docs/compression.md).
//
// Per layer:
//  1. validate: finite weights and bias, bias length == out_len, and the shape
//     chain (layer L+1 in_len == layer L out_len);
//  2. prune (optional, per layer): to a target density or by a threshold;
//  3. k-means over the non-zero values of the augmented matrix [W | b]: the
//     bias is broadcast as one more column (activation 1.0), so its values
//     are stored as ordinary entries and must share the layer's codebook;
//  4. fixed point: w_frac from the largest |centroid|; a centroid that would
//     round to 0 becomes the smallest non-zero value of its sign, so that a
//     non-zero code never stands for zero (code 0 is reserved for padding);
//  5. activation formats from the input and calibration vectors (float
//     reference with the shared weights), each overridable.
// Then encode_layers(), the quantised input, golden_run() and float_run().
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/compress/encode.hpp"
#include "eie/hw/image.hpp"
#include "eie/compress/kmeans.hpp"
#include "eie/compress/storage_report.hpp"
#include "eie/compress/synthetic.hpp"

namespace eie {

// Bad input to the compressor (non-finite value, shape, option out of range).
// The message names the layer, the field, the value and what is allowed.
struct CompressError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// activation_from_name (hw/image.hpp), throwing CompressError listing the allowed names.
Activation parse_activation(const std::string& text);

enum class PruneMode { keep, density, threshold };
const char* to_string(PruneMode m);

// Fraction-bit overrides are accepted in this range (the range fx::choose_frac_bits uses).
constexpr int kMinFracBits = -8;
constexpr int kMaxFracBits = 30;

struct LayerOptions {
    PruneMode prune = PruneMode::keep;
    double prune_value = 0;       // target density in (0, 1] or magnitude threshold >= 0
    std::optional<int> w_frac;    // override of the codebook format
    std::optional<int> out_frac;  // override of the output format (= next layer's in_frac)
};

struct CompressOptions {
    ArchConfig arch;
    KmeansInit init = KmeansInit::linear;
    uint64_t kmeans_seed = 1;
    uint32_t kmeans_max_iterations = 1000;
    std::optional<int> in_frac;       // override of layer 0's input format
    std::vector<LayerOptions> layers; // empty (defaults everywhere), or one per layer
};

struct Spread {
    double min = 0, mean = 0, max = 0;
};

struct LayerReport {
    std::string name;
    uint32_t in_len = 0, out_len = 0;
    bool has_bias = false;
    Activation act = Activation::relu;
    // pruning (weights only; the bias is never pruned)
    PruneMode prune = PruneMode::keep;
    double prune_value = 0;
    uint64_t weights = 0;
    uint64_t nonzero_before = 0, nonzero_after = 0;
    double density_before = 0, density_after = 0;
    double prune_threshold = 0;
    uint64_t bias_nonzero = 0;
    // weight sharing
    KmeansInit init = KmeansInit::linear;
    uint32_t centroids_used = 0;
    uint32_t kmeans_iterations = 0;
    bool kmeans_exact = false;
    double kmeans_snr_db = 0;  // +inf when exact or when there are no non-zeros
    // fixed point
    LayerFormat fmt;
    bool in_frac_override = false, w_frac_override = false, out_frac_override = false;
    double max_abs_centroid = 0;
    double max_abs_input = 0;       // float, over the input and calibration vectors
    double max_abs_output = 0;      // float pre-activation output (the accumulator), same vectors
    uint32_t centroids_nudged = 0;  // centroids that would have rounded to 0
    double codebook_snr_db = 0;     // fixed-point codebook vs centroids, over the stored weights
    // fixed point vs float reference, over the input and calibration vectors
    uint64_t outputs_compared = 0;
    uint64_t outputs_saturated = 0;  // fixed-point outputs at the largest or smallest act_bits value
    double max_abs_error = 0;
    double snr_db = 0;  // 10 log10(sum float^2 / sum (fixed - float)^2); +inf when equal
    // encoding
    uint32_t num_batches = 0;
    uint64_t stored_nonzeros = 0;  // entries carrying a weight, over every PE
    Spread entries, padding, rows;  // per PE
    // capacity use of this layer (worst PE)
    uint32_t spmat_worst_pe = 0;
    double spmat_percent = 0;     // the layer's entries / sparse-matrix SRAM entries
    double ptr_percent = 0;       // the layer's pointers / pointer SRAM words
    double ptr_value_percent = 0; // largest pointer value / largest ptr_bits value
};

// Whole-image capacity use (all layers together), worst PE.
struct CapacityUse {
    std::string memory;  // "spmat", "pointer", "codebook", "act_sram"
    uint64_t used = 0, capacity = 0;
    uint32_t worst_pe = 0;
    double percent = 0;
};

struct CompressResult {
    Image image;
    std::vector<LayerReport> layers;
    std::vector<CapacityUse> capacity;
    StorageReport storage;
    uint32_t calibration_vectors = 0;
    nlohmann::json report;  // everything above as JSON (what --json writes and the manifest embeds)
};

// Throws CompressError for bad input, CapacityError when a layer does not fit
// (arch.grow_memories false), ConfigError for an invalid arch.
CompressResult compress_network(const std::vector<FloatLayer>& layers, const std::vector<double>& input,
                                const std::vector<std::vector<double>>& calibration,
                                const CompressOptions& options);

nlohmann::json to_json(const LayerReport& r);
nlohmann::json to_json(const CapacityUse& c);
// The human-readable report: storage table, quantisation, fixed-vs-float
// error, capacity use.
std::string format_report(const CompressResult& r);

}  // namespace eie
