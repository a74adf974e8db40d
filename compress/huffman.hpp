// Canonical Huffman coding, used to account for the storage of weight indices
// and relative indices the way Deep Compression does (step 3).
#pragma once

#include <cstdint>
#include <vector>

namespace eie {

struct HuffmanCode {
    std::vector<uint32_t> lengths;  // per symbol; 0 = symbol absent
    std::vector<uint32_t> codes;    // canonical codes, MSB first, `lengths[s]` bits
    // Builds an optimal length-limited-free code for the frequencies (a single
    // used symbol gets a 1-bit code).
    static HuffmanCode build(const std::vector<uint64_t>& frequencies);
    uint64_t encoded_bits(const std::vector<uint64_t>& frequencies) const;
    std::vector<uint8_t> encode(const std::vector<uint32_t>& symbols, uint64_t& bit_count) const;
    std::vector<uint32_t> decode(const std::vector<uint8_t>& bits, uint64_t bit_count) const;
};

}  // namespace eie
