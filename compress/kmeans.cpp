// 1-D k-means (Lloyd) for weight sharing.
//
// The values are sorted once. In one dimension with sorted centroids every
// cluster is a contiguous run of the sorted values, delimited by the
// midpoints between neighbouring centroids, so an iteration is k binary
// searches (assignment) plus k differences of prefix sums (update):
// O(k log n) per iteration after the O(n log n) sort. Prefix sums are kept
// in long double so cluster means of millions of values stay accurate.
//
// Rules (deterministic for a given seed):
// - A value exactly on a midpoint belongs to the lower cluster.
// - Index 0 is reserved for exact zero, so no centroid may be 0.0. A
//   centroid that comes out as exactly 0 (the mean of a cluster straddling
//   zero, or a linear-init grid point) is moved to the member of its cluster
//   closest to zero (at initialisation: to the value closest to zero). All
//   inputs are non-zero, so this is a non-zero value inside the cluster.
// - Empty clusters are re-seeded: the empty centroid is dropped and the
//   cluster with the largest squared error (lowest index on ties) is split
//   by adding a centroid at its member farthest from its centroid (the lower
//   end on ties). Initialisations that yield duplicate centroids are
//   completed the same way. Only if max_iterations runs out with a cluster
//   empty is that centroid dropped, and `used` is then below 2^bits - 1.
// - Converged when an update leaves every centroid unchanged.
// - Initialisations (2^bits - 1 = K centroids):
//   linear:  K points evenly spaced over [min, max] (endpoints included);
//   density: the quantiles (t + 0.5) / K, t = 0..K-1, of the values (evenly
//            spaced over the CDF, centred in each of K equal-mass slices);
//   random:  Forgy, K distinct values drawn uniformly from the inputs with
//            eie::Rng(seed).
#include "eie/compress/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "eie/hw/rng.hpp"

namespace eie {

KmeansInit parse_kmeans_init(const std::string& text) {
    if (text == "linear") return KmeansInit::linear;
    if (text == "density") return KmeansInit::density;
    if (text == "random") return KmeansInit::random;
    throw std::invalid_argument("unknown k-means initialisation '" + text + "' (valid: linear, density, random)");
}

const char* to_string(KmeansInit i) {
    switch (i) {
        case KmeansInit::linear: return "linear";
        case KmeansInit::density: return "density";
        case KmeansInit::random: return "random";
    }
    return "?";
}

namespace {

// Sorts doubles ascending with an LSD radix sort on order-preserving 64-bit
// keys (4 passes of 16 bits): several times faster than std::sort for the
// millions of weights of a large layer. Finite values only (checked before);
// -0.0 cannot occur (zeros are rejected).
void radix_sort(std::vector<double>& v) {
    const std::size_t n = v.size();
    std::vector<uint64_t> a(n), b(n);
    for (std::size_t i = 0; i < n; ++i) {
        uint64_t u;
        std::memcpy(&u, &v[i], 8);
        a[i] = (u >> 63) ? ~u : (u | (uint64_t(1) << 63));
    }
    std::vector<std::size_t> count(4 << 16, 0);
    for (uint64_t key : a)
        for (int d = 0; d < 4; ++d) ++count[(std::size_t(d) << 16) + ((key >> (16 * d)) & 0xffff)];
    for (int d = 0; d < 4; ++d) {
        std::size_t* c = &count[std::size_t(d) << 16];
        if (c[(a.empty() ? 0 : (a[0] >> (16 * d)) & 0xffff)] == n) continue;  // all keys share this digit
        std::size_t sum = 0;
        for (std::size_t j = 0; j < (1u << 16); ++j) {
            const std::size_t t = c[j];
            c[j] = sum;
            sum += t;
        }
        for (uint64_t key : a) b[c[(key >> (16 * d)) & 0xffff]++] = key;
        a.swap(b);
    }
    for (std::size_t i = 0; i < n; ++i) {
        const uint64_t key = a[i];
        const uint64_t u = (key >> 63) ? (key & ~(uint64_t(1) << 63)) : ~key;
        std::memcpy(&v[i], &u, 8);
    }
}

class Clusterer {
public:
    explicit Clusterer(std::vector<double> sorted) : x_(std::move(sorted)), s1_(x_.size() + 1), s2_(x_.size() + 1) {
        s1_[0] = s2_[0] = 0;
        for (std::size_t i = 0; i < x_.size(); ++i) {
            s1_[i + 1] = s1_[i] + x_[i];
            s2_[i + 1] = s2_[i] + (long double)x_[i] * x_[i];
        }
    }

    const std::vector<double>& x() const { return x_; }

    // ends[t] = one past the last sorted index of cluster t (c sorted, distinct).
    std::vector<std::size_t> ranges(const std::vector<double>& c) const {
        std::vector<std::size_t> ends(c.size());
        for (std::size_t t = 0; t + 1 < c.size(); ++t) {
            const double mid = 0.5 * (c[t] + c[t + 1]);
            ends[t] = std::size_t(std::upper_bound(x_.begin(), x_.end(), mid) - x_.begin());
        }
        if (!c.empty()) ends.back() = x_.size();
        return ends;
    }

    long double sse(std::size_t lo, std::size_t hi, double c) const {
        const long double n = (long double)(hi - lo), s = s1_[hi] - s1_[lo], q = s2_[hi] - s2_[lo];
        const long double e = q - 2 * (long double)c * s + (long double)c * c * n;
        return e > 0 ? e : 0;
    }

    double mean(std::size_t lo, std::size_t hi) const {
        return double((s1_[hi] - s1_[lo]) / (long double)(hi - lo));
    }

    // The value in [lo, hi) closest to zero (the negative one on ties).
    double closest_to_zero(std::size_t lo, std::size_t hi) const {
        auto it = std::lower_bound(x_.begin() + lo, x_.begin() + hi, 0.0);
        const std::size_t p = std::size_t(it - x_.begin());
        if (p == hi) return x_[hi - 1];
        if (p == lo) return x_[lo];
        return -x_[p - 1] <= x_[p] ? x_[p - 1] : x_[p];
    }

    // Sorts, removes duplicates and zeros, then splits clusters until there
    // are k centroids (or no cluster has two distinct values left).
    void complete(std::vector<double>& c, std::size_t k) const {
        for (double& v : c)
            if (v == 0.0) v = closest_to_zero(0, x_.size());
        std::sort(c.begin(), c.end());
        c.erase(std::unique(c.begin(), c.end()), c.end());
        while (c.size() < k) {
            const auto ends = ranges(c);
            long double best = -1;
            std::size_t best_t = 0, lo = 0;
            for (std::size_t t = 0; t < c.size(); lo = ends[t], ++t) {
                if (ends[t] == lo || x_[lo] == x_[ends[t] - 1]) continue;  // fewer than 2 distinct values
                const long double e = sse(lo, ends[t], c[t]);
                if (e > best) {
                    best = e;
                    best_t = t;
                }
            }
            if (best < 0) return;  // every cluster is a single value: nothing to split
            const std::size_t b_lo = best_t ? ends[best_t - 1] : 0, b_hi = ends[best_t];
            const double low = x_[b_lo], high = x_[b_hi - 1], ct = c[best_t];
            const double seed = (ct - low) >= (high - ct) ? low : high;
            c.insert(std::upper_bound(c.begin(), c.end(), seed), seed);
        }
    }

private:
    std::vector<double> x_;
    std::vector<long double> s1_, s2_;
};

std::string num(double v) {
    std::ostringstream s;
    s.precision(17);
    s << v;
    return s.str();
}

void check_kmeans_input(const std::vector<double>& values, uint32_t bits) {
    if (bits < 1 || bits > 8)
        throw std::invalid_argument("k-means: bits = " + std::to_string(bits) +
                                    " is invalid (allowed: 1 .. 8; indices are stored in 8 bits)");
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] == 0.0 || !std::isfinite(values[i]))
            throw std::invalid_argument("k-means: value " + std::to_string(i) + " = " + num(values[i]) +
                                        " is invalid (allowed: finite and non-zero; index 0 is the exact zero)");
    }
}

// Few enough distinct values (`sorted`, all of them): keep them exactly.
void keep_exact_values(std::vector<double> sorted, const std::vector<double>& values, Codebook& cb) {
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::copy(sorted.begin(), sorted.end(), cb.centroids.begin() + 1);
    for (std::size_t i = 0; i < values.size(); ++i)
        cb.assignment[i] = uint8_t(1 + (std::lower_bound(sorted.begin(), sorted.end(), values[i]) - sorted.begin()));
    cb.used = uint32_t(sorted.size());
    cb.exact = true;
    cb.snr_db = std::numeric_limits<double>::infinity();
}

// The k starting centroids (`values` for random draws, `cl` holds them sorted).
std::vector<double> initial_centroids(const Clusterer& cl, const std::vector<double>& values, std::size_t k,
                                      KmeansInit init, uint64_t seed) {
    const std::vector<double>& x = cl.x();
    const std::size_t n = x.size();
    std::vector<double> c;
    switch (init) {
        case KmeansInit::linear:
            for (std::size_t t = 0; t < k; ++t)
                c.push_back(k == 1 ? 0.5 * (x.front() + x.back())
                                   : x.front() + (x.back() - x.front()) * double(t) / double(k - 1));
            break;
        case KmeansInit::density:
            for (std::size_t t = 0; t < k; ++t)
                c.push_back(x[std::min(n - 1, std::size_t((double(t) + 0.5) / double(k) * double(n)))]);
            break;
        case KmeansInit::random: {
            Rng rng(seed, 7);
            // Distinct values by rejection; the attempt cap only matters when
            // a few values dominate, and complete() then fills the rest.
            for (std::size_t attempts = 0; c.size() < k && attempts < 64 * k + 1024; ++attempts) {
                const double v = values[rng.below(values.size())];
                if (std::find(c.begin(), c.end(), v) == c.end()) c.push_back(v);
            }
            break;
        }
    }
    cl.complete(c, k);
    return c;
}

// The centroids whose cluster (ending at `ends`) is not empty.
void drop_empty_clusters(std::vector<double>& c, const std::vector<std::size_t>& ends) {
    std::vector<double> kept;
    for (std::size_t t = 0; t < c.size(); ++t)
        if (ends[t] != (t ? ends[t - 1] : 0)) kept.push_back(c[t]);
    c.swap(kept);
}

// Lloyd iterations from `c` until nothing moves or `max_iterations`; an empty
// cluster's centroid is replaced (complete()), or dropped at the limit.
void lloyd(const Clusterer& cl, std::vector<double>& c, std::size_t k, uint32_t max_iterations, Codebook& cb) {
    std::vector<double> next(c.size());
    for (;;) {
        const auto ends = cl.ranges(c);
        bool empty = false;
        for (std::size_t t = 0; t < c.size(); ++t) empty |= ends[t] == (t ? ends[t - 1] : 0);
        if (cb.iterations >= max_iterations) {
            if (empty) drop_empty_clusters(c, ends);
            break;
        }
        ++cb.iterations;
        if (empty) {
            drop_empty_clusters(c, ends);
            cl.complete(c, k);
            continue;
        }
        next.resize(c.size());
        for (std::size_t t = 0, lo = 0; t < c.size(); lo = ends[t], ++t) {
            next[t] = cl.mean(lo, ends[t]);
            if (next[t] == 0.0) next[t] = cl.closest_to_zero(lo, ends[t]);
        }
        if (next == c) break;
        c.swap(next);
    }
}

// Final assignment of every input value to its nearest centroid, and the error it leaves.
void assign_values(const std::vector<double>& c, const std::vector<double>& values, Codebook& cb) {
    std::vector<double> mids;
    for (std::size_t t = 0; t + 1 < c.size(); ++t) mids.push_back(0.5 * (c[t] + c[t + 1]));
    double signal = 0, sse = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::size_t t = std::size_t(std::lower_bound(mids.begin(), mids.end(), values[i]) - mids.begin());
        cb.assignment[i] = uint8_t(t + 1);
        const double e = values[i] - c[t];
        sse += e * e;
        signal += values[i] * values[i];
    }
    std::copy(c.begin(), c.end(), cb.centroids.begin() + 1);
    cb.used = uint32_t(c.size());
    cb.sse = sse;
    cb.snr_db = sse > 0 ? 10.0 * std::log10(signal / sse) : std::numeric_limits<double>::infinity();
}

}  // namespace

Codebook kmeans_1d(const std::vector<double>& values, uint32_t bits, KmeansInit init, uint64_t seed,
                   uint32_t max_iterations) {
    check_kmeans_input(values, bits);
    const std::size_t k = (std::size_t(1) << bits) - 1;
    Codebook cb;
    cb.centroids.assign(k + 1, 0.0);
    cb.assignment.resize(values.size());
    if (values.empty()) {
        cb.exact = true;
        cb.snr_db = std::numeric_limits<double>::infinity();
        return cb;
    }
    std::vector<double> sorted = values;
    radix_sort(sorted);
    std::size_t distinct = 1;
    for (std::size_t i = 1; i < sorted.size() && distinct <= k; ++i) distinct += sorted[i] != sorted[i - 1];
    if (distinct <= k) {
        keep_exact_values(std::move(sorted), values, cb);
        return cb;
    }
    const Clusterer cl(std::move(sorted));
    std::vector<double> c = initial_centroids(cl, values, k, init, seed);
    lloyd(cl, c, k, max_iterations, cb);
    assign_values(c, values, cb);
    return cb;
}

}  // namespace eie
