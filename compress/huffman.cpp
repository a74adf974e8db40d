// Canonical Huffman coding.
//
// Lengths come from the textbook Huffman merge with a deterministic
// tie-break: among equal weights, the node created first merges first
// (leaves are "created" in symbol order, before every internal node). The
// codes are then canonical: symbols sorted by (length, symbol) get
// consecutive code values, each length step shifting left, so the lengths
// alone define the code (as in DEFLATE). Bits are packed MSB-first: bit k of
// the stream is bit 7 - k % 8 of byte k / 8.
#include "eie/compress/huffman.hpp"

#include <algorithm>
#include <queue>
#include <stdexcept>
#include <string>
#include <tuple>

namespace eie {

namespace {
constexpr uint32_t kMaxLength = 32;  // codes are held in uint32_t
}

HuffmanCode HuffmanCode::build(const std::vector<uint64_t>& frequencies) {
    const std::size_t n = frequencies.size();
    HuffmanCode hc;
    hc.lengths.assign(n, 0);
    hc.codes.assign(n, 0);

    // Nodes 0..n-1 are the leaves; internal nodes follow. parent[] gives the tree.
    std::vector<std::size_t> parent(n, 0);
    using Item = std::tuple<unsigned __int128, std::size_t>;  // (weight, node id): min-heap order
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
    for (std::size_t s = 0; s < n; ++s)
        if (frequencies[s]) heap.emplace(frequencies[s], s);
    if (heap.empty()) return hc;
    if (heap.size() == 1) {
        hc.lengths[std::get<1>(heap.top())] = 1;  // a lone symbol still needs one bit per occurrence
        return hc;
    }
    std::size_t next_id = n;
    while (heap.size() > 1) {
        auto [wa, a] = heap.top();
        heap.pop();
        auto [wb, b] = heap.top();
        heap.pop();
        parent.push_back(0);  // the new node's own parent, set when it merges
        parent[a] = parent[b] = next_id;
        heap.emplace(wa + wb, next_id++);  // 128-bit weights: sums of uint64 cannot overflow
    }
    const std::size_t root = next_id - 1;
    // Depth of each node: parents have larger ids, so walk ids downwards.
    std::vector<uint32_t> depth(parent.size(), 0);
    for (std::size_t id = root; id-- > 0;) {
        if (id < n && !frequencies[id]) continue;
        depth[id] = depth[parent[id]] + 1;
    }
    for (std::size_t s = 0; s < n; ++s) {
        if (!frequencies[s]) continue;
        if (depth[s] > kMaxLength)
            throw std::length_error("Huffman code: symbol " + std::to_string(s) + " needs a " +
                                    std::to_string(depth[s]) + "-bit code, more than the " +
                                    std::to_string(kMaxLength) + " supported (extremely skewed frequencies)");
        hc.lengths[s] = depth[s];
    }

    // Canonical code values.
    std::vector<uint32_t> order;
    for (std::size_t s = 0; s < n; ++s)
        if (hc.lengths[s]) order.push_back(uint32_t(s));
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
        return hc.lengths[a] != hc.lengths[b] ? hc.lengths[a] < hc.lengths[b] : a < b;
    });
    uint64_t code = 0;
    uint32_t len = hc.lengths[order[0]];
    for (std::size_t i = 0; i < order.size(); ++i) {
        const uint32_t l = hc.lengths[order[i]];
        if (i) code = (code + 1) << (l - len);
        len = l;
        hc.codes[order[i]] = uint32_t(code);
    }
    return hc;
}

uint64_t HuffmanCode::encoded_bits(const std::vector<uint64_t>& frequencies) const {
    uint64_t bits = 0;
    for (std::size_t s = 0; s < frequencies.size(); ++s) {
        if (!frequencies[s]) continue;
        if (s >= lengths.size() || lengths[s] == 0)
            throw std::invalid_argument("Huffman code: symbol " + std::to_string(s) +
                                        " occurs but has no code (the code was built from other frequencies)");
        bits += frequencies[s] * lengths[s];
    }
    return bits;
}

std::vector<uint8_t> HuffmanCode::encode(const std::vector<uint32_t>& symbols, uint64_t& bit_count) const {
    std::vector<uint8_t> out;
    bit_count = 0;
    for (std::size_t i = 0; i < symbols.size(); ++i) {
        const uint32_t s = symbols[i];
        if (s >= lengths.size() || lengths[s] == 0)
            throw std::invalid_argument("Huffman encode: symbol " + std::to_string(s) + " at position " +
                                        std::to_string(i) + " has no code (allowed: symbols with a non-zero "
                                        "frequency when the code was built)");
        for (uint32_t b = lengths[s]; b-- > 0;) {
            if (bit_count % 8 == 0) out.push_back(0);
            if ((codes[s] >> b) & 1) out.back() |= uint8_t(0x80u >> (bit_count % 8));
            ++bit_count;
        }
    }
    return out;
}

std::vector<uint32_t> HuffmanCode::decode(const std::vector<uint8_t>& bits, uint64_t bit_count) const {
    if (bit_count > uint64_t(bits.size()) * 8)
        throw std::invalid_argument("Huffman decode: bit_count = " + std::to_string(bit_count) + " exceeds the " +
                                    std::to_string(bits.size() * 8) + " bits given");
    // Canonical decoding tables: for each length, the first code, how many
    // codes have it, and where its symbols start in the (length, symbol) order.
    uint32_t max_len = 0;
    for (uint32_t l : lengths) max_len = std::max(max_len, l);
    std::vector<uint64_t> count(max_len + 1, 0), first(max_len + 1, 0), offset(max_len + 1, 0);
    std::vector<uint32_t> sorted;
    for (uint32_t l = 1; l <= max_len; ++l)
        for (std::size_t s = 0; s < lengths.size(); ++s)
            if (lengths[s] == l) {
                sorted.push_back(uint32_t(s));
                ++count[l];
            }
    uint64_t code = 0, index = 0;
    for (uint32_t l = 1; l <= max_len; ++l) {
        code <<= 1;
        first[l] = code;
        offset[l] = index;
        code += count[l];
        index += count[l];
    }

    std::vector<uint32_t> out;
    uint64_t pos = 0;
    while (pos < bit_count) {
        const uint64_t start = pos;
        uint64_t c = 0;
        uint32_t l = 0;
        for (;;) {
            if (l == max_len)
                throw std::invalid_argument("Huffman decode: invalid code at bit " + std::to_string(start));
            if (pos == bit_count)
                throw std::invalid_argument("Huffman decode: the stream ends inside a code (at bit " +
                                            std::to_string(start) + " of " + std::to_string(bit_count) + ")");
            c = (c << 1) | ((bits[pos / 8] >> (7 - pos % 8)) & 1);
            ++pos;
            ++l;
            if (c - first[l] < count[l] && c >= first[l]) {
                out.push_back(sorted[offset[l] + (c - first[l])]);
                break;
            }
        }
    }
    return out;
}

}  // namespace eie
