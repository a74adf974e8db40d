// The pointer SRAM of a PE, split in an even and an odd bank by address LSB,
// so the pair p[j], p[j+1] of any column is read in one cycle, one word from
// each bank (docs/reference.md, "Per-PE memories").
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace eie {

class PointerSram {
public:
    void resize(uint64_t words) { bank_[0].assign((words + 1) / 2, 0); bank_[1].assign(words / 2 + 1, 0); words_ = words; }
    uint64_t words() const { return words_; }

    uint32_t word(uint64_t addr) const { return bank_[addr & 1][addr >> 1]; }
    uint32_t bank_word(uint32_t bank, uint64_t row) const { return bank_[bank][row]; }
    void set_word(uint64_t addr, uint32_t v) { bank_[addr & 1][addr >> 1] = v; }
    // Bank `bank`'s words (host window and direct memory access).
    uint32_t* bank_data(uint32_t bank) { return bank_[bank].data(); }

    // Reads p[addr] and p[addr+1]: one access to each bank.
    std::pair<uint32_t, uint32_t> read_pair(uint64_t addr, uint64_t& even_reads, uint64_t& odd_reads) const {
        ++even_reads;
        ++odd_reads;
        return {word(addr), word(addr + 1)};
    }

private:
    std::vector<uint32_t> bank_[2];
    uint64_t words_ = 0;
};

}  // namespace eie
