// ONNX models through Debian's libonnx-dev (the protobuf classes of
// onnx.proto). The graph must be the chain of an MLP: from the one graph
// input, per layer Gemm(X, W, [C]) or MatMul(X, W) optionally followed by
// Add(., C), optionally followed by Relu; the graph output is the last
// tensor. Weights and biases are initializers. Anything else is refused,
// naming the node.
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include "eie/compress/import/readers.hpp"

namespace eie {

namespace {

std::string node_text(const onnx::NodeProto& n, int index) {
    return n.name().empty() ? fmt::format("node {} ({})", index, n.op_type())
                            : fmt::format("node '{}' ({})", n.name(), n.op_type());
}

// An initializer as an NpyArray (doubles, C order). Supported: FLOAT,
// DOUBLE, FLOAT16, BFLOAT16, stored inline (raw_data or the typed field).
NpyArray tensor_array(const onnx::TensorProto& t, const std::string& where) {
    NpyArray a;
    uint64_t count = 1;
    for (int64_t d : t.dims()) {
        if (d < 0) throw ModelFileError(fmt::format("{}: dimension {} is negative", where, d));
        if (d && count > std::numeric_limits<uint64_t>::max() / uint64_t(d))
            throw ModelFileError(fmt::format("{}: shape overflows", where));
        count *= uint64_t(d);
        a.shape.push_back(uint64_t(d));
    }
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
        throw ModelFileError(fmt::format("{}: stored as external data (not supported: save the model with its "
                                         "weights inside, onnx.save(model, path, save_as_external_data=False))",
                                         where));
    const std::string& raw = t.raw_data();
    auto need = [&](uint64_t values) {
        if (values != count)
            throw ModelFileError(fmt::format("{}: shape ({}) needs {} values but the tensor holds {}", where,
                                             fmt::join(a.shape, ", "), count, values));
    };
    auto need_raw = [&](uint64_t elem) {
        if (count > raw.size() / elem || raw.size() != count * elem)  // the first test keeps the product in range
            throw ModelFileError(fmt::format("{}: shape ({}) needs {} bytes of raw_data but the tensor holds {}",
                                             where, fmt::join(a.shape, ", "),
                                             count > raw.size() ? std::string("more") : std::to_string(count * elem),
                                             raw.size()));
    };
    auto half = [](uint16_t h) {
        const int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
        double v = exp == 0 ? std::ldexp(man, -24) : exp == 31 ? (man ? NAN : INFINITY) : std::ldexp(man | 0x400, exp - 25);
        return (h & 0x8000) ? -v : v;
    };
    auto bf16 = [](uint16_t h) {
        uint32_t bits = uint32_t(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return double(f);
    };
    a.data.reserve(count);
    switch (t.data_type()) {
        case onnx::TensorProto::FLOAT:
            a.dtype = "<f4";
            if (!raw.empty()) {
                need_raw(4);
                for (uint64_t k = 0; k < count; ++k) {
                    float f;
                    std::memcpy(&f, raw.data() + 4 * k, 4);
                    a.data.push_back(f);
                }
            } else {
                need(uint64_t(t.float_data_size()));
                for (float f : t.float_data()) a.data.push_back(f);
            }
            break;
        case onnx::TensorProto::DOUBLE:
            a.dtype = "<f8";
            if (!raw.empty()) {
                need_raw(8);
                for (uint64_t k = 0; k < count; ++k) {
                    double d;
                    std::memcpy(&d, raw.data() + 8 * k, 8);
                    a.data.push_back(d);
                }
            } else {
                need(uint64_t(t.double_data_size()));
                for (double d : t.double_data()) a.data.push_back(d);
            }
            break;
        case onnx::TensorProto::FLOAT16:
        case onnx::TensorProto::BFLOAT16: {
            const bool is_half = t.data_type() == onnx::TensorProto::FLOAT16;
            a.dtype = is_half ? "<f2" : "<fb";
            if (!raw.empty()) {
                need_raw(2);
                for (uint64_t k = 0; k < count; ++k) {
                    uint16_t h = uint16_t(uint8_t(raw[2 * k]) | (uint8_t(raw[2 * k + 1]) << 8));
                    a.data.push_back(is_half ? half(h) : bf16(h));
                }
            } else {  // int32_data holds the 16-bit patterns
                need(uint64_t(t.int32_data_size()));
                for (int32_t v : t.int32_data()) a.data.push_back(is_half ? half(uint16_t(v)) : bf16(uint16_t(v)));
            }
            break;
        }
        default:
            throw ModelFileError(fmt::format("{}: element type {} ({}) is not supported (allowed: FLOAT, DOUBLE, "
                                             "FLOAT16, BFLOAT16)",
                                             where, t.data_type(),
                                             onnx::TensorProto::DataType_IsValid(t.data_type())
                                                 ? onnx::TensorProto::DataType_Name(
                                                       onnx::TensorProto::DataType(t.data_type()))
                                                 : std::string("unknown")));
    }
    return a;
}

NpyArray transposed(const NpyArray& a) {
    NpyArray t;
    t.dtype = a.dtype;
    t.shape = {a.shape[1], a.shape[0]};
    t.data.resize(a.data.size());
    for (uint64_t r = 0; r < a.shape[0]; ++r)
        for (uint64_t c = 0; c < a.shape[1]; ++c) t.data[c * a.shape[0] + r] = a.data[r * a.shape[1] + c];
    return t;
}

}  // namespace

std::vector<ModelLayer> read_onnx_layers(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelFileError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    onnx::ModelProto model;
    if (!model.ParseFromIstream(&in))
        throw ModelFileError(fmt::format("{}: not an ONNX model (the protobuf message does not parse: truncated or "
                                         "not ONNX)",
                                         path));
    if (!model.has_graph() || model.graph().node_size() == 0)
        throw ModelFileError(fmt::format("{}: not an ONNX model with a graph (no nodes)", path));
    const onnx::GraphProto& g = model.graph();

    std::map<std::string, const onnx::TensorProto*> inits;
    for (const auto& t : g.initializer()) inits[t.name()] = &t;
    // The input vector: the first node's first input, a graph input that is not an initializer.
    const onnx::NodeProto& first = g.node(0);
    bool is_graph_input = false;
    for (const auto& i : g.input()) is_graph_input |= first.input_size() > 0 && i.name() == first.input(0);
    if (!is_graph_input || inits.count(first.input(0)))
        throw ModelFileError(fmt::format("{}: {} does not take a graph input as its first input (the graph must be "
                                         "the chain of an MLP, from the input vector)",
                                         path, node_text(first, 0)));
    if (g.output_size() != 1)
        throw ModelFileError(fmt::format("{}: the graph has {} outputs (an MLP has one)", path, g.output_size()));

    std::string cur = first.input(0);  // the tensor the next node must consume
    std::vector<ModelLayer> layers;
    enum class Last { none, layer, matmul, relu } last = Last::none;
    auto init = [&](const onnx::NodeProto& n, int index, int input, const char* role) -> NpyArray {
        const std::string where =
            fmt::format("{}: {} input {} '{}' ({})", path, node_text(n, index), input, n.input(input), role);
        auto it = inits.find(n.input(input));
        if (it == inits.end())
            throw ModelFileError(fmt::format("{} is not an initializer (weights and biases must be constants in the "
                                             "graph's initializer list)",
                                             where));
        return tensor_array(*it->second, where);
    };
    auto where_of = [&](const onnx::NodeProto& n, int index, int input) {
        return fmt::format("{}: {} input '{}'", path, node_text(n, index), n.input(input));
    };
    for (int i = 0; i < g.node_size(); ++i) {
        const onnx::NodeProto& n = g.node(i);
        const std::string& op = n.op_type();
        const std::string who = fmt::format("{}: {}", path, node_text(n, i));
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            throw ModelFileError(fmt::format("{}: operator domain '{}' is not supported (allowed: the default ONNX "
                                             "domain)",
                                             who, n.domain()));
        if (n.output_size() != 1)
            throw ModelFileError(fmt::format("{} has {} outputs (allowed: 1)", who, n.output_size()));
        auto consumes_cur = [&](int k) { return n.input_size() > k && n.input(k) == cur; };
        if (op == "Gemm" || op == "MatMul") {
            if (!consumes_cur(0))
                throw ModelFileError(fmt::format("{} does not take the previous layer's output '{}' as its first input "
                                                 "(the graph must be a chain of layers)",
                                                 who, cur));
            if (n.input_size() < 2 || n.input_size() > (op == "Gemm" ? 3 : 2))
                throw ModelFileError(fmt::format("{} has {} inputs", who, n.input_size()));
            ModelLayer L;
            L.name = n.name().empty() ? fmt::format("{}{}", op == "Gemm" ? "gemm" : "matmul", i) : n.name();
            NpyArray w = init(n, i, 1, "weights");
            if (w.shape.size() != 2)
                throw ModelFileError(fmt::format("{}: weights '{}' have {} dimensions (allowed: 2)", who, n.input(1),
                                                 w.shape.size()));
            long trans_a = 0, trans_b = 0;
            float alpha = 1, beta = 1;
            for (const auto& at : n.attribute()) {
                if (op != "Gemm")
                    throw ModelFileError(fmt::format("{}: attribute '{}' is not supported", who, at.name()));
                if (at.name() == "transA") trans_a = at.i();
                else if (at.name() == "transB") trans_b = at.i();
                else if (at.name() == "alpha") alpha = at.f();
                else if (at.name() == "beta") beta = at.f();
                else throw ModelFileError(fmt::format("{}: attribute '{}' is not supported (allowed: transA = 0, "
                                                      "transB, alpha, beta)",
                                                      who, at.name()));
            }
            if (trans_a != 0)
                throw ModelFileError(fmt::format("{}: transA = {} is not supported (the input must be a row vector: "
                                                 "transA = 0)",
                                                 who, trans_a));
            // Y = alpha * X * op(B) + beta * C; nn.Linear stores B as (out, in), i.e. transB = 1.
            L.weight = trans_b ? std::move(w) : transposed(w);
            if (alpha != 1)
                for (double& v : L.weight.data) v = double(float(v) * alpha);
            L.weight_where = where_of(n, i, 1);
            if (op == "Gemm" && n.input_size() == 3 && !n.input(2).empty()) {
                L.bias = init(n, i, 2, "bias");
                if (beta != 1)
                    for (double& v : L.bias->data) v = double(float(v) * beta);
                L.bias_where = where_of(n, i, 2);
            }
            layers.push_back(std::move(L));
            last = op == "Gemm" ? Last::layer : Last::matmul;
        } else if (op == "Add") {
            if (last != Last::matmul)
                throw ModelFileError(fmt::format("{}: an Add is supported only as the bias of a MatMul, right after it",
                                                 who));
            if (n.input_size() != 2 || (n.input(0) != cur && n.input(1) != cur))
                throw ModelFileError(fmt::format("{} does not add a bias to the MatMul's output '{}'", who, cur));
            const int b = n.input(0) == cur ? 1 : 0;
            layers.back().bias = init(n, i, b, "bias");
            layers.back().bias_where = where_of(n, i, b);
            last = Last::layer;
        } else if (op == "Relu") {
            if (last != Last::layer && last != Last::matmul)
                throw ModelFileError(fmt::format("{}: a Relu must follow a layer (Gemm, MatMul or its Add)", who));
            if (!consumes_cur(0) || n.input_size() != 1)
                throw ModelFileError(fmt::format("{} does not take the previous layer's output '{}'", who, cur));
            layers.back().relu_after = true;
            last = Last::relu;
        } else {
            throw ModelFileError(fmt::format("{}: operator '{}' is not supported (allowed: Gemm, MatMul followed by "
                                             "Add, Relu: the chain of an MLP)",
                                             who, op));
        }
        cur = n.output(0);
    }
    if (g.output(0).name() != cur)
        throw ModelFileError(fmt::format("{}: the graph output '{}' is not the last layer's output '{}'", path,
                                         g.output(0).name(), cur));
    return layers;
}

}  // namespace eie
