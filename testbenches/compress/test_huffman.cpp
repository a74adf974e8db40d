// Canonical Huffman coding: optimal lengths on known distributions, the
// canonical code shape, round trips, edge cases and error handling.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "eie/compress/huffman.hpp"
#include "eie/hw/rng.hpp"

using eie::HuffmanCode;

namespace {

// The optimal total cost computed independently of the tree: the sum of the
// weights of all merged nodes (each merge adds one bit to every symbol below).
uint64_t optimal_cost(std::vector<uint64_t> f) {
    f.erase(std::remove(f.begin(), f.end(), 0u), f.end());
    if (f.size() <= 1) return f.empty() ? 0 : f[0];  // a lone symbol: 1 bit each
    std::multiset<uint64_t> s(f.begin(), f.end());
    uint64_t cost = 0;
    while (s.size() > 1) {
        const uint64_t a = *s.begin();
        s.erase(s.begin());
        const uint64_t b = *s.begin();
        s.erase(s.begin());
        cost += a + b;
        s.insert(a + b);
    }
    return cost;
}

// Kraft sum == 1 (a complete code), codes prefix-free, canonical order.
void check_canonical(const HuffmanCode& hc) {
    std::vector<std::pair<uint32_t, uint32_t>> used;  // (length, symbol)
    double kraft = 0;
    for (uint32_t s = 0; s < hc.lengths.size(); ++s)
        if (hc.lengths[s]) {
            used.emplace_back(hc.lengths[s], s);
            kraft += std::ldexp(1.0, -int(hc.lengths[s]));
        }
    if (used.size() >= 2) CHECK(kraft == Approx(1.0).epsilon(1e-12));
    std::sort(used.begin(), used.end());
    for (std::size_t i = 1; i < used.size(); ++i) {
        const auto [la, a] = used[i - 1];
        const auto [lb, b] = used[i];
        // In (length, symbol) order, each code is the previous one plus one,
        // shifted to the new length.
        CHECK(uint64_t(hc.codes[b]) == (uint64_t(hc.codes[a]) + 1) << (lb - la));
        for (std::size_t j = 0; j < i; ++j) {  // no code is a prefix of a later (longer or equal) one
            const auto [lj, sj] = used[j];
            CHECK((hc.codes[b] >> (lb - lj)) != hc.codes[sj]);
        }
    }
}

}  // namespace

TEST_CASE("huffman: dyadic frequencies get lengths -log2(p) and cost = entropy", "[huffman]") {
    const std::vector<uint64_t> f = {800, 400, 200, 200};  // 1/2, 1/4, 1/8, 1/8
    const HuffmanCode hc = HuffmanCode::build(f);
    CHECK(hc.lengths == std::vector<uint32_t>{1, 2, 3, 3});
    CHECK(hc.codes == std::vector<uint32_t>{0b0, 0b10, 0b110, 0b111});
    const double entropy = 0.5 * 1 + 0.25 * 2 + 0.125 * 3 * 2;
    CHECK(hc.encoded_bits(f) == uint64_t(entropy * 1600));
    CHECK(hc.encoded_bits(f) == 2800);
    check_canonical(hc);
}

TEST_CASE("huffman: the textbook example (CLRS 16.3) costs 224", "[huffman]") {
    // a:45 b:13 c:12 d:16 e:9 f:5 (thousands): optimal lengths 1,3,3,3,4,4.
    const std::vector<uint64_t> f = {45, 13, 12, 16, 9, 5};
    const HuffmanCode hc = HuffmanCode::build(f);
    CHECK(hc.lengths == std::vector<uint32_t>{1, 3, 3, 3, 4, 4});
    CHECK(hc.encoded_bits(f) == 224);
    check_canonical(hc);
    // Canonical: a=0, b=100, c=101, d=110, e=1110, f=1111.
    CHECK(hc.codes == std::vector<uint32_t>{0b0, 0b100, 0b101, 0b110, 0b1110, 0b1111});
}

TEST_CASE("huffman: optimal and canonical on random distributions, ties are deterministic", "[huffman]") {
    eie::Rng rng(17);
    for (int trial = 0; trial < 200; ++trial) {
        const std::size_t n = 2 + rng.below(trial < 100 ? 16 : 300);
        std::vector<uint64_t> f(n);
        for (auto& x : f) x = rng.below(4) == 0 ? 0 : rng.below(trial % 3 == 0 ? 5 : 100000);
        if (std::count_if(f.begin(), f.end(), [](uint64_t x) { return x > 0; }) == 0) f[0] = 1;
        const HuffmanCode hc = HuffmanCode::build(f);
        INFO("trial " << trial);
        CHECK(hc.encoded_bits(f) == optimal_cost(f));
        for (std::size_t s = 0; s < n; ++s) CHECK((hc.lengths[s] == 0) == (f[s] == 0));
        check_canonical(hc);
        const HuffmanCode again = HuffmanCode::build(f);
        CHECK(again.lengths == hc.lengths);
        CHECK(again.codes == hc.codes);
    }
    // Equal weights: leaves merge in symbol order, so symbols 0 and 1 go deeper.
    CHECK(HuffmanCode::build({1, 1, 1}).lengths == std::vector<uint32_t>{2, 2, 1});
    CHECK(HuffmanCode::build({1, 1, 1}).codes == std::vector<uint32_t>{0b10, 0b11, 0b0});
    CHECK(HuffmanCode::build({5, 5, 5, 5}).lengths == std::vector<uint32_t>{2, 2, 2, 2});
}

TEST_CASE("huffman: random symbol streams round-trip through encode and decode", "[huffman]") {
    eie::Rng rng(23);
    for (int trial = 0; trial < 60; ++trial) {
        const std::size_t alphabet = 1 + rng.below(trial < 30 ? 16 : 256);
        // A skewed source (geometric-like) so lengths differ.
        std::vector<uint32_t> symbols(1 + rng.below(5000));
        for (auto& s : symbols) {
            uint32_t v = 0;
            while (v + 1 < alphabet && rng.below(3) != 0) ++v;
            s = v;
        }
        std::vector<uint64_t> f(alphabet, 0);
        for (uint32_t s : symbols) ++f[s];
        const HuffmanCode hc = HuffmanCode::build(f);
        uint64_t nbits = 0;
        const auto bytes = hc.encode(symbols, nbits);
        INFO("trial " << trial << " alphabet " << alphabet << " symbols " << symbols.size());
        CHECK(nbits == hc.encoded_bits(f));
        CHECK(bytes.size() == (nbits + 7) / 8);
        CHECK(hc.decode(bytes, nbits) == symbols);
    }
}

TEST_CASE("huffman: MSB-first packing, single-symbol and empty alphabets", "[huffman]") {
    const HuffmanCode hc = HuffmanCode::build({800, 400, 200, 200});  // 0, 10, 110, 111
    uint64_t nbits = 0;
    const auto bytes = hc.encode({3, 0, 1, 2, 0, 0}, nbits);
    // 111 0 10 110 0 0 -> 1110 1011 0000 (11 bits), MSB first
    CHECK(nbits == 11);
    CHECK(bytes == std::vector<uint8_t>{0xEB, 0x00});
    CHECK(hc.decode(bytes, nbits) == std::vector<uint32_t>{3, 0, 1, 2, 0, 0});

    const HuffmanCode one = HuffmanCode::build({0, 0, 7, 0});
    CHECK(one.lengths == std::vector<uint32_t>{0, 0, 1, 0});
    CHECK(one.encoded_bits({0, 0, 7, 0}) == 7);
    const auto ob = one.encode(std::vector<uint32_t>(7, 2), nbits);
    CHECK(nbits == 7);
    CHECK(one.decode(ob, nbits) == std::vector<uint32_t>(7, 2));

    const HuffmanCode none = HuffmanCode::build({0, 0, 0});
    CHECK(none.lengths == std::vector<uint32_t>{0, 0, 0});
    CHECK(none.encoded_bits({0, 0, 0}) == 0);
    CHECK(none.encode({}, nbits).empty());
    CHECK(nbits == 0);
    CHECK(none.decode({}, 0).empty());
    CHECK(HuffmanCode::build({}).lengths.empty());
}

TEST_CASE("huffman: bad streams and symbols without a code are rejected", "[huffman]") {
    using Catch::Contains;
    const HuffmanCode hc = HuffmanCode::build({800, 400, 200, 0});  // symbol 3 absent
    uint64_t nbits = 0;
    CHECK_THROWS_WITH(hc.encode({0, 3}, nbits), Contains("symbol 3 at position 1 has no code"));
    CHECK_THROWS_WITH(hc.encode({9}, nbits), Contains("symbol 9"));
    CHECK_THROWS_WITH(hc.encoded_bits({1, 1, 1, 1}), Contains("symbol 3"));
    // Codes are {0, 10, 11}: a lone "1" ends inside a code.
    CHECK_THROWS_WITH(hc.decode({0x80}, 1), Contains("ends inside a code"));
    CHECK_THROWS_WITH(hc.decode({0x00}, 9), Contains("exceeds"));
    const HuffmanCode one = HuffmanCode::build({0, 4});
    CHECK_THROWS_WITH(one.decode({0x80}, 1), Contains("invalid code at bit 0"));
    // Fibonacci frequencies make the deepest code longer than 32 bits.
    std::vector<uint64_t> fib = {1, 1};
    while (fib.size() < 40) fib.push_back(fib[fib.size() - 1] + fib[fib.size() - 2]);
    CHECK_THROWS_AS(HuffmanCode::build(fib), std::length_error);
    fib.resize(30);  // depth 29: fine
    const HuffmanCode deep = HuffmanCode::build(fib);
    CHECK(*std::max_element(deep.lengths.begin(), deep.lengths.end()) == 29);
    CHECK(deep.encoded_bits(fib) == optimal_cost(fib));
}
