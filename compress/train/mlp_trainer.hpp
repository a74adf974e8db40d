// Training of a multi-layer perceptron (ReLU between layers, identity on the
// last, softmax cross-entropy loss) with libtorch, in the three regimes of
// Deep Compression's "advanced version" (Han et al., ICLR 2016):
//  - dense: every weight and bias is free;
//  - masked: pruned weights are held at exactly zero (gradients and weights
//    multiplied by the mask on every step), so retraining cannot revive them;
//  - shared: every stored value of the augmented matrix [W | b] is one of the
//    layer's shared weights; the gradient of a shared weight is the sum of the
//    gradients of the values assigned to it, the codebook is updated and the
//    assignments stay fixed (trained quantisation).
//
// This header is torch-free on purpose: only mlp_trainer.cpp includes the
// torch headers (each such translation unit takes long to compile), and the
// rest of the front-end talks to it in FloatLayer terms.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "eie/compress/synthetic.hpp"

namespace eie {

// A training run that cannot go on (NaN or infinite loss, bad shapes).
struct TrainError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The loss or a parameter became NaN or infinite.
struct DivergedError : TrainError {
    using TrainError::TrainError;
};

// Examples as rows of `dim` floats, labels 0 .. classes-1.
struct Dataset {
    uint32_t dim = 0;
    std::vector<float> x;      // size() * dim, row-major
    std::vector<int64_t> y;
    std::size_t size() const { return y.size(); }
};

enum class Optimizer { adam, sgd };
Optimizer parse_optimizer(const std::string& text);  // "adam" | "sgd"; std::invalid_argument otherwise
const char* to_string(Optimizer o);

struct EpochOptions {
    Optimizer optimizer = Optimizer::adam;
    double lr = 1e-3;
    double momentum = 0.9;  // sgd only
    uint32_t batch = 128;
    uint64_t shuffle_seed = 1;  // the order of the examples in this epoch
};

struct EpochResult {
    double loss = 0;  // mean training loss over the epoch
    double seconds = 0;
};

// One layer's weight sharing: for every element of [W | b] (row-major W,
// then b) the index of its shared weight, 0 for "exactly zero, fixed".
struct SharingLayer {
    std::vector<uint32_t> assignment;  // out_len * in_len + (bias ? out_len : 0)
    std::vector<float> codebook;       // [0] == 0 (fixed); [1..] the shared weights
};

class MlpTrainer {
public:
    // Starts from the given layers (weights out x in, biases, activations).
    explicit MlpTrainer(const std::vector<FloatLayer>& layers);
    ~MlpTrainer();
    MlpTrainer(const MlpTrainer&) = delete;
    MlpTrainer& operator=(const MlpTrainer&) = delete;

    // The current parameters (in shared mode: codebook values at their assignments).
    std::vector<FloatLayer> layers() const;

    // Dense mode (the default).
    void set_dense();
    // Masked mode: mask[l][k] != 0 keeps weight k of layer l (row-major); the
    // bias is never masked. Masked weights are zeroed at once.
    void set_masks(const std::vector<std::vector<uint8_t>>& masks);
    // Shared mode: one SharingLayer per layer. The layers' values become the
    // codebook values at their assignments at once.
    void set_sharing(const std::vector<SharingLayer>& sharing);
    // The codebooks as trained (shared mode only; empty otherwise).
    std::vector<SharingLayer> sharing() const;

    // One pass over `train` in mini-batches. A fresh optimizer state is made
    // by reset_optimizer(); within a step it carries over from epoch to epoch.
    // Throws TrainError when the loss is not finite (nothing is changed then
    // that a caller keeping the last checkpoint cannot undo).
    EpochResult train_epoch(const Dataset& train, const EpochOptions& opt);
    void reset_optimizer();

    // Top-1 accuracy (fraction) of the current float network.
    double accuracy(const Dataset& data) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Weights initialised as torch.nn.Linear does (uniform in +-1/sqrt(in_len)
// for weights and biases), drawn from the project's seeded generator so the
// start is the same on every machine.
std::vector<FloatLayer> init_mlp(const std::vector<uint32_t>& sizes, uint64_t seed);

// The BLAS library libtorch is running on (the file the dynamic loader
// resolved libblas.so.3 to), for the progress header and the report.
std::string blas_in_use();
// libtorch's intra-op threads.
void set_torch_threads(uint32_t threads);

}  // namespace eie
