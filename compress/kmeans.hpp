// 1-D k-means weight sharing (Deep Compression step 2).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eie {

enum class KmeansInit { linear, density, random };
KmeansInit parse_kmeans_init(const std::string& text);  // "linear" | "density" | "random"
const char* to_string(KmeansInit i);

struct Codebook {
    // centroids[0] is the reserved exact zero; centroids[1..] are the shared
    // weights in ascending order (unused slots, if fewer distinct values than
    // 2^bits - 1, repeat nothing: codebook size is still 2^bits, padded with 0).
    std::vector<double> centroids;
    std::vector<uint8_t> assignment;  // per input value: its index (>= 1)
    uint32_t used = 0;                // non-zero centroids in use
    uint32_t iterations = 0;
    bool exact = false;               // the input had <= 2^bits - 1 distinct values, kept as is
    double sse = 0;                   // sum of squared quantisation errors
    double snr_db = 0;                // 10 log10(sum w^2 / sse); +inf when exact
};

// Clusters the (non-zero) values into at most 2^bits - 1 centroids.
// Deterministic for a given seed (the seed only matters for random init).
// values must be finite and non-zero (std::invalid_argument otherwise, naming
// the position); bits 1..8. One iteration costs O(2^bits log n) after one
// sort, and 1-D Lloyd needs a few hundred iterations to converge at 5-6 bits,
// hence the default of 1000. compress/kmeans.cpp documents the init, the
// zero-centroid and the empty-cluster rules.
Codebook kmeans_1d(const std::vector<double>& values, uint32_t bits, KmeansInit init, uint64_t seed = 1,
                   uint32_t max_iterations = 1000);

}  // namespace eie
