// The sparse-matrix SRAM of a PE: lines of spmat_line_bits, each holding
// entries_per_line (v, z) entries of entry_bits, packed from bit 0 up; the
// line is stored little-endian in bytes (bit k in byte k/8, bit k%8). This is
// the layout of the $readmemh files and of the host-interface window.
#pragma once

#include <cstdint>
#include <vector>

#include "eie/hw/arch_config.hpp"

namespace eie {

class SpmatSram {
public:
    void configure(const ArchConfig& arch, uint64_t lines) {
        line_bytes_ = arch.spmat_line_bits / 8;
        entry_bits_ = arch.entry_bits();
        per_line_ = arch.entries_per_line();
        bytes_.assign(lines * line_bytes_, 0);
    }
    uint32_t line_bytes() const { return line_bytes_; }
    uint32_t entries_per_line() const { return per_line_; }
    uint64_t lines() const { return line_bytes_ ? bytes_.size() / line_bytes_ : 0; }
    std::vector<uint8_t>& bytes() { return bytes_; }
    const std::vector<uint8_t>& bytes() const { return bytes_; }

    // Unpacks line `line` into out[0 .. entries_per_line).
    void read_line(uint64_t line, uint16_t* out) const {
        const uint8_t* p = bytes_.data() + line * line_bytes_;
        const uint32_t mask = (1u << entry_bits_) - 1;
        for (uint32_t s = 0; s < per_line_; ++s) {
            uint32_t bit = s * entry_bits_;
            // an entry spans at most 3 bytes (entry_bits <= 16)
            uint32_t b = bit >> 3, off = bit & 7;
            uint32_t w = p[b];
            if (b + 1 < line_bytes_) w |= uint32_t(p[b + 1]) << 8;
            if (b + 2 < line_bytes_) w |= uint32_t(p[b + 2]) << 16;
            out[s] = static_cast<uint16_t>((w >> off) & mask);
        }
    }

    // Packs flat entries (entry address = index) into line bytes.
    static std::vector<uint8_t> pack(const std::vector<uint16_t>& entries, const ArchConfig& arch) {
        const uint32_t eb = arch.entry_bits(), per = arch.entries_per_line(), lb = arch.spmat_line_bits / 8;
        uint64_t lines = (entries.size() + per - 1) / per;
        std::vector<uint8_t> out(lines * lb, 0);
        for (uint64_t a = 0; a < entries.size(); ++a) {
            const uint32_t bit = static_cast<uint32_t>(a % per) * eb;
            uint8_t* p = out.data() + (a / per) * lb + (bit >> 3);
            // an entry of <= 16 bits at a bit offset < 8 spans at most 3 bytes
            const uint32_t v = uint32_t(entries[a]) << (bit & 7);
            p[0] |= uint8_t(v);
            if (v >> 8) p[1] |= uint8_t(v >> 8);
            if (v >> 16) p[2] |= uint8_t(v >> 16);
        }
        return out;
    }

private:
    std::vector<uint8_t> bytes_;
    uint32_t line_bytes_ = 8, entry_bits_ = 8, per_line_ = 8;
};

}  // namespace eie
