#include "eie/compress/compressor.hpp"
#include "eie/hw/layer_label.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "eie/hw/fixed_point.hpp"
#include "eie/hw/golden.hpp"
#include "eie/compress/prune.hpp"

namespace eie {

Activation parse_activation(const std::string& text) {
    Activation a{};
    if (!activation_from_name(text, a))
        throw CompressError(fmt::format("activation '{}' is not known (allowed: {})", text, activation_names()));
    return a;
}

const char* to_string(PruneMode m) {
    switch (m) {
        case PruneMode::keep: return "keep";
        case PruneMode::density: return "density";
        case PruneMode::threshold: return "threshold";
    }
    return "?";
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string layer_label(const FloatLayer& l, std::size_t index) { return eie::layer_label(index, l.name); }

// 10 log10(signal / noise), +inf for a noiseless (or empty) comparison.
double snr_db(double signal, double noise) {
    if (noise <= 0) return kInf;
    if (signal <= 0) return -kInf;
    return 10.0 * std::log10(signal / noise);
}

nlohmann::json finite_or_null(double v) {
    if (!std::isfinite(v)) return nullptr;
    return v;
}

std::string db_text(double v) {
    if (v == kInf) return "exact";
    if (v == -kInf) return "-inf";
    return fmt::format("{:.1f}", v);
}

void check_frac(const std::optional<int>& f, const std::string& what) {
    if (f && (*f < kMinFracBits || *f > kMaxFracBits))
        throw CompressError(fmt::format("{} = {} is out of range (allowed: {} .. {} fractional bits)", what, *f,
                                        kMinFracBits, kMaxFracBits));
}

void validate_inputs(const std::vector<FloatLayer>& layers, const std::vector<double>& input,
                     const std::vector<std::vector<double>>& calibration, const CompressOptions& opt) {
    if (layers.empty()) throw CompressError("no layers to compress (at least one is needed)");
    if (!opt.layers.empty() && opt.layers.size() != layers.size())
        throw CompressError(fmt::format("per-layer options given for {} layers but the network has {} (give one per layer)",
                                        opt.layers.size(), layers.size()));
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const FloatLayer& L = layers[l];
        const std::string who = layer_label(L, l);
        if (L.in_len == 0 || L.out_len == 0)
            throw CompressError(fmt::format("{}: shape {} x {} (out x in) is empty (both must be >= 1)", who,
                                            L.out_len, L.in_len));
        if (L.weights.size() != uint64_t(L.in_len) * L.out_len)
            throw CompressError(fmt::format("{}: {} weights for shape {} x {} (out x in), expected {}", who,
                                            L.weights.size(), L.out_len, L.in_len, uint64_t(L.in_len) * L.out_len));
        if (!L.bias.empty() && L.bias.size() != L.out_len)
            throw CompressError(fmt::format("{}: bias has length {}, expected out_len = {} (or no bias)", who,
                                            L.bias.size(), L.out_len));
        if (l > 0 && L.in_len != layers[l - 1].out_len)
            throw CompressError(fmt::format("{}: in_len = {} does not match the out_len = {} of {} (layers chain)", who,
                                            L.in_len, layers[l - 1].out_len, layer_label(layers[l - 1], l - 1)));
        for (uint64_t k = 0; k < L.weights.size(); ++k) {
            if (!std::isfinite(L.weights[k]))
                throw CompressError(fmt::format("{}: weight at row {}, col {} is {} (weights must be finite)", who,
                                                k / L.in_len, k % L.in_len, L.weights[k]));
        }
        for (std::size_t k = 0; k < L.bias.size(); ++k) {
            if (!std::isfinite(L.bias[k]))
                throw CompressError(fmt::format("{}: bias[{}] is {} (bias values must be finite)", who, k, L.bias[k]));
        }
        if (!opt.layers.empty()) {
            const LayerOptions& o = opt.layers[l];
            if (o.prune == PruneMode::density && !(o.prune_value > 0 && o.prune_value <= 1))
                throw CompressError(fmt::format("{}: prune density = {} is out of range (allowed: 0 < density <= 1)",
                                                who, o.prune_value));
            if (o.prune == PruneMode::threshold && !(o.prune_value >= 0 && std::isfinite(o.prune_value)))
                throw CompressError(fmt::format("{}: prune threshold = {} is out of range (allowed: finite, >= 0)",
                                                who, o.prune_value));
            check_frac(o.w_frac, who + ": w_frac");
            check_frac(o.out_frac, who + ": out_frac");
        }
    }
    check_frac(opt.in_frac, "in_frac");
    auto check_vector = [&](const std::vector<double>& v, const std::string& what) {
        if (v.size() != layers[0].in_len)
            throw CompressError(fmt::format("{} has length {}, expected the first layer's in_len = {}", what, v.size(),
                                            layers[0].in_len));
        for (std::size_t k = 0; k < v.size(); ++k)
            if (!std::isfinite(v[k]))
                throw CompressError(fmt::format("{}: element {} is {} (values must be finite)", what, k, v[k]));
    };
    check_vector(input, "input vector");
    for (std::size_t c = 0; c < calibration.size(); ++c)
        check_vector(calibration[c], fmt::format("calibration vector {}", c));
}

// The float forward pass with the shared (centroid) weights: records, per
// layer, the largest |input| and the largest |pre-activation output|.
void float_ranges(const std::vector<QuantLayer>& q, const std::vector<double>& x0, std::vector<double>& max_in,
                  std::vector<double>& max_out) {
    std::vector<double> x = x0;
    for (std::size_t l = 0; l < q.size(); ++l) {
        const QuantLayer& L = q[l];
        for (double v : x) max_in[l] = std::max(max_in[l], std::fabs(v));
        std::vector<double> acc(L.out_len, 0.0);
        for (const auto& nz : L.nonzeros) {
            double a = nz.col < L.in_len ? x[nz.col] : 1.0;  // the bias column's activation is 1.0
            acc[nz.row] += L.codebook_float[nz.code] * a;
        }
        for (double& v : acc) {
            max_out[l] = std::max(max_out[l], std::fabs(v));
            if (L.act == Activation::relu && v < 0) v = 0;
        }
        x.swap(acc);
    }
}

Spread spread_of(const std::vector<double>& v) {
    Spread s;
    if (v.empty()) return s;
    s.min = *std::min_element(v.begin(), v.end());
    s.max = *std::max_element(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    s.mean = sum / double(v.size());
    return s;
}

nlohmann::json spread_json(const Spread& s) { return {{"min", s.min}, {"mean", s.mean}, {"max", s.max}}; }

// --- the steps of compress_network, in order

// 2. Pruning (none, to a density, or by a threshold); the counts go into the report.
void prune_layer(FloatLayer& L, const LayerOptions& o, LayerReport& r) {
    PruneResult pr;
    if (o.prune == PruneMode::density) {
        pr = prune_to_density(L, o.prune_value);
    } else if (o.prune == PruneMode::threshold) {
        pr = prune_by_threshold(L, o.prune_value);
    } else {
        pr.total = r.weights;
        for (float w : L.weights) pr.nonzero_before += (w != 0.0f);
        pr.nonzero_after = pr.nonzero_before;
    }
    r.nonzero_before = pr.nonzero_before;
    r.nonzero_after = pr.nonzero_after;
    r.density_before = r.weights ? double(pr.nonzero_before) / double(r.weights) : 0.0;
    r.density_after = r.weights ? double(pr.nonzero_after) / double(r.weights) : 0.0;
    r.prune_threshold = pr.threshold;
}

// 3. The non-zeros of [W | b] in (col, row) order with their float values: a
// counting sort by column over a row-major scan keeps rows ascending within a column.
void column_sorted_nonzeros(const FloatLayer& L, LayerReport& r, std::vector<QuantLayer::NonZero>& nzs,
                            std::vector<double>& values) {
    const uint32_t ncols = L.in_len + (r.has_bias ? 1u : 0u);
    std::vector<uint64_t> col_start(uint64_t(ncols) + 1, 0);
    for (uint32_t row = 0; row < L.out_len; ++row) {
        const float* w = &L.weights[uint64_t(row) * L.in_len];
        for (uint32_t col = 0; col < L.in_len; ++col) col_start[col + 1] += (w[col] != 0.0f);
        if (r.has_bias) col_start[L.in_len + 1] += (L.bias[row] != 0.0f);
    }
    for (uint32_t c = 0; c < ncols; ++c) col_start[c + 1] += col_start[c];
    const uint64_t nnz = col_start[ncols];
    nzs.assign(nnz, {});
    values.assign(nnz, 0.0);
    {
        std::vector<uint64_t> fill(col_start.begin(), col_start.end() - 1);
        for (uint32_t row = 0; row < L.out_len; ++row) {
            const float* w = &L.weights[uint64_t(row) * L.in_len];
            for (uint32_t col = 0; col < L.in_len; ++col) {
                if (w[col] == 0.0f) continue;
                uint64_t k = fill[col]++;
                nzs[k] = {row, col, 0};
                values[k] = w[col];
            }
            if (r.has_bias && L.bias[row] != 0.0f) {
                uint64_t k = fill[L.in_len]++;
                nzs[k] = {row, L.in_len, 0};
                values[k] = L.bias[row];
            }
        }
    }
    r.bias_nonzero = r.has_bias ? col_start[ncols] - col_start[L.in_len] : 0;
}

// Weight sharing: k-means over the non-zero values gives the shared weights
// (code 0 stays the zero / padding code) and each non-zero's code.
Codebook share_weights(const FloatLayer& L, std::size_t l, const std::vector<double>& values,
                       std::vector<QuantLayer::NonZero>& nzs, const CompressOptions& opt, LayerReport& r) {
    const uint32_t ncodes = opt.arch.codebook_entries();
    const uint64_t nnz = nzs.size();
    Codebook cb;
    if (nnz > 0) {
        cb = kmeans_1d(values, opt.arch.weight_bits, opt.init, opt.kmeans_seed, opt.kmeans_max_iterations);
        if (cb.assignment.size() != nnz)
            throw CompressError(fmt::format("{}: k-means returned {} assignments for {} values", layer_label(L, l),
                                            cb.assignment.size(), nnz));
    } else {
        cb.exact = true;
        cb.snr_db = kInf;
    }
    cb.centroids.resize(ncodes, 0.0);
    cb.centroids[0] = 0.0;
    r.init = opt.init;
    r.centroids_used = cb.used;
    r.kmeans_iterations = cb.iterations;
    r.kmeans_exact = cb.exact;
    r.kmeans_snr_db = cb.exact ? kInf : cb.snr_db;
    for (uint64_t k = 0; k < nnz; ++k) {
        uint32_t code = cb.assignment[k];
        if (code == 0 || code >= ncodes)
            throw CompressError(fmt::format("{}: k-means assigned code {} (allowed 1 .. {})", layer_label(L, l),
                                            code, ncodes - 1));
        nzs[k].code = code;
    }
    return cb;
}

// 4. The fixed-point codebook (w_frac chosen for the largest shared weight,
// unless overridden) and its quantisation error.
void fixed_point_codebook(const FloatLayer& L, std::size_t l, const Codebook& cb, std::vector<QuantLayer::NonZero> nzs,
                          const LayerOptions& o, const ArchConfig& arch, LayerReport& r, QuantLayer& Q) {
    const uint32_t ncodes = arch.codebook_entries(), cvb = arch.codebook_value_bits;
    const uint64_t nnz = nzs.size();
    for (uint32_t c = 1; c < ncodes; ++c) r.max_abs_centroid = std::max(r.max_abs_centroid, std::fabs(cb.centroids[c]));
    int w_frac = o.w_frac ? *o.w_frac : fx::choose_frac_bits(r.max_abs_centroid, cvb);
    r.w_frac_override = bool(o.w_frac);
    if (!o.w_frac && r.max_abs_centroid > fx::dequantize(fx::max_value(cvb), w_frac))
        throw CompressError(fmt::format(
            "{}: largest |shared weight| = {:g} does not fit {}-bit codebook values even with {} fractional bits "
            "(allowed: |w| <= {:g})",
            layer_label(L, l), r.max_abs_centroid, cvb, w_frac, fx::dequantize(fx::max_value(cvb), w_frac)));
    Q.name = L.name;
    Q.in_len = L.in_len;
    Q.out_len = L.out_len;
    Q.has_bias = r.has_bias;
    Q.act = L.act;
    Q.fmt.w_frac = w_frac;
    Q.codebook_float = cb.centroids;
    Q.codebook.assign(ncodes, 0);
    for (uint32_t c = 1; c < ncodes; ++c) {
        double v = cb.centroids[c];
        int32_t f = fx::quantize(v, w_frac, cvb);
        // Code != 0 must never mean zero (code 0 is the padding marker):
        // a tiny centroid keeps its sign with the smallest magnitude.
        if (f == 0 && v != 0.0) {
            f = v > 0 ? 1 : -1;
            ++r.centroids_nudged;
        }
        Q.codebook[c] = f;
    }
    double sig = 0, noise = 0;
    for (uint64_t k = 0; k < nnz; ++k) {
        double c = cb.centroids[nzs[k].code];
        double e = c - fx::dequantize(Q.codebook[nzs[k].code], w_frac);
        sig += c * c;
        noise += e * e;
    }
    r.codebook_snr_db = snr_db(sig, noise);
    Q.nonzeros = std::move(nzs);
}

// 5. Activation formats from the float reference with the shared weights
// (over the input and the calibration vectors), unless overridden; returns
// the largest |input| of each layer.
std::vector<double> choose_activation_formats(std::vector<QuantLayer>& q, const std::vector<FloatLayer>& layers_in,
                                              const std::vector<double>& input,
                                              const std::vector<std::vector<double>>& calibration,
                                              const CompressOptions& opt, CompressResult& res) {
    const std::size_t n = q.size();
    const uint32_t ab = opt.arch.act_bits;
    std::vector<double> max_in(n, 0.0), max_out(n, 0.0);
    float_ranges(q, input, max_in, max_out);
    for (const auto& c : calibration) float_ranges(q, c, max_in, max_out);
    int in_frac = 0;
    for (std::size_t l = 0; l < n; ++l) {
        LayerReport& r = res.layers[l];
        const LayerOptions o = opt.layers.empty() ? LayerOptions{} : opt.layers[l];
        r.max_abs_input = max_in[l];
        r.max_abs_output = max_out[l];
        if (l == 0) {
            r.in_frac_override = bool(opt.in_frac);
            // The bias column is broadcast with activation 1.0, so 1.0 must be representable.
            double need = std::max(max_in[0], q[0].has_bias ? 1.0 : 0.0);
            in_frac = opt.in_frac ? *opt.in_frac : fx::choose_frac_bits(need, ab);
            if (!opt.in_frac && need > fx::dequantize(fx::max_value(ab), in_frac))
                throw CompressError(fmt::format(
                    "input: largest |value| = {:g} does not fit {}-bit activations even with {} fractional bits", need,
                    ab, in_frac));
        }
        r.out_frac_override = bool(o.out_frac);
        int out_frac;
        if (o.out_frac) {
            out_frac = *o.out_frac;
        } else {
            // One bit of headroom for partial sums that overshoot the final
            // value; 1.0 representable when the next layer has a bias.
            double need = std::max(max_out[l], (l + 1 < n && q[l + 1].has_bias) ? 1.0 : 0.0);
            out_frac = fx::choose_frac_bits(need, ab, 1);
            if (need > fx::dequantize(fx::max_value(ab), out_frac))
                throw CompressError(fmt::format(
                    "{}: largest |output| = {:g} does not fit {}-bit activations even with {} fractional bits",
                    layer_label(layers_in[l], l), need, ab, out_frac));
        }
        q[l].fmt.in_frac = in_frac;
        q[l].fmt.out_frac = out_frac;
        r.fmt = q[l].fmt;
        in_frac = out_frac;
    }
    return max_in;
}

// The bias column is broadcast as 1.0 = 2^in_frac, which must be a positive
// value of act_bits bits (the golden model and the hardware depend on it).
void check_bias_representable(const std::vector<QuantLayer>& q, const std::vector<FloatLayer>& layers_in,
                              double max_abs_input, const CompressOptions& opt, const CompressResult& res) {
    const uint32_t ab = opt.arch.act_bits;
    for (std::size_t l = 0; l < q.size(); ++l) {
        const int f = q[l].fmt.in_frac;
        if (q[l].has_bias && (f < 0 || f > int(ab) - 2)) {
            std::string origin =
                l == 0 ? (opt.in_frac ? std::string("set by the in_frac override")
                                      : fmt::format("chosen for the largest |input| = {:g}", max_abs_input))
                       : fmt::format("the out_frac of {}{}", layer_label(layers_in[l - 1], l - 1),
                                     res.layers[l - 1].out_frac_override ? " (overridden)" : "");
            throw CompressError(fmt::format(
                "{}: in_frac = {} ({}) cannot represent the bias column's activation 1.0 in {}-bit activations "
                "(allowed for a layer with a bias: 0 .. {})",
                layer_label(layers_in[l], l), f, origin, ab, int(ab) - 2));
        }
    }
}

// The per-PE image, its quantised input and the reference outputs of both models.
Image encode_with_references(const std::vector<QuantLayer>& q, const std::vector<double>& input, const ArchConfig& arch) {
    const uint32_t ab = arch.act_bits;
    Image img = encode_layers(q, arch);
    img.input_float = input;
    img.input.resize(input.size());
    for (std::size_t k = 0; k < input.size(); ++k) img.input[k] = fx::quantize(input[k], q[0].fmt.in_frac, ab);
    img.expected = golden_run(img, img.input);
    img.expected_float = float_run(img, img.input_float);
    return img;
}

// Fixed point against float over the input and the calibration vectors: SNR,
// largest error and saturations per layer.
void compare_fixed_with_float(const Image& img, const std::vector<QuantLayer>& q,
                              const std::vector<std::vector<double>>& calibration, const ArchConfig& arch,
                              CompressResult& res) {
    const std::size_t n = q.size();
    const uint32_t ab = arch.act_bits;
    std::vector<double> sig(n, 0.0), noise(n, 0.0);
    auto compare = [&](const std::vector<std::vector<int32_t>>& fixed, const std::vector<std::vector<double>>& flt) {
        for (std::size_t l = 0; l < n; ++l) {
            LayerReport& r = res.layers[l];
            for (std::size_t k = 0; k < flt[l].size(); ++k) {
                double f = flt[l][k];
                double e = fx::dequantize(fixed[l][k], q[l].fmt.out_frac) - f;
                sig[l] += f * f;
                noise[l] += e * e;
                r.max_abs_error = std::max(r.max_abs_error, std::fabs(e));
                r.outputs_saturated += (fixed[l][k] == fx::max_value(ab) || fixed[l][k] == fx::min_value(ab));
                ++r.outputs_compared;
            }
        }
    };
    compare(img.expected, img.expected_float);
    for (const auto& c : calibration) {
        std::vector<int32_t> cq(c.size());
        for (std::size_t k = 0; k < c.size(); ++k) cq[k] = fx::quantize(c[k], q[0].fmt.in_frac, ab);
        compare(golden_run(img, cq), float_run(img, c));
    }
    for (std::size_t l = 0; l < n; ++l) res.layers[l].snr_db = snr_db(sig[l], noise[l]);
}

// Entries, padding and rows per PE, and how full each memory is.
void encoding_statistics(const Image& img, CompressResult& res) {
    const std::size_t n = img.layers.size();
    const ArchConfig& ia = img.arch;  // the grown sizes when grow_memories is set
    for (std::size_t l = 0; l < n; ++l) {
        LayerReport& r = res.layers[l];
        const LayerDesc& d = img.layers[l];
        r.num_batches = d.num_batches;
        std::vector<double> ent, pad, rows;
        uint64_t worst = 0;
        for (std::size_t p = 0; p < img.pes.size(); ++p) {
            const PeLayerCounts& c = img.pes[p].layer_counts.at(l);
            ent.push_back(double(c.entries));
            pad.push_back(double(c.padding));
            rows.push_back(double(c.rows));
            r.stored_nonzeros += c.entries - c.padding;
            if (c.entries > worst || p == 0) {
                worst = c.entries;
                r.spmat_worst_pe = static_cast<uint32_t>(p);
            }
        }
        r.entries = spread_of(ent);
        r.padding = spread_of(pad);
        r.rows = spread_of(rows);
        r.spmat_percent = 100.0 * double(worst) / double(ia.spmat_capacity_entries());
        r.ptr_percent = 100.0 * double(uint64_t(d.num_batches) * d.pointers_per_batch()) / double(ia.ptr_capacity());
        r.ptr_value_percent = 100.0 * double(worst) / double(ia.ptr_max_value());
    }
    auto worst_of = [&](const std::string& name, uint64_t capacity, auto used_of) {
        CapacityUse c;
        c.memory = name;
        c.capacity = capacity;
        for (std::size_t p = 0; p < img.pes.size(); ++p) {
            uint64_t u = used_of(img.pes[p], p);
            if (u > c.used || p == 0) {
                c.used = u;
                c.worst_pe = static_cast<uint32_t>(p);
            }
        }
        c.percent = capacity ? 100.0 * double(c.used) / double(capacity) : 0.0;
        res.capacity.push_back(c);
    };
    worst_of("spmat", ia.spmat_capacity_entries(), [](const PeImage& pe, std::size_t) { return uint64_t(pe.entries.size()); });
    worst_of("pointer", ia.ptr_capacity(), [](const PeImage& pe, std::size_t) { return uint64_t(pe.pointers.size()); });
    worst_of("codebook", ia.codebook_slots, [](const PeImage& pe, std::size_t) { return uint64_t(pe.codebooks.size()); });
    worst_of("act_sram", ia.act_sram_entries, [&](const PeImage&, std::size_t p) {
        // Local length of a vector of length len on PE p: rows p, p+N, ...
        auto local = [&](uint32_t len) { return local_length(len, ia.num_pes, uint32_t(p)); };
        uint64_t end = 0;
        for (const auto& d : img.layers) {
            if (d.input.in_sram) end = std::max(end, d.input.sram_base + local(d.in_len));
            if (d.output.in_sram) end = std::max(end, d.output.sram_base + local(d.out_len));
        }
        return end;
    });

}

nlohmann::json report_json(const CompressResult& res, const CompressOptions& opt) {
    nlohmann::json j;
    j["layers"] = nlohmann::json::array();
    for (const auto& r : res.layers) j["layers"].push_back(to_json(r));
    j["capacity"] = nlohmann::json::array();
    for (const auto& c : res.capacity) j["capacity"].push_back(to_json(c));
    j["storage"] = to_json(res.storage);
    j["calibration_vectors"] = res.calibration_vectors;
    j["kmeans"] = {{"init", to_string(opt.init)}, {"seed", opt.kmeans_seed}, {"max_iterations", opt.kmeans_max_iterations}};
    return j;
}

}  // namespace

CompressResult compress_network(const std::vector<FloatLayer>& layers_in, const std::vector<double>& input,
                                const std::vector<std::vector<double>>& calibration, const CompressOptions& opt) {
    const ArchConfig& arch = opt.arch;
    arch.validate("architecture");
    validate_inputs(layers_in, input, calibration, opt);
    const std::size_t n = layers_in.size();

    CompressResult res;
    res.calibration_vectors = static_cast<uint32_t>(calibration.size());
    res.layers.resize(n);
    std::vector<QuantLayer> q(n);
    for (std::size_t l = 0; l < n; ++l) {
        FloatLayer L = layers_in[l];
        if (L.name.empty()) L.name = fmt::format("L{}", l);
        LayerReport& r = res.layers[l];
        const LayerOptions o = opt.layers.empty() ? LayerOptions{} : opt.layers[l];
        r.name = L.name;
        r.in_len = L.in_len;
        r.out_len = L.out_len;
        r.has_bias = !L.bias.empty();
        r.act = L.act;
        r.prune = o.prune;
        r.prune_value = o.prune_value;
        r.weights = uint64_t(L.in_len) * L.out_len;
        prune_layer(L, o, r);
        std::vector<QuantLayer::NonZero> nzs;
        std::vector<double> values;
        column_sorted_nonzeros(L, r, nzs, values);
        const Codebook cb = share_weights(L, l, values, nzs, opt, r);
        fixed_point_codebook(L, l, cb, std::move(nzs), o, arch, r, q[l]);
    }
    const std::vector<double> max_in = choose_activation_formats(q, layers_in, input, calibration, opt, res);
    check_bias_representable(q, layers_in, max_in[0], opt, res);
    Image img = encode_with_references(q, input, arch);
    compare_fixed_with_float(img, q, calibration, arch, res);
    encoding_statistics(img, res);
    res.storage = storage_report(img);
    res.image = std::move(img);
    res.report = report_json(res, opt);
    return res;
}

nlohmann::json to_json(const LayerReport& r) {
    nlohmann::json j;
    j["name"] = r.name;
    j["in_len"] = r.in_len;
    j["out_len"] = r.out_len;
    j["has_bias"] = r.has_bias;
    j["activation"] = activation_name(r.act);
    j["prune"] = {{"mode", to_string(r.prune)},
                  {"value", r.prune_value},
                  {"weights", r.weights},
                  {"nonzero_before", r.nonzero_before},
                  {"nonzero_after", r.nonzero_after},
                  {"density_before", r.density_before},
                  {"density_after", r.density_after},
                  {"threshold", r.prune_threshold},
                  {"bias_nonzero", r.bias_nonzero}};
    j["kmeans"] = {{"init", to_string(r.init)},
                   {"centroids_used", r.centroids_used},
                   {"iterations", r.kmeans_iterations},
                   {"exact", r.kmeans_exact},
                   {"snr_db", finite_or_null(r.kmeans_snr_db)}};
    j["formats"] = {{"in_frac", r.fmt.in_frac},
                    {"w_frac", r.fmt.w_frac},
                    {"out_frac", r.fmt.out_frac},
                    {"shift", r.fmt.shift()},
                    {"in_frac_override", r.in_frac_override},
                    {"w_frac_override", r.w_frac_override},
                    {"out_frac_override", r.out_frac_override},
                    {"max_abs_centroid", r.max_abs_centroid},
                    {"max_abs_input", r.max_abs_input},
                    {"max_abs_output", r.max_abs_output},
                    {"centroids_nudged", r.centroids_nudged},
                    {"codebook_snr_db", finite_or_null(r.codebook_snr_db)}};
    j["fixed_vs_float"] = {{"outputs_compared", r.outputs_compared},
                           {"outputs_saturated", r.outputs_saturated},
                           {"max_abs_error", r.max_abs_error},
                           {"snr_db", finite_or_null(r.snr_db)}};
    j["encoding"] = {{"num_batches", r.num_batches},
                     {"stored_nonzeros", r.stored_nonzeros},
                     {"entries_per_pe", spread_json(r.entries)},
                     {"padding_per_pe", spread_json(r.padding)},
                     {"rows_per_pe", spread_json(r.rows)}};
    j["capacity"] = {{"spmat_worst_pe", r.spmat_worst_pe},
                     {"spmat_percent", r.spmat_percent},
                     {"ptr_percent", r.ptr_percent},
                     {"ptr_value_percent", r.ptr_value_percent}};
    return j;
}

nlohmann::json to_json(const CapacityUse& c) {
    return {{"memory", c.memory}, {"used", c.used}, {"capacity", c.capacity}, {"worst_pe", c.worst_pe},
            {"percent", c.percent}};
}

std::string format_report(const CompressResult& res) {
    const ArchConfig& a = res.image.arch;
    std::string out;
    out += fmt::format("{} layer(s) on {} PEs: {}-bit weight index, {}-bit relative index, {}-bit codebook values, "
                       "{}-bit activations\n\n",
                       res.layers.size(), a.num_pes, a.weight_bits, a.index_bits, a.codebook_value_bits, a.act_bits);
    out += format_storage_table(res.storage);

    out += "\nPruning and weight sharing (density of W; the bias is never pruned and shares the codebook)\n";
    out += fmt::format("{:<12} {:>13} {:>9} {:>9} {:>7} {:>7} {:>6} {:>9} {:>9} {:>7}\n", "layer", "shape out x in",
                       "density", "pruned", "init", "codes", "iters", "kmeansSNR", "cbookSNR", "nudged");
    for (const auto& r : res.layers) {
        out += fmt::format("{:<12} {:>13} {:>8.2f}% {:>8.2f}% {:>7} {:>7} {:>6} {:>9} {:>9} {:>7}\n",
                           r.name.substr(0, 12), fmt::format("{}x{}{}", r.out_len, r.in_len, r.has_bias ? "+b" : ""),
                           100 * r.density_before, 100 * r.density_after, to_string(r.init), r.centroids_used,
                           r.kmeans_exact ? std::string("exact") : std::to_string(r.kmeans_iterations),
                           db_text(r.kmeans_snr_db), db_text(r.codebook_snr_db), r.centroids_nudged);
    }

    out += fmt::format("\nFixed point vs float reference ({} vector(s): the input{})\n",
                       1 + res.calibration_vectors, res.calibration_vectors ? " and the calibration vectors" : "");
    out += fmt::format("{:<12} {:>9} {:>7} {:>8} {:>6} {:>12} {:>12} {:>9} {:>10}\n", "layer", "act", "in_frac",
                       "w_frac", "out", "max|float|", "max abs err", "SNR dB", "saturated");
    for (const auto& r : res.layers) {
        out += fmt::format("{:<12} {:>9} {:>6}{} {:>7}{} {:>5}{} {:>12.4g} {:>12.4g} {:>9} {:>10}\n", r.name.substr(0, 12),
                           activation_name(r.act), r.fmt.in_frac, r.in_frac_override ? "*" : " ", r.fmt.w_frac,
                           r.w_frac_override ? "*" : " ", r.fmt.out_frac, r.out_frac_override ? "*" : " ",
                           r.max_abs_output, r.max_abs_error, db_text(r.snr_db), r.outputs_saturated);
    }
    bool any_override = false;
    for (const auto& r : res.layers) any_override |= r.in_frac_override || r.w_frac_override || r.out_frac_override;
    if (any_override) out += "(* = set on the command line)\n";

    out += "\nEncoding and capacity (per PE: min / mean / max; percent of the worst PE)\n";
    out += fmt::format("{:<12} {:>7} {:>26} {:>22} {:>14} {:>8} {:>10}\n", "layer", "batches", "entries/PE",
                       "padding/PE", "spmat", "pointer", "ptr value");
    for (const auto& r : res.layers) {
        out += fmt::format("{:<12} {:>7} {:>26} {:>22} {:>14} {:>7.2f}% {:>9.2f}%\n", r.name.substr(0, 12),
                           r.num_batches,
                           fmt::format("{:.0f} / {:.1f} / {:.0f}", r.entries.min, r.entries.mean, r.entries.max),
                           fmt::format("{:.0f} / {:.1f} / {:.0f}", r.padding.min, r.padding.mean, r.padding.max),
                           fmt::format("{:.2f}% PE{}", r.spmat_percent, r.spmat_worst_pe), r.ptr_percent,
                           r.ptr_value_percent);
    }
    out += "Whole image:";
    for (const auto& c : res.capacity)
        out += fmt::format("  {} {}/{} ({:.2f}%, PE{})", c.memory, c.used, c.capacity, c.percent, c.worst_pe);
    out += "\n";
    if (a.grow_memories) out += "(grow_memories is set: capacities are the grown sizes)\n";
    return out;
}

}  // namespace eie
