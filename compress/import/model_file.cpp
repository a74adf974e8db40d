#include "eie/compress/import/model_file.hpp"

#include <dlfcn.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "eie/compress/import/readers.hpp"
#include "eie/compress/safetensors.hpp"
#include "eie/hw/arch_config.hpp"

namespace eie {
namespace fs = std::filesystem;

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_float_dtype(const std::string& d) { return d.size() >= 2 && d[1] == 'f'; }

std::string shape_text(const std::vector<uint64_t>& s) {
    if (s.size() == 1) return fmt::format("({},)", s[0]);
    return fmt::format("({})", fmt::join(s, ", "));
}

// The layers of an archive, chosen by name.
std::vector<ModelLayer> archive_layers(const std::string& path, const std::string& spec) {
    auto arrays = read_tensor_archive(path);  // .npz, or .safetensors by name
    std::string names;
    for (const auto& kv : arrays) names += (names.empty() ? "" : ", ") + kv.first;
    auto get = [&](const std::string& name) -> const NpyArray& {
        auto it = arrays.find(name);
        if (it == arrays.end())
            throw ModelFileError(fmt::format("--layers: array '{}' is not in {} (it holds: {})", name, path, names));
        return it->second;
    };
    std::vector<ModelLayer> out;
    for (const auto& item : split(spec, ',')) {
        auto parts = split(item, ':');
        if (parts.size() > 2 || parts[0].empty() || (parts.size() == 2 && parts[1].empty()))
            throw ModelFileError(fmt::format("--layers: '{}' must be WEIGHTS or WEIGHTS:BIAS (array names)", item));
        ModelLayer L;
        L.name = parts[0];
        L.weight = get(parts[0]);
        L.weight_where = path + ":" + parts[0];
        if (parts.size() == 2) {
            L.bias = get(parts[1]);
            L.bias_where = path + ":" + parts[1];
        }
        L.relu_after = true;
        out.push_back(std::move(L));
    }
    if (!out.empty()) out.back().relu_after = false;
    return out;
}

// The TorchScript reader lives in a plugin so that a tool loads libtorch
// (seconds of start-up) only when it reads a .pt: next to the executable
// (the build tree and an installed bin/ beside lib/), or the build's own.
std::vector<ModelLayer> torchscript_layers(const std::string& path) {
#ifndef EIE_TORCHSCRIPT_PLUGIN
    throw ModelFileError(fmt::format(
        "{}: reading TorchScript (.pt) models needs libtorch: this build has EIE_WITH_TORCH=OFF (install Debian's "
        "libtorch-dev and reconfigure with -DEIE_WITH_TORCH=ON), or save the weights as .npz / .safetensors",
        path));
#else
    const std::string file = "libeie_torchscript.so";
    std::vector<std::string> candidates;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        candidates.push_back((exe.parent_path() / file).string());
        candidates.push_back((exe.parent_path().parent_path() / "lib" / file).string());
    }
    candidates.push_back(std::string(EIE_TORCHSCRIPT_PLUGIN));
    std::string tried;
    for (const auto& c : candidates) {
        if (!fs::exists(c, ec)) {
            tried += (tried.empty() ? "" : ", ") + c;
            continue;
        }
        void* handle = ::dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) throw ModelFileError(fmt::format("{}: cannot load the TorchScript reader: {}", path, ::dlerror()));
        auto fn = reinterpret_cast<ReadTorchscriptFn>(::dlsym(handle, "eie_read_torchscript_layers"));
        if (!fn) throw ModelFileError(fmt::format("{}: {} lacks eie_read_torchscript_layers", path, c));
        std::vector<ModelLayer> layers;
        std::string error;
        // The plugin stays loaded: libtorch does not support being unloaded.
        if (fn(path.c_str(), &layers, &error) != 0) throw ModelFileError(error);
        return layers;
    }
    throw ModelFileError(fmt::format("{}: the TorchScript reader {} is not installed (looked in: {})", path, file, tried));
#endif
}

std::vector<ModelLayer> onnx_layers(const std::string& path) {
#ifndef EIE_WITH_ONNX
    throw ModelFileError(fmt::format(
        "{}: reading ONNX models needs Debian's libonnx-dev: this build has EIE_WITH_ONNX=OFF (install it and "
        "reconfigure with -DEIE_WITH_ONNX=ON), or save the weights as .npz / .safetensors",
        path));
#else
    return read_onnx_layers(path);
#endif
}

}  // namespace

ModelFormat model_format(const std::string& path) {
    if (is_safetensors_path(path)) return ModelFormat::safetensors;
    if (ends_with(path, ".pt") || ends_with(path, ".pth")) return ModelFormat::torchscript;
    if (ends_with(path, ".onnx")) return ModelFormat::onnx;
    return ModelFormat::npz;
}

bool model_gives_layer_order(ModelFormat f) { return f == ModelFormat::torchscript || f == ModelFormat::onnx; }

FloatLayer layer_from_array(const NpyArray& w, const std::string& where, const std::string& name) {
    if (!is_float_dtype(w.dtype))
        throw ModelFileError(fmt::format(
            "{}: dtype '{}' is not allowed for weights (allowed: float16, bfloat16, float32, float64)", where, w.dtype));
    if (w.shape.size() != 2)
        throw ModelFileError(
            fmt::format("{}: shape {} must be 2-D (out_len, in_len) for a weight matrix", where, shape_text(w.shape)));
    if (w.shape[0] == 0 || w.shape[1] == 0 || w.shape[0] > 0xffffffffull || w.shape[1] > 0xfffffffeull)
        throw ModelFileError(fmt::format("{}: shape {} is not a usable weight matrix (each side 1 .. 2^32-2)", where,
                                         shape_text(w.shape)));
    FloatLayer L;
    L.name = name;
    L.out_len = static_cast<uint32_t>(w.shape[0]);
    L.in_len = static_cast<uint32_t>(w.shape[1]);
    L.weights.resize(w.data.size());
    for (std::size_t k = 0; k < w.data.size(); ++k) {
        const double v = w.data[k];
        if (!std::isfinite(v))
            throw ModelFileError(fmt::format("{}: layer '{}': weight at row {}, col {} is {} (weights must be finite)",
                                             where, name, k / L.in_len, k % L.in_len, v));
        if (std::fabs(v) > double(std::numeric_limits<float>::max()))
            throw ModelFileError(fmt::format("{}: layer '{}': weight at row {}, col {} = {:g} does not fit float32",
                                             where, name, k / L.in_len, k % L.in_len, v));
        L.weights[k] = static_cast<float>(v);
    }
    return L;
}

void add_bias(FloatLayer& L, const NpyArray& b, const std::string& where) {
    if (!is_float_dtype(b.dtype))
        throw ModelFileError(fmt::format(
            "{}: dtype '{}' is not allowed for a bias (allowed: float16, bfloat16, float32, float64)", where, b.dtype));
    const bool row = b.shape.size() == 2 && b.shape[0] == 1;  // (1, out_len), as ONNX's Gemm may store it
    if (!((b.shape.size() == 1 || row) && b.shape.back() == L.out_len))
        throw ModelFileError(fmt::format("{}: bias shape {} does not match layer '{}' (expected ({},), the out_len of "
                                         "its {} x {} weights)",
                                         where, shape_text(b.shape), L.name, L.out_len, L.out_len, L.in_len));
    L.bias.resize(b.data.size());
    for (std::size_t k = 0; k < b.data.size(); ++k) {
        if (!std::isfinite(b.data[k]))
            throw ModelFileError(fmt::format("{}: layer '{}': bias[{}] is {} (biases must be finite)", where, L.name, k,
                                             b.data[k]));
        if (std::fabs(b.data[k]) > double(std::numeric_limits<float>::max()))
            throw ModelFileError(
                fmt::format("{}: layer '{}': bias[{}] = {:g} does not fit float32", where, L.name, k, b.data[k]));
        L.bias[k] = static_cast<float>(b.data[k]);
    }
}

std::vector<FloatLayer> read_model_layers(const std::string& path, const std::string& layer_spec) {
    const ModelFormat format = model_format(path);
    std::vector<ModelLayer> raw;
    if (model_gives_layer_order(format)) {
        if (!layer_spec.empty())
            throw ModelFileError(fmt::format("{}: --layers is for .npz / .safetensors archives; a {} model gives its "
                                             "layers itself, in order",
                                             path, format == ModelFormat::onnx ? "ONNX" : "TorchScript"));
        raw = format == ModelFormat::onnx ? onnx_layers(path) : torchscript_layers(path);
    } else {
        if (layer_spec.empty())
            throw ModelFileError(fmt::format("{}: --layers w1[:b1],w2[:b2],... is required (the array names in order)",
                                             path));
        raw = archive_layers(path, layer_spec);
    }
    if (raw.empty()) throw ModelFileError(fmt::format("{}: no fully-connected layers found", path));
    std::vector<FloatLayer> layers;
    for (const auto& r : raw) {
        FloatLayer L = layer_from_array(r.weight, r.weight_where.empty() ? path : r.weight_where, r.name);
        if (r.bias) add_bias(L, *r.bias, r.bias_where.empty() ? path : r.bias_where);
        L.act = r.relu_after ? Activation::relu : Activation::identity;
        if (!layers.empty() && L.in_len != layers.back().out_len)
            throw ModelFileError(fmt::format("{}: layer '{}' has shape {} x {} (out x in) but the previous layer '{}' "
                                             "has {} outputs (its in_len must be {})",
                                             path, L.name, L.out_len, L.in_len, layers.back().name,
                                             layers.back().out_len, layers.back().out_len));
        layers.push_back(std::move(L));
    }
    return layers;
}

}  // namespace eie
