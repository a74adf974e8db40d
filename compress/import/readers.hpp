// The format-specific halves of read_model_layers (model_file.hpp): each
// returns the layers as the file stores them, unchecked, or throws
// ModelFileError naming the file and the module or node. Kept apart so that
// only these translation units see the libtorch or ONNX headers.
#pragma once

#include <string>
#include <vector>

#include "eie/compress/import/model_file.hpp"

namespace eie {

// ONNX: Gemm, or MatMul followed by Add, with Relu between; initializers as
// the weights. Only when built with EIE_WITH_ONNX.
std::vector<ModelLayer> read_onnx_layers(const std::string& path);

// TorchScript, in the plugin libeie_torchscript.so (so that the tools do not
// load libtorch unless a .pt is read). The plugin's one entry point: fills
// `layers` or `error` (never throws across the dlopen boundary); returns 0 on
// success.
extern "C" int eie_read_torchscript_layers(const char* path, std::vector<ModelLayer>* layers, std::string* error);
using ReadTorchscriptFn = int (*)(const char*, std::vector<ModelLayer>*, std::string*);

}  // namespace eie
