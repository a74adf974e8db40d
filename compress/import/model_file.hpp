// The fully-connected layers of a trained MLP, in order, with their biases,
// from the files architects keep them in: named-array archives (.npz,
// .safetensors: the layers are chosen by array name), TorchScript (.pt,
// through libtorch) and ONNX (.onnx, through Debian's ONNX library). The one
// reader both eie-compress and eie-train use (docs/training.md, "Trained
// networks in").
//
// Every error is a ModelFileError (bad input: the tools exit 2) naming the
// file and the tensor, module or node, and what is allowed; nothing is
// written by reading.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "eie/hw/npy.hpp"
#include "eie/compress/synthetic.hpp"

namespace eie {

// A bad model file (a kind of NpyError, so the tools treat both alike).
struct ModelFileError : NpyError {
    using NpyError::NpyError;
};

enum class ModelFormat { npz, safetensors, torchscript, onnx };
// By the file name: .safetensors, .pt / .pth (TorchScript), .onnx, else .npz.
ModelFormat model_format(const std::string& path);
// True for the formats that name their layers themselves (.pt, .onnx); the
// archives need an explicit list of array names.
bool model_gives_layer_order(ModelFormat f);

// One fully-connected layer as a model file stores it, before any checks:
// the weight is (out_len, in_len), as PyTorch's nn.Linear stores it.
struct ModelLayer {
    std::string name;  // module path or node name: names the layer in messages and in the image
    NpyArray weight;
    std::optional<NpyArray> bias;
    std::string weight_where, bias_where;  // how messages name them, e.g. "net.onnx: node 'fc1' input 'W1'"
    bool relu_after = false;
};

// The layers of `path`. `layer_spec` is "w1[:b1],w2[:b2],..." (array names in
// order) for .npz / .safetensors, and must be empty for .pt / .onnx, whose
// layers come in the model's order. Activations: for the archives ReLU
// between layers and identity on the last; for .pt and .onnx the model's own
// (docs/training.md). Checks every layer: 2-D float weights, finite values
// that fit float32, a bias of out_len values, in_len = the previous out_len.
std::vector<FloatLayer> read_model_layers(const std::string& path, const std::string& layer_spec);

// The shared checks, also for a lone --weights / --bias .npy: `where` names
// the file (and array), `name` the layer.
FloatLayer layer_from_array(const NpyArray& w, const std::string& where, const std::string& name);
void add_bias(FloatLayer& L, const NpyArray& b, const std::string& where);

}  // namespace eie
