#include "eie/ccu/lnzd.hpp"

#include <algorithm>

namespace eie {

void LnzdTree::configure(uint32_t leaves, uint32_t fanout) {
    leaves_ = std::max<uint32_t>(leaves, 1);
    fanout_ = std::max<uint32_t>(fanout, 2);
    leaf_.assign(leaves_, 0);
    any_.clear();
    nodes_ = 0;
    uint32_t width = leaves_;
    do {
        width = (width + fanout_ - 1) / fanout_;
        any_.emplace_back(width, 0);
        nodes_ += width;
    } while (width > 1);
}

void LnzdTree::load(const uint8_t* nonzero) {
    std::copy(nonzero, nonzero + leaves_, leaf_.begin());
    const uint8_t* below = leaf_.data();
    uint32_t below_n = leaves_;
    for (auto& level : any_) {
        for (uint32_t n = 0; n < level.size(); ++n) {
            uint32_t first = n * fanout_, count = std::min(fanout_, below_n - first);
            level[n] = LnzdNode::lead(below + first, count) >= 0;
        }
        below = level.data();
        below_n = static_cast<uint32_t>(level.size());
    }
}

int LnzdTree::lead() const {
    if (!any()) return -1;
    uint32_t node = 0;
    // descend: at each level pick the leading child that has a flag below it
    for (int lv = int(any_.size()) - 1; lv >= 0; --lv) {
        const uint8_t* child = lv > 0 ? any_[lv - 1].data() : leaf_.data();
        uint32_t child_n = lv > 0 ? static_cast<uint32_t>(any_[lv - 1].size()) : leaves_;
        uint32_t first = node * fanout_, count = std::min(fanout_, child_n - first);
        node = first + uint32_t(LnzdNode::lead(child + first, count));
    }
    return int(node);
}

void LnzdTree::clear(uint32_t leaf) {
    leaf_[leaf] = 0;
    const uint8_t* below = leaf_.data();
    uint32_t below_n = leaves_, idx = leaf;
    for (auto& level : any_) {
        uint32_t n = idx / fanout_, first = n * fanout_, count = std::min(fanout_, below_n - first);
        level[n] = LnzdNode::lead(below + first, count) >= 0;
        below = level.data();
        below_n = static_cast<uint32_t>(level.size());
        idx = n;
    }
}

}  // namespace eie
