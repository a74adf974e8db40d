// A fixed, portable pseudo-random generator for everything that must be
// reproducible across machines and standard libraries (synthetic layers,
// random k-means initialisation). std::mt19937 itself is portable, but the
// std distributions are not (libstdc++ and libc++ map bits to values
// differently), so the mapping to integers and doubles is done here too.
//
// Generator: xoshiro256** (Blackman and Vigna), seeded through splitmix64 so
// any 64-bit seed, including 0, gives a well-mixed state. Independent streams
// for one seed are derived with a stream number (see Rng(seed, stream)).
#pragma once

#include <cstdint>

namespace eie {

inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

class Rng {
public:
    explicit Rng(uint64_t seed, uint64_t stream = 0) {
        // Mix the stream number in through one splitmix step of its own so
        // that (seed, stream) pairs do not collide for nearby values.
        uint64_t s = stream;
        uint64_t sm = seed ^ splitmix64(s);
        for (auto& w : s_) w = splitmix64(sm);
    }

    // A generator with the given raw state (for checking against the
    // published xoshiro256** reference outputs).
    static Rng from_state(uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3) {
        Rng r(0);
        r.s_[0] = s0;
        r.s_[1] = s1;
        r.s_[2] = s2;
        r.s_[3] = s3;
        return r;
    }

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // Uniform in [0, 1), 53 random bits.
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }
    // Uniform in (0, 1): never 0 nor 1, safe under log().
    double uniform_open() { return (double(next() >> 12) + 0.5) * 0x1.0p-52; }

    // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's
    // multiply-and-reject method).
    uint64_t below(uint64_t n) {
        unsigned __int128 m = (unsigned __int128)next() * n;
        uint64_t low = uint64_t(m);
        if (low < n) {
            const uint64_t threshold = (0 - n) % n;
            while (low < threshold) {
                m = (unsigned __int128)next() * n;
                low = uint64_t(m);
            }
        }
        return uint64_t(m >> 64);
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

}  // namespace eie
