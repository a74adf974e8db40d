// Helpers shared by the model testbenches: random quantised layers encoded
// into images, without going through files.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/compress/encode.hpp"
#include "eie/hw/golden.hpp"
#include "eie/hw/image.hpp"

namespace eie::test {

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
};

struct LayerShape {
    uint32_t in_len, out_len;
    double weight_density;
    bool bias = false;
    Activation act = Activation::relu;
};

// A random quantised layer with codes 1..2^b-1 and a codebook of mixed signs.
inline QuantLayer random_layer(const LayerShape& s, const ArchConfig& arch, Rng& rng, const char* name = "L") {
    QuantLayer q;
    q.name = name;
    q.in_len = s.in_len;
    q.out_len = s.out_len;
    q.has_bias = s.bias;
    q.act = s.act;
    q.fmt.in_frac = 8;
    q.fmt.w_frac = 10;
    q.fmt.out_frac = 8;
    const uint32_t k = arch.codebook_entries();
    q.codebook.assign(k, 0);
    q.codebook_float.assign(k, 0.0);
    for (uint32_t c = 1; c < k; ++c) {
        int32_t v = int32_t(rng.below(1200)) - 600;
        if (v == 0) v = 1;
        q.codebook[c] = v;
        q.codebook_float[c] = v / 1024.0;
    }
    const uint32_t cols = s.in_len + (s.bias ? 1 : 0);
    for (uint32_t c = 0; c < cols; ++c)
        for (uint32_t r = 0; r < s.out_len; ++r)
            if (rng.uniform() < s.weight_density) q.nonzeros.push_back({r, c, 1 + rng.below(k - 1)});
    return q;
}

// An empty hand-made layer (formats 8/10/8, codebook value c = step * c):
// the caller adds the non-zeros it needs for its scenario.
inline QuantLayer hand_layer(const char* name, uint32_t in_len, uint32_t out_len, int32_t step) {
    QuantLayer q;
    q.name = name;
    q.in_len = in_len;
    q.out_len = out_len;
    q.fmt = {8, 10, 8};
    q.codebook.assign(16, 0);
    q.codebook_float.assign(16, 0.0);
    for (int c = 1; c < 16; ++c) q.codebook[c] = step * c, q.codebook_float[c] = step * c / 1024.0;
    return q;
}

inline std::vector<int32_t> random_input(uint32_t n, double density, Rng& rng, int32_t max_value = 700) {
    std::vector<int32_t> a(n, 0);
    for (auto& v : a)
        if (rng.uniform() < density) v = 1 + int32_t(rng.below(uint32_t(max_value)));
    return a;
}

// A network of layers chained by shape, encoded, with its input and golden outputs.
inline Image make_image(const std::vector<LayerShape>& shapes, const ArchConfig& arch, uint64_t seed,
                        double act_density) {
    Rng rng(seed);
    std::vector<QuantLayer> layers;
    for (std::size_t k = 0; k < shapes.size(); ++k) layers.push_back(random_layer(shapes[k], arch, rng, "L"));
    for (std::size_t k = 0; k < layers.size(); ++k) layers[k].name = "L" + std::to_string(k);
    Image img = encode_layers(layers, arch);
    img.input = random_input(shapes[0].in_len, act_density, rng);
    img.expected = golden_run(img, img.input);
    return img;
}

}  // namespace eie::test
