#include "eie/compress/storage_report.hpp"

#include <limits>

#include <fmt/format.h>

#include "eie/compress/huffman.hpp"

namespace eie {

double LayerStorage::ratio(uint64_t stage_bits, bool with_pointers) const {
    uint64_t bits = stage_bits + (with_pointers ? pointer_bits : 0);
    if (bits == 0) return std::numeric_limits<double>::infinity();
    return double(dense_bits) / double(bits);
}

namespace {

// Canonical Huffman size of a stream given its symbol frequencies; an empty
// stream costs nothing.
uint64_t huffman_stream_bits(const std::vector<uint64_t>& freq) {
    uint64_t total = 0;
    for (auto f : freq) total += f;
    if (total == 0) return 0;
    return HuffmanCode::build(freq).encoded_bits(freq);
}

void add_into(LayerStorage& t, const LayerStorage& s) {
    t.dense_weights += s.dense_weights;
    t.nonzeros += s.nonzeros;
    t.entries += s.entries;
    t.padding += s.padding;
    t.pointers += s.pointers;
    t.pointer_bits += s.pointer_bits;
    t.codebook_bits += s.codebook_bits;
    t.huffman_weight_bits += s.huffman_weight_bits;
    t.huffman_index_bits += s.huffman_index_bits;
    t.huffman_table_bits += s.huffman_table_bits;
    t.dense_bits += s.dense_bits;
    t.pruned_bits += s.pruned_bits;
    t.quantised_bits += s.quantised_bits;
    t.huffman_bits += s.huffman_bits;
}

// Ratios can be infinite for an empty layer; JSON has no infinity.
nlohmann::json ratio_json(double r) {
    if (r == std::numeric_limits<double>::infinity()) return nullptr;
    return r;
}

}  // namespace

StorageReport storage_report(const Image& image) {
    const ArchConfig& a = image.arch;
    StorageReport r;
    r.weight_bits = a.weight_bits;
    r.index_bits = a.index_bits;
    r.ptr_bits = a.ptr_bits;
    r.codebook_value_bits = a.codebook_value_bits;
    r.total.name = "total";
    const uint32_t wb = a.weight_bits, ib = a.index_bits;
    for (std::size_t l = 0; l < image.layers.size(); ++l) {
        const LayerDesc& d = image.layers[l];
        LayerStorage s;
        s.name = d.name;
        s.dense_weights = uint64_t(d.out_len) * d.in_len + (d.has_bias ? d.out_len : 0);
        std::vector<uint64_t> code_freq(std::size_t(1) << wb, 0), zero_freq(std::size_t(1) << ib, 0);
        for (const PeImage& pe : image.pes) {
            if (l >= pe.layer_counts.size()) continue;
            uint64_t n = pe.layer_counts[l].entries;
            for (uint64_t k = 0; k < n; ++k) {
                uint64_t addr = d.entry_base + k;
                if (addr >= pe.entries.size()) break;  // a malformed image; counted as far as it goes
                uint16_t e = pe.entries[addr];
                ++code_freq[entry_code(e, wb)];
                ++zero_freq[entry_zeros(e, wb) & ((1u << ib) - 1)];
                ++s.entries;
            }
        }
        s.padding = code_freq[0];
        s.nonzeros = s.entries - s.padding;
        s.pointers = uint64_t(image.pes.size()) * d.num_batches * d.pointers_per_batch();
        s.pointer_bits = s.pointers * a.ptr_bits;
        s.codebook_bits = (uint64_t(1) << wb) * a.codebook_value_bits;
        s.dense_bits = s.dense_weights * 32;
        s.pruned_bits = s.entries * (32 + ib);
        s.quantised_bits = s.entries * (wb + ib) + s.codebook_bits;
        s.huffman_weight_bits = huffman_stream_bits(code_freq);
        s.huffman_index_bits = huffman_stream_bits(zero_freq);
        // A canonical code is fully described by its code lengths: one length
        // per symbol of each alphabet, counted at 8 bits each.
        s.huffman_table_bits = ((uint64_t(1) << wb) + (uint64_t(1) << ib)) * 8;
        s.huffman_bits = s.huffman_weight_bits + s.huffman_index_bits + s.huffman_table_bits + s.codebook_bits;
        add_into(r.total, s);
        r.layers.push_back(std::move(s));
    }
    return r;
}

nlohmann::json to_json(const LayerStorage& s) {
    nlohmann::json j;
    j["name"] = s.name;
    j["dense_weights"] = s.dense_weights;
    j["nonzeros"] = s.nonzeros;
    j["entries"] = s.entries;
    j["padding"] = s.padding;
    j["padding_share"] = s.padding_share();
    j["pointers"] = s.pointers;
    j["bits"] = {
        {"dense", s.dense_bits},
        {"pruned", s.pruned_bits},
        {"quantised", s.quantised_bits},
        {"huffman", s.huffman_bits},
        {"pointers", s.pointer_bits},
        {"codebook", s.codebook_bits},
        {"huffman_weight_stream", s.huffman_weight_bits},
        {"huffman_index_stream", s.huffman_index_bits},
        {"huffman_tables", s.huffman_table_bits},
    };
    j["ratio"] = {
        {"pruned", ratio_json(s.pruned_ratio(false))},
        {"quantised", ratio_json(s.quantised_ratio(false))},
        {"huffman", ratio_json(s.huffman_ratio(false))},
    };
    j["ratio_with_pointers"] = {
        {"pruned", ratio_json(s.pruned_ratio(true))},
        {"quantised", ratio_json(s.quantised_ratio(true))},
        {"huffman", ratio_json(s.huffman_ratio(true))},
    };
    return j;
}

nlohmann::json to_json(const StorageReport& r) {
    nlohmann::json j;
    j["weight_bits"] = r.weight_bits;
    j["index_bits"] = r.index_bits;
    j["ptr_bits"] = r.ptr_bits;
    j["codebook_value_bits"] = r.codebook_value_bits;
    j["layers"] = nlohmann::json::array();
    for (const auto& s : r.layers) j["layers"].push_back(to_json(s));
    j["total"] = to_json(r.total);
    return j;
}

std::string format_storage_table(const StorageReport& r) {
    auto kib = [](uint64_t bits) { return double(bits) / 8.0 / 1024.0; };
    auto rx = [](double x) {
        return x == std::numeric_limits<double>::infinity() ? std::string("-") : fmt::format("{:.1f}x", x);
    };
    std::string out;
    out += fmt::format(
        "Storage ({}-bit weight index, {}-bit relative index, {}-bit codebook values, {}-bit pointers).\n"
        "Sizes in KiB without pointers; ratio = dense fp32 / stage, without | with pointers.\n",
        r.weight_bits, r.index_bits, r.codebook_value_bits, r.ptr_bits);
    out += fmt::format("{:<12} {:>10} | {:>10} {:>7} {:>7} | {:>10} {:>7} {:>7} | {:>10} {:>7} {:>7} | {:>9} | {:>8}\n",
                       "layer", "dense", "pruned", "ratio", "+ptr", "quantised", "ratio", "+ptr", "huffman",
                       "ratio", "+ptr", "pointers", "padding");
    auto row = [&](const LayerStorage& s) {
        out += fmt::format(
            "{:<12} {:>10.1f} | {:>10.1f} {:>7} {:>7} | {:>10.1f} {:>7} {:>7} | {:>10.1f} {:>7} {:>7} | {:>9.1f} | {:>7.2f}%\n",
            s.name.size() > 12 ? s.name.substr(0, 12) : s.name, kib(s.dense_bits), kib(s.pruned_bits),
            rx(s.pruned_ratio(false)), rx(s.pruned_ratio(true)), kib(s.quantised_bits), rx(s.quantised_ratio(false)),
            rx(s.quantised_ratio(true)), kib(s.huffman_bits), rx(s.huffman_ratio(false)), rx(s.huffman_ratio(true)),
            kib(s.pointer_bits), 100.0 * s.padding_share());
    };
    for (const auto& s : r.layers) row(s);
    if (r.layers.size() > 1) row(r.total);
    return out;
}

}  // namespace eie
