#include "eie/hw/model/image_loader.hpp"

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "eie/hw/model/memory_map.hpp"
#include "eie/pe/spmat_sram.hpp"

namespace eie {

namespace {

// 32-bit little-endian words (the model's host is little-endian, as the
// simulated bus: the words are copied as they are).
BusWrite words_at(uint64_t addr, const std::vector<uint32_t>& words) {
    BusWrite w{addr, std::vector<uint8_t>(words.size() * 4)};
    if (!words.empty()) std::memcpy(w.data.data(), words.data(), w.data.size());
    return w;
}

}  // namespace

std::vector<BusWrite> image_writes(const Image& image) {
    const ArchConfig& a = image.arch;
    if (image.layers.size() > mmap::kMaxLayers)
        throw std::invalid_argument(fmt::format("the image has {} layers; the descriptor table holds {}",
                                                image.layers.size(), mmap::kMaxLayers));
    std::vector<BusWrite> out;
    for (uint32_t p = 0; p < a.num_pes && p < image.pes.size(); ++p) {
        const PeImage& pe = image.pes[p];
        std::vector<uint8_t> lines = SpmatSram::pack(pe.entries, a);
        if (!lines.empty()) out.push_back(BusWrite{mmap::pe_addr(p, mmap::kSpmat, 0), std::move(lines)});
        for (uint32_t bank = 0; bank < 2; ++bank) {
            std::vector<uint32_t> words;
            for (uint64_t i = bank; i < pe.pointers.size(); i += 2) words.push_back(pe.pointers[i]);
            if (!words.empty()) out.push_back(words_at(mmap::pe_addr(p, bank ? mmap::kPtrOdd : mmap::kPtrEven, 0), words));
        }
        std::vector<uint32_t> cb;
        for (const auto& slot : pe.codebooks)
            for (int32_t v : slot) cb.push_back(static_cast<uint32_t>(v));
        if (!cb.empty()) out.push_back(words_at(mmap::pe_addr(p, mmap::kCodebook, 0), cb));
    }
    for (uint32_t k = 0; k < image.layers.size(); ++k) {
        std::vector<uint32_t> w(mmap::kDescWords);
        mmap::encode_descriptor(image.layers[k], w.data());
        out.push_back(words_at(mmap::kDescBase + uint64_t(k) * mmap::kDescWords * 4, w));
    }
    if (!image.layers.empty()) {
        std::vector<BusWrite> in = input_writes(image, image.input, 0);
        for (BusWrite& w : in) out.push_back(std::move(w));
    }
    return out;
}

std::vector<BusWrite> input_writes(const Image& image, const std::vector<int32_t>& input, uint32_t layer) {
    if (layer >= image.layers.size())
        throw std::invalid_argument(fmt::format("layer {} does not exist (the image has {})", layer, image.layers.size()));
    const LayerDesc& l = image.layers[layer];
    const uint32_t n = image.arch.num_pes;
    if (input.size() != l.in_len)
        throw std::invalid_argument(
            fmt::format("input has {} values, layer {} expects {}", input.size(), l.name, l.in_len));
    std::vector<BusWrite> out;
    for (uint32_t p = 0; p < n; ++p) {
        std::vector<uint32_t> local;
        for (uint64_t i = p; i < input.size(); i += n) local.push_back(static_cast<uint32_t>(input[i]));
        if (local.empty()) continue;
        const uint64_t addr = l.input.in_sram ? mmap::pe_addr(p, mmap::kActSram, uint64_t(l.input.sram_base) * 4)
                                              : mmap::pe_addr(p, mmap::kSrcRf, 0);
        out.push_back(words_at(addr, local));
    }
    return out;
}

std::vector<OutputRead> output_reads(const Image& image, uint32_t layer) {
    if (layer >= image.layers.size())
        throw std::invalid_argument(fmt::format("layer {} does not exist (the image has {})", layer, image.layers.size()));
    const LayerDesc& l = image.layers[layer];
    const uint32_t n = image.arch.num_pes;
    std::vector<OutputRead> out;
    for (uint32_t p = 0; p < n && p < l.out_len; ++p) {
        const uint64_t addr = l.output.in_sram ? mmap::pe_addr(p, mmap::kActSram, uint64_t(l.output.sram_base) * 4)
                                               : mmap::pe_addr(p, mmap::kSrcRf, 0);
        out.push_back(OutputRead{p, addr, static_cast<uint32_t>((l.out_len - p + n - 1) / n)});
    }
    return out;
}

std::vector<int32_t> assemble_output(const Image& image, uint32_t layer,
                                     const std::vector<std::vector<uint32_t>>& words) {
    const std::vector<OutputRead> reads = output_reads(image, layer);
    if (words.size() != reads.size())
        throw std::invalid_argument(fmt::format("{} reads given, layer {} has {}", words.size(), layer, reads.size()));
    const uint32_t n = image.arch.num_pes;
    std::vector<int32_t> out(image.layers[layer].out_len);
    for (std::size_t r = 0; r < reads.size(); ++r) {
        if (words[r].size() != reads[r].words)
            throw std::invalid_argument(fmt::format("PE {}: {} words given, {} expected", reads[r].pe,
                                                    words[r].size(), reads[r].words));
        for (uint64_t k = 0; k < reads[r].words; ++k) out[reads[r].pe + k * n] = int32_t(words[r][k]);
    }
    return out;
}

}  // namespace eie
