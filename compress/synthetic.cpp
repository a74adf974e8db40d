// Synthetic layers and inputs (docs/synthetic-layers.md describes the model).
//
// Model, in short:
// - Count. Exactly K = round(weight_density * in_len * out_len) non-zeros.
// - Uniform placement: a uniformly random K-subset of the in*out positions
//   (every subset equally likely). Positions are drawn with rejection into a
//   bitmap (1 bit per weight, 12.8 MB for VGG-6) so the random accesses stay
//   cache-friendly; above 50% density the complement is drawn instead.
// - Skewed placement: row i has a factor r_i and column j a factor c_j,
//   both log-normal exp(sigma * N(0,1)) with sigma = kSkewSigma = 0.8 (the
//   spread of per-neuron densities seen in pruned AlexNet/VGG fc layers is of
//   this order: the busiest neurons keep several times the mean). Column j
//   receives n_j = K * c_j / sum(c) non-zeros (capped at out_len, the excess
//   re-spread over the other columns, rounded by largest remainder so the
//   total is exactly K). Within a column the n_j rows are drawn one after
//   another with probability proportional to r_i among the rows not drawn yet
//   (successive weighted sampling without replacement). Two algorithms give
//   that same distribution: rejection from the row CDF while the column is
//   sparse (n_j <= out_len / 4), exponential keys E_i / r_i with the n_j
//   smallest taken (Efraimidis-Spirakis) when it is dense.
// - Values: the survivors of magnitude-pruning a dense Laplacian(0, b) layer
//   to the density: |w| = t + Exp(b) with t = b ln(1 / density) (the
//   exponential is memoryless, so this is exactly the tail |w| > t of the
//   Laplacian), random sign, b = kWeightScale = 0.02, the order of trained fc
//   weights. The histogram is bimodal with a hole around zero, as in the
//   Deep Compression paper's figures of pruned layers.
// - Bias (spec.bias): dense Laplacian(0, b) values.
// - Input: exactly round(act_density * in_len) non-zeros at uniformly random
//   positions, values Exp(1) (positive, mean 1), as post-ReLU activations.
//
// Randomness: eie::Rng (xoshiro256**), one independent stream per purpose,
// so e.g. the input does not change when the weight model changes:
//   stream 1 positions, 2 weight values, 3 bias, 4 skew factors,
//   5 input positions, 6 input values.
// Doubles come from the generator through log/exp/cos of libm only; the
// values are rounded to float, so results are the same on every IEEE machine
// whose libm is accurate to an ulp (glibc, musl, macOS).
#include "eie/compress/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "eie/hw/rng.hpp"

namespace eie {

namespace {

constexpr double kSkewSigma = 0.8;
constexpr double kWeightScale = 0.02;
constexpr double kPi = 3.14159265358979323846;

enum Stream : uint64_t {
    kPositions = 1,
    kValues = 2,
    kBias = 3,
    kSkew = 4,
    kInputPositions = 5,
    kInputValues = 6,
};

struct PresetRow {
    const char* name;
    uint32_t in_len, out_len;
    double weight_density, act_density;
    uint64_t seed;
    Placement placement;
    Activation act;
    bool bias;
    std::vector<std::string> arch_overrides;
};

// EIE Table III (docs/reference.md, docs/benchmarks.md), generated at build
// time from the specs in traces/benchmarks/ (the one source of the suite).
const PresetRow kPresets[] = {
#include "benchmark_presets.inc"
};

std::string fmt_double(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

void validate(const SyntheticSpec& s, bool weights) {
    auto bad = [&](const std::string& field, const std::string& value, const std::string& allowed) {
        throw std::invalid_argument("synthetic layer '" + s.name + "': " + field + " = " + value +
                                    " is invalid (allowed: " + allowed + ")");
    };
    if (s.in_len == 0) bad("in_len", "0", ">= 1");
    if (weights && s.out_len == 0) bad("out_len", "0", ">= 1");
    if (weights && !(s.weight_density >= 0.0 && s.weight_density <= 1.0))
        bad("weight_density", fmt_double(s.weight_density), "0 .. 1");
    if (!weights && !(s.act_density >= 0.0 && s.act_density <= 1.0))
        bad("act_density", fmt_double(s.act_density), "0 .. 1");
}

// A set of positions in [0, n) as a bitmap.
struct Bitmap {
    std::vector<uint64_t> words;
    explicit Bitmap(uint64_t n) : words((n + 63) / 64, 0) {}
    bool test(uint64_t p) const { return (words[p >> 6] >> (p & 63)) & 1; }
    void set(uint64_t p) { words[p >> 6] |= uint64_t(1) << (p & 63); }
    void flip(uint64_t p) { words[p >> 6] ^= uint64_t(1) << (p & 63); }
    // Calls f(p) for every set position in increasing order.
    template <typename F>
    void for_each(F&& f) const {
        for (uint64_t w = 0; w < words.size(); ++w) {
            uint64_t bits = words[w];
            while (bits) {
                f((w << 6) + uint64_t(__builtin_ctzll(bits)));
                bits &= bits - 1;
            }
        }
    }
};

// A uniformly random k-subset of [0, n) (k <= n).
Bitmap uniform_subset(uint64_t n, uint64_t k, Rng& rng) {
    Bitmap b(n);
    const bool complement = k > n / 2;
    const uint64_t draws = complement ? n - k : k;
    if (complement) {
        std::fill(b.words.begin(), b.words.end(), ~uint64_t(0));
        if (n % 64) b.words.back() = (uint64_t(1) << (n % 64)) - 1;
    }
    // Rejection: at most half the positions are ever taken, so each new
    // position needs fewer than 2 draws on average.
    for (uint64_t got = 0; got < draws;) {
        const uint64_t p = rng.below(n);
        if (b.test(p) == complement) {
            b.flip(p);
            ++got;
        }
    }
    return b;
}

double standard_normal(Rng& rng) {
    // Box-Muller, one value per pair of uniforms (simple and stateless).
    const double u1 = rng.uniform_open(), u2 = rng.uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

// Non-zeros per column for the skewed model: proportional to the column
// factors, capped at out_len, summing to exactly k.
std::vector<uint32_t> column_counts(const std::vector<double>& c, uint32_t out_len, uint64_t k) {
    const std::size_t n = c.size();
    std::vector<char> capped(n, 0);
    double scale = 0;
    for (;;) {
        uint64_t n_capped = 0;
        double sum = 0;
        for (std::size_t j = 0; j < n; ++j) {
            if (capped[j])
                ++n_capped;
            else
                sum += c[j];
        }
        const double remaining = double(k) - double(n_capped) * out_len;
        scale = sum > 0 ? remaining / sum : 0;
        bool changed = false;
        for (std::size_t j = 0; j < n; ++j) {
            if (!capped[j] && scale * c[j] >= out_len) {
                capped[j] = 1;
                changed = true;
            }
        }
        if (!changed) break;
    }
    std::vector<uint32_t> count(n);
    std::vector<double> frac(n);
    uint64_t total = 0;
    for (std::size_t j = 0; j < n; ++j) {
        const double e = capped[j] ? double(out_len) : std::min(scale * c[j], double(out_len));
        count[j] = uint32_t(std::floor(e));
        frac[j] = e - count[j];
        total += count[j];
    }
    // Largest remainder (ties: lower column first); the loops also absorb
    // any rounding slack of the floating-point sums.
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return frac[a] > frac[b]; });
    while (total < k) {
        for (uint32_t j : order) {
            if (total == k) break;
            if (count[j] < out_len) {
                ++count[j];
                ++total;
            }
        }
    }
    while (total > k) {
        for (auto it = order.rbegin(); it != order.rend() && total > k; ++it) {
            if (count[*it] > 0) {
                --count[*it];
                --total;
            }
        }
    }
    return count;
}

Bitmap skewed_subset(uint32_t in_len, uint32_t out_len, uint64_t k, Rng& skew_rng, Rng& rng) {
    std::vector<double> row_f(out_len), col_f(in_len);
    for (auto& f : row_f) f = std::exp(kSkewSigma * standard_normal(skew_rng));
    for (auto& f : col_f) f = std::exp(kSkewSigma * standard_normal(skew_rng));
    const std::vector<uint32_t> per_col = column_counts(col_f, out_len, k);

    // Walker/Vose alias table over the row factors: O(1) per weighted draw.
    std::vector<double> prob(out_len);
    std::vector<uint32_t> alias(out_len);
    {
        const double mean = std::accumulate(row_f.begin(), row_f.end(), 0.0) / out_len;
        std::vector<double> scaled(out_len);
        std::vector<uint32_t> small, large;
        for (uint32_t i = 0; i < out_len; ++i) {
            scaled[i] = row_f[i] / mean;
            (scaled[i] < 1.0 ? small : large).push_back(i);
        }
        while (!small.empty() && !large.empty()) {
            const uint32_t s = small.back(), l = large.back();
            small.pop_back();
            prob[s] = scaled[s];
            alias[s] = l;
            scaled[l] = (scaled[l] + scaled[s]) - 1.0;
            if (scaled[l] < 1.0) {
                large.pop_back();
                small.push_back(l);
            }
        }
        for (uint32_t i : large) prob[i] = 1.0, alias[i] = i;
        for (uint32_t i : small) prob[i] = 1.0, alias[i] = i;  // rounding leftovers
    }

    Bitmap b(uint64_t(in_len) * out_len);
    std::vector<std::pair<double, uint32_t>> keys(out_len);
    std::vector<uint8_t> taken(out_len, 0);  // rows drawn in the current column
    std::vector<uint32_t> rows;
    for (uint32_t j = 0; j < in_len; ++j) {
        const uint32_t n = per_col[j];
        if (n == 0) continue;
        if (n == out_len) {
            for (uint32_t i = 0; i < out_len; ++i) b.set(uint64_t(i) * in_len + j);
        } else if (n <= out_len / 4) {
            // Sparse column: weighted draws with replacement until n distinct rows.
            rows.clear();
            while (rows.size() < n) {
                const double u = rng.uniform() * out_len;
                uint32_t i = std::min(uint32_t(u), out_len - 1);
                if (u - i >= prob[i]) i = alias[i];
                if (!taken[i]) {
                    taken[i] = 1;
                    rows.push_back(i);
                }
            }
            for (uint32_t i : rows) {
                taken[i] = 0;
                b.set(uint64_t(i) * in_len + j);
            }
        } else {
            // Dense column: the n smallest exponential keys E_i / r_i.
            for (uint32_t i = 0; i < out_len; ++i) keys[i] = {-std::log(rng.uniform_open()) / row_f[i], i};
            std::nth_element(keys.begin(), keys.begin() + n, keys.end());
            for (uint32_t t = 0; t < n; ++t) b.set(uint64_t(keys[t].second) * in_len + j);
        }
    }
    return b;
}

// One value of the pruned-Laplacian model (see the top of the file).
float pruned_laplacian(Rng& rng, double threshold) {
    const double magnitude = threshold + kWeightScale * -std::log(rng.uniform_open());
    const bool negative = rng.next() >> 63;
    return float(negative ? -magnitude : magnitude);
}

}  // namespace

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    for (const auto& p : kPresets) names.emplace_back(p.name);
    return names;
}

SyntheticSpec preset(const std::string& name) {
    for (const PresetRow& p : kPresets) {
        if (name != p.name) continue;
        SyntheticSpec s;
        s.name = p.name;
        s.in_len = p.in_len;
        s.out_len = p.out_len;
        s.weight_density = p.weight_density;
        s.act_density = p.act_density;
        s.seed = p.seed;
        s.placement = p.placement;
        s.bias = p.bias;
        s.act = p.act;
        s.arch_overrides = p.arch_overrides;
        return s;
    }
    std::string valid;
    for (const auto& p : kPresets) valid += std::string(valid.empty() ? "" : ", ") + p.name;
    throw std::invalid_argument("unknown preset '" + name + "' (valid: " + valid + ")");
}

Placement parse_placement(const std::string& text) {
    if (text == "uniform") return Placement::uniform;
    if (text == "skewed") return Placement::skewed;
    throw std::invalid_argument("unknown placement '" + text + "' (valid: uniform, skewed)");
}

const char* to_string(Placement p) { return p == Placement::skewed ? "skewed" : "uniform"; }

FloatLayer make_synthetic_layer(const SyntheticSpec& spec) {
    validate(spec, true);
    FloatLayer L;
    L.name = spec.name;
    L.in_len = spec.in_len;
    L.out_len = spec.out_len;
    L.act = spec.act;
    const uint64_t total = uint64_t(spec.in_len) * spec.out_len;
    const uint64_t k = std::min<uint64_t>(total, uint64_t(std::llround(spec.weight_density * double(total))));
    L.weights.assign(total, 0.0f);

    Rng pos(spec.seed, kPositions);
    Bitmap chosen = [&] {
        if (spec.placement == Placement::skewed && k > 0) {
            Rng skew(spec.seed, kSkew);
            return skewed_subset(spec.in_len, spec.out_len, k, skew, pos);
        }
        return uniform_subset(total, k, pos);
    }();

    // Values in row-major order of the positions, from their own stream.
    Rng val(spec.seed, kValues);
    const double threshold = spec.weight_density > 0 ? kWeightScale * std::log(1.0 / spec.weight_density) : 0.0;
    float* w = L.weights.data();
    chosen.for_each([&](uint64_t p) { w[p] = pruned_laplacian(val, threshold); });

    if (spec.bias) {
        Rng bias(spec.seed, kBias);
        L.bias.resize(spec.out_len);
        for (auto& b : L.bias) b = pruned_laplacian(bias, 0.0);
    }
    return L;
}

std::vector<float> make_synthetic_input(const SyntheticSpec& spec) {
    validate(spec, false);
    const uint64_t n = spec.in_len;
    const uint64_t k = std::min<uint64_t>(n, uint64_t(std::llround(spec.act_density * double(n))));
    Rng pos(spec.seed, kInputPositions);
    Rng val(spec.seed, kInputValues);
    std::vector<float> a(n, 0.0f);
    uniform_subset(n, k, pos).for_each([&](uint64_t p) { a[p] = float(-std::log(val.uniform_open())); });
    return a;
}

}  // namespace eie
