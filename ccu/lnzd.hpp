// Leading non-zero detection (LNZD).
//
// An LnzdNode looks at the non-zero flags of its children (4 in the paper)
// and reports whether any is set and which one leads (lowest index). Nodes
// form a tree over the N PEs (16 + 4 + 1 = 21 nodes for 64 PEs); any N >= 1
// works, the last node of a level simply has fewer children. The tree finds
// the leading non-zero activation of a pack; after it is broadcast its flag
// is cleared and the tree finds the next one, so a pack's non-zeros leave in
// index order.
#pragma once

#include <cstdint>
#include <vector>

namespace eie {

struct LnzdNode {
    // Index of the first set flag among flags[0..n), or -1 if none.
    static int lead(const uint8_t* flags, uint32_t n) {
        for (uint32_t i = 0; i < n; ++i)
            if (flags[i]) return int(i);
        return -1;
    }
};

class LnzdTree {
public:
    LnzdTree(uint32_t leaves = 1, uint32_t fanout = 4) { configure(leaves, fanout); }
    void configure(uint32_t leaves, uint32_t fanout);

    uint32_t leaves() const { return leaves_; }
    uint32_t levels() const { return static_cast<uint32_t>(any_.size()); }
    uint32_t nodes() const { return nodes_; }

    // Loads the non-zero flags of a pack (one per PE).
    void load(const uint8_t* nonzero);
    bool any() const { return any_.back()[0] != 0; }
    bool leaf(uint32_t i) const { return leaf_[i] != 0; }
    // The leading set leaf, found from the root down; -1 for an all-zero pack.
    int lead() const;
    // Clears a leaf after its activation was broadcast.
    void clear(uint32_t leaf);

private:
    uint32_t leaves_ = 1, fanout_ = 4, nodes_ = 1;
    std::vector<uint8_t> leaf_;                // the PEs' flags
    std::vector<std::vector<uint8_t>> any_;    // any_[level][node]: some flag set below
};

}  // namespace eie
