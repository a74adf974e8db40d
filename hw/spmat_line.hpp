// The sparse-matrix SRAM line: entries_per_line slots of entry_bits
// (weight_bits + index_bits), slot k at bits [k*entry_bits, (k+1)*entry_bits),
// the line stored little-endian in line_bytes bytes (bit i in byte i/8, bit
// i%8); the bits above the last slot are zero. Entry address a lives in line
// a / entries_per_line, slot a % entries_per_line (docs/image-format.md).
// The one codec of that layout: the image files, the PE's SRAM and the
// host-interface window all use it.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/arch_config.hpp"

namespace eie {

struct SpmatLineLayout {
    uint32_t entry_bits = 8;
    uint32_t entries_per_line = 8;
    uint32_t line_bytes = 8;
    uint32_t entry_mask = 0xff;

    SpmatLineLayout() = default;
    explicit SpmatLineLayout(const ArchConfig& a)
        : entry_bits(a.entry_bits()),
          entries_per_line(a.entries_per_line()),
          line_bytes(a.spmat_line_bits / 8),
          entry_mask((1u << a.entry_bits()) - 1) {}

    uint32_t line_bits() const { return line_bytes * 8; }
    // Lines holding `entries` entry addresses.
    uint64_t lines_for(uint64_t entries) const { return (entries + entries_per_line - 1) / entries_per_line; }

    // The entry in `slot` of the line at `line`.
    uint16_t entry(const uint8_t* line, uint32_t slot) const {
        const uint32_t bit = slot * entry_bits, b = bit >> 3;
        // an entry of <= 16 bits at a bit offset < 8 spans at most 3 bytes
        uint32_t w = line[b];
        if (b + 1 < line_bytes) w |= uint32_t(line[b + 1]) << 8;
        if (b + 2 < line_bytes) w |= uint32_t(line[b + 2]) << 16;
        return static_cast<uint16_t>((w >> (bit & 7)) & entry_mask);
    }
    // Unpacks a whole line into out[0 .. entries_per_line).
    void unpack(const uint8_t* line, uint16_t* out) const {
        for (uint32_t s = 0; s < entries_per_line; ++s) out[s] = entry(line, s);
    }
    // ORs entry `e` (< 2^entry_bits) into `slot` of a line.
    void put(uint8_t* line, uint32_t slot, uint16_t e) const {
        const uint32_t bit = slot * entry_bits;
        uint8_t* p = line + (bit >> 3);
        const uint32_t v = uint32_t(e) << (bit & 7);
        p[0] |= uint8_t(v);
        if (v >> 8) p[1] |= uint8_t(v >> 8);
        if (v >> 16) p[2] |= uint8_t(v >> 16);
    }
    // The lowest set bit above the last slot, or line_bits() when the spare bits are clear.
    uint32_t first_spare_bit_set(const uint8_t* line) const {
        for (uint32_t pos = entries_per_line * entry_bits; pos < line_bits(); ++pos)
            if ((line[pos >> 3] >> (pos & 7)) & 1u) return pos;
        return line_bits();
    }
    // Packs flat entries (entry address = index) into whole lines of bytes.
    std::vector<uint8_t> pack(const std::vector<uint16_t>& entries) const {
        std::vector<uint8_t> out(lines_for(entries.size()) * line_bytes, 0);
        for (uint64_t a = 0; a < entries.size(); ++a)
            put(out.data() + (a / entries_per_line) * line_bytes, static_cast<uint32_t>(a % entries_per_line),
                entries[a]);
        return out;
    }
};

}  // namespace eie
