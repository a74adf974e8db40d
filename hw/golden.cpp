// The golden reference model: reads the per-PE memories of the image (the
// same words the cycle model reads) and computes each layer with the
// fixed-point rules of fixed_point.hpp, in the hardware's accumulation order.
//
// The hardware interleaves the PEs, but a PE only ever touches its own rows,
// and within a row the order of the terms is fixed by the broadcast order of
// the columns and the storage order of the entries. So walking PE by PE
// (PE, batch, broadcast column, entry) gives the same saturating sums as the
// hardware's (batch, broadcast column, PE, entry), and is cache friendly.
#include "eie/hw/golden.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "eie/hw/geometry.hpp"
#include "eie/hw/layer_label.hpp"
#include "eie/hw/fixed_point.hpp"

namespace eie {

namespace {

std::string layer_label(const Image& image, std::size_t layer) { return eie::layer_label(layer, image.layers[layer].name); }

// Walks the entries of one layer in the order PE, batch, broadcast column
// (as given in `columns`), storage order, calling start(pe, rows) before each
// batch, visit(column, local_row_in_batch, code) for each entry and
// finish(pe, first_local_row, rows) after each batch. Checks the memories as
// it goes, so a corrupt image gives an error instead of a wrong answer.
template <class Start, class Visit, class Finish>
void walk_memories(const Image& image, std::size_t layer, const std::vector<uint32_t>& columns, Start&& start,
                   Visit&& visit, Finish&& finish) {
    const ArchConfig& a = image.arch;
    const LayerDesc& d = image.layers[layer];
    const uint32_t N = a.num_pes, R = a.act_rf_entries, wb = a.weight_bits;
    auto fail = [&](const std::string& what) {
        throw std::invalid_argument(fmt::format("golden model: {}: {}", layer_label(image, layer), what));
    };
    if (image.pes.size() != N)
        fail(fmt::format("the image has {} PEs but arch.num_pes = {}", image.pes.size(), N));
    if (d.num_batches != layer_batches(d.out_len, a))
        fail(fmt::format("num_batches = {} but {} outputs on {} PEs with act_rf_entries = {} need {}", d.num_batches,
                         d.out_len, N, R, layer_batches(d.out_len, a)));
    const uint64_t stride = d.pointers_per_batch();
    for (uint32_t p = 0; p < N; ++p) {
        const PeImage& pe = image.pes[p];
        if (d.codebook_slot >= pe.codebooks.size() || pe.codebooks[d.codebook_slot].size() != a.codebook_entries())
            fail(fmt::format("PE {} has no {}-entry codebook in slot {}", p, a.codebook_entries(), d.codebook_slot));
        for (uint32_t b = 0; b < d.num_batches; ++b) {
            const uint64_t first = uint64_t(b) * R;
            const uint32_t rows = local_rows_in_batch(d.out_len, a, p, b);
            const uint64_t q0 = d.ptr_base + b * stride;
            if (q0 + stride > pe.pointers.size())
                fail(fmt::format("PE {} batch {}: pointer addresses {} .. {} beyond the {} pointer words", p, b, q0,
                                 q0 + stride - 1, pe.pointers.size()));
            const uint32_t* P = pe.pointers.data() + q0;
            start(p, rows);
            for (uint32_t j : columns) {
                const uint64_t lo = P[j], hi = P[j + 1];
                if (lo > hi || d.entry_base + hi > pe.entries.size())
                    fail(fmt::format("PE {} batch {} column {}: pointers {} .. {} (entry_base {}) outside the {} "
                                     "stored entries",
                                     p, b, j, lo, hi, d.entry_base, pe.entries.size()));
                const uint16_t* E = pe.entries.data() + d.entry_base;
                uint32_t row = 0;  // local row in the batch + 1 (running sum of z + 1)
                for (uint64_t e = lo; e < hi; ++e) {
                    row += entry_zeros(E[e], wb) + 1;
                    if (row > rows)
                        fail(fmt::format("PE {} batch {} column {}: entry {} reaches local row {} of a batch with "
                                         "{} rows",
                                         p, b, j, d.entry_base + e, row - 1, rows));
                    visit(j, row - 1, entry_code(E[e], wb));
                }
            }
            finish(p, first, rows);
        }
    }
}

void check_layer_index(const Image& image, std::size_t layer) {
    if (layer >= image.layers.size())
        throw std::invalid_argument(
            fmt::format("golden model: layer {} does not exist (the image has {})", layer, image.layers.size()));
}

}  // namespace

std::vector<int32_t> golden_layer(const Image& image, std::size_t layer, const std::vector<int32_t>& input) {
    check_layer_index(image, layer);
    const ArchConfig& a = image.arch;
    const LayerDesc& d = image.layers[layer];
    const std::string who = layer_label(image, layer);
    const unsigned bits = a.act_bits;
    if (input.size() != d.in_len)
        throw std::invalid_argument(
            fmt::format("golden model: {}: input has {} values, in_len = {}", who, input.size(), d.in_len));
    std::vector<int32_t> value(d.num_cols(), 0);
    for (uint32_t j = 0; j < d.in_len; ++j) {
        const int32_t v = input[j];
        if (v < fx::min_value(bits) || v > fx::max_value(bits))
            throw std::invalid_argument(fmt::format("golden model: {}: input[{}] = {} does not fit act_bits = {} ({} .. {})",
                                                    who, j, v, bits, fx::min_value(bits), fx::max_value(bits)));
        value[j] = v;
    }
    if (d.has_bias) {
        // The bias column's activation is 1.0 in the input format.
        if (d.fmt.in_frac < 0 || d.fmt.in_frac > int(bits) - 2)
            throw std::invalid_argument(fmt::format(
                "golden model: {}: the bias column needs the activation 1.0, which in_frac = {} cannot represent in "
                "act_bits = {} (allowed in_frac: 0 .. {})",
                who, d.fmt.in_frac, bits, int(bits) - 2));
        value[d.in_len] = int32_t(1) << d.fmt.in_frac;
    }
    const std::vector<uint32_t> columns =
        broadcast_columns(d.in_len, d.has_bias, [&](uint32_t j) { return input[j] != 0; });

    const uint32_t N = a.num_pes;
    const int shift = d.fmt.shift();
    std::vector<int32_t> out(d.out_len, 0);
    std::vector<int32_t> acc(a.act_rf_entries, 0);  // the destination register file of one PE
    const int32_t* weight = nullptr;                 // that PE's codebook for this layer
    walk_memories(
        image, layer, columns,
        [&](uint32_t p, uint32_t rows) {
            weight = image.pes[p].codebooks[d.codebook_slot].data();
            std::fill(acc.begin(), acc.begin() + rows, 0);
        },
        [&](uint32_t j, uint32_t row, uint32_t code) {
            // Padding (code 0) adds the product with codebook[0] = 0: no change.
            acc[row] = fx::accumulate(acc[row], fx::product_term(value[j], weight[code], shift), bits);
        },
        [&](uint32_t p, uint64_t first, uint32_t rows) {
            for (uint32_t r = 0; r < rows; ++r)
                out[(first + r) * N + p] = d.act == Activation::relu ? fx::relu(acc[r]) : acc[r];
        });
    return out;
}

std::vector<std::vector<int32_t>> golden_run(const Image& image, const std::vector<int32_t>& input) {
    if (image.layers.empty()) throw std::invalid_argument("golden model: the image has no layers");
    std::vector<std::vector<int32_t>> out;
    out.reserve(image.layers.size());
    const std::vector<int32_t>* in = &input;
    for (std::size_t l = 0; l < image.layers.size(); ++l) {
        out.push_back(golden_layer(image, l, *in));
        in = &out.back();
    }
    return out;
}

std::vector<std::vector<double>> float_run(const Image& image, const std::vector<double>& input) {
    if (image.layers.empty()) throw std::invalid_argument("float reference: the image has no layers");
    std::vector<std::vector<double>> out;
    std::vector<double> in = input;
    const ArchConfig& a = image.arch;
    const uint32_t N = a.num_pes;
    for (std::size_t l = 0; l < image.layers.size(); ++l) {
        const LayerDesc& d = image.layers[l];
        if (in.size() != d.in_len)
            throw std::invalid_argument(fmt::format("float reference: {}: input has {} values, in_len = {}",
                                                    layer_label(image, l), in.size(), d.in_len));
        if (d.codebook_float.size() != a.codebook_entries())
            throw std::invalid_argument(fmt::format("float reference: {}: codebook_float has {} values, needs {}",
                                                    layer_label(image, l), d.codebook_float.size(),
                                                    a.codebook_entries()));
        std::vector<double> value(in.begin(), in.end());
        if (d.has_bias) value.push_back(1.0);  // the bias column's activation
        const std::vector<uint32_t> columns =
            broadcast_columns(d.in_len, d.has_bias, [&](uint32_t j) { return in[j] != 0.0; });
        std::vector<double> res(d.out_len, 0.0);
        std::vector<double> acc(a.act_rf_entries, 0.0);
        const double* cb = d.codebook_float.data();
        walk_memories(
            image, l, columns, [&](uint32_t, uint32_t rows) { std::fill(acc.begin(), acc.begin() + rows, 0.0); },
            [&](uint32_t j, uint32_t row, uint32_t code) { acc[row] += value[j] * cb[code]; },
            [&](uint32_t p, uint64_t first, uint32_t rows) {
                for (uint32_t r = 0; r < rows; ++r)
                    res[(first + r) * N + p] = d.act == Activation::relu ? std::max(0.0, acc[r]) : acc[r];
            });
        out.push_back(std::move(res));
        in = out.back();
    }
    return out;
}

}  // namespace eie
