// The TorchScript reader, built as the plugin libeie_torchscript.so: the one
// translation unit of the importers that includes libtorch's headers, loaded
// by read_model_layers only when a .pt is read (libtorch takes seconds to
// load; eie-compress must stay quick for sweeps).
//
// The model's fully-connected layers are its torch.nn.Linear submodules in
// registration order (the order nn.Sequential and a module's __init__ give
// them). If the model has ReLU submodules they say where the activations
// are; if it has none (a forward() calling F.relu), ReLU between layers and
// identity on the last are assumed. Any other leaf module with parameters or
// a computing type is refused, naming it: the model must be an MLP.
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <torch/script.h>

#include "eie/compress/import/readers.hpp"

namespace {

using eie::ModelLayer;
using eie::NpyArray;

std::string type_name(const torch::jit::Module& m) {
    auto n = m.type()->name();
    return n ? n->qualifiedName() : std::string("?");
}

// "__torch__.torch.nn.modules.linear.Linear" -> "Linear"
std::string short_type(const std::string& q) {
    auto dot = q.rfind('.');
    return dot == std::string::npos ? q : q.substr(dot + 1);
}

NpyArray to_array(const at::Tensor& t0) {
    at::Tensor t = t0.detach().to(at::kCPU).to(at::kDouble).contiguous();
    NpyArray a;
    for (int64_t d : t.sizes()) a.shape.push_back(uint64_t(d));
    const double* p = t.data_ptr<double>();
    a.data.assign(p, p + t.numel());
    switch (t0.scalar_type()) {
        case at::kFloat: a.dtype = "<f4"; break;
        case at::kDouble: a.dtype = "<f8"; break;
        case at::kHalf: a.dtype = "<f2"; break;
        case at::kBFloat16: a.dtype = "<fb"; break;
        default: a.dtype = std::string("<") + c10::toString(t0.scalar_type()); break;  // refused as not float
    }
    return a;
}

std::vector<ModelLayer> read(const std::string& path) {
    torch::jit::Module model;
    try {
        model = torch::jit::load(path, torch::kCPU);
    } catch (const c10::Error& e) {
        std::string what = e.what_without_backtrace();
        if (auto nl = what.find('\n'); nl != std::string::npos) what = what.substr(0, nl);
        throw eie::ModelFileError(fmt::format("{}: not a TorchScript model (torch.jit.load failed: {})", path, what));
    }
    // Leaf types that compute nothing at inference.
    static const std::set<std::string> passive = {"Identity", "Dropout", "Flatten"};
    std::vector<ModelLayer> layers;
    bool any_relu = false;
    for (const auto& item : model.named_modules()) {
        const torch::jit::Module& m = item.value;
        if (m.children().size() != 0) continue;  // containers: their leaves follow
        const std::string name = item.name.empty() ? "(the model itself)" : item.name;
        const std::string type = short_type(type_name(m));
        const std::string who = fmt::format("{}: module '{}' ({})", path, name, type);
        if (type == "Linear") {
            if (!m.hasattr("weight") || !m.attr("weight").isTensor())
                throw eie::ModelFileError(fmt::format("{} has no weight tensor", who));
            ModelLayer L;
            L.name = item.name.empty() ? "linear" : item.name;
            L.weight = to_array(m.attr("weight").toTensor());
            L.weight_where = fmt::format("{} weight", who);
            if (m.hasattr("bias") && m.attr("bias").isTensor()) {
                L.bias = to_array(m.attr("bias").toTensor());
                L.bias_where = fmt::format("{} bias", who);
            }
            layers.push_back(std::move(L));
        } else if (type == "ReLU") {
            if (layers.empty())
                throw eie::ModelFileError(fmt::format("{} comes before the first Linear layer (the input of an MLP is "
                                                      "taken as it is)",
                                                      who));
            layers.back().relu_after = true;
            any_relu = true;
        } else if (passive.count(type) && m.parameters().size() == 0) {
            // nothing to do at inference (Flatten: the input is a vector already)
        } else {
            throw eie::ModelFileError(fmt::format("{}: module type '{}' is not supported (allowed: Linear, ReLU, and "
                                                  "the inference no-ops Identity, Dropout, Flatten: an MLP)",
                                                  who, type));
        }
    }
    if (!any_relu && !layers.empty()) {
        for (auto& L : layers) L.relu_after = true;  // functional F.relu between layers
        layers.back().relu_after = false;
    }
    return layers;
}

}  // namespace

extern "C" int eie_read_torchscript_layers(const char* path, std::vector<ModelLayer>* layers, std::string* error) {
    try {
        *layers = read(path);
        return 0;
    } catch (const std::exception& e) {
        *error = e.what();
        return 1;
    }
}
