// Tests of the interleaved-CSC encoder / decoder: the worked examples of the
// docs/reference.md (storage), random round trips checked against an independent
// reading of the layout contract (hw/image.hpp), capacity errors and
// re-encoding.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "eie/compress/encode.hpp"
#include "eie/hw/golden.hpp"

using namespace eie;

namespace {

// Codebook with distinct non-zero values (the encoder does not care about them).
void fill_codebook(QuantLayer& L, uint32_t weight_bits, std::mt19937_64& rng) {
    const uint32_t n = 1u << weight_bits;
    L.codebook.assign(n, 0);
    L.codebook_float.assign(n, 0.0);
    std::uniform_int_distribution<int32_t> val(-3000, 3000);
    for (uint32_t c = 1; c < n; ++c) {
        int32_t v = val(rng);
        if (v == 0) v = 1;
        L.codebook[c] = v;
        L.codebook_float[c] = v / 256.0;
    }
}

// A random layer; `long_runs` adds columns whose only weights are far apart
// and one empty row band, to exercise padding.
QuantLayer random_layer(const std::string& name, uint32_t in_len, uint32_t out_len, double density, bool bias,
                        uint32_t weight_bits, std::mt19937_64& rng, bool long_runs = true) {
    QuantLayer L;
    L.name = name;
    L.in_len = in_len;
    L.out_len = out_len;
    L.has_bias = bias;
    L.act = Activation::relu;
    L.fmt = LayerFormat{8, 8, 8};
    fill_codebook(L, weight_bits, rng);
    std::bernoulli_distribution keep(density);
    std::uniform_int_distribution<uint32_t> code(1, (1u << weight_bits) - 1);
    const uint32_t nc = in_len + (bias ? 1 : 0);
    for (uint32_t j = 0; j < nc; ++j) {
        const bool sparse_col = long_runs && (j % 7 == 3);
        for (uint32_t i = 0; i < out_len; ++i) {
            bool k;
            if (sparse_col) k = (i == 0 || i == out_len - 1 || i == out_len / 2);
            else if (long_runs && j % 5 == 1) k = false;  // empty column
            else k = keep(rng) && !(long_runs && i % 11 == 5);  // empty rows
            if (k) L.nonzeros.push_back({i, j, code(rng)});
        }
    }
    return L;
}

std::vector<QuantLayer> random_network(const std::vector<uint32_t>& sizes, double density, bool bias,
                                       uint32_t weight_bits, std::mt19937_64& rng) {
    std::vector<QuantLayer> net;
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        net.push_back(random_layer("fc" + std::to_string(l), sizes[l], sizes[l + 1], density, bias && (l % 2 == 0),
                                   weight_bits, rng));
        if (l > 0) net[l].fmt.in_frac = net[l - 1].fmt.out_frac;
    }
    return net;
}

// Dense code matrix of a layer: codes[row][col].
std::vector<std::vector<uint32_t>> dense_codes(const QuantLayer& L) {
    std::vector<std::vector<uint32_t>> d(L.out_len, std::vector<uint32_t>(L.in_len + (L.has_bias ? 1 : 0), 0));
    for (const auto& nz : L.nonzeros) d[nz.row][nz.col] = nz.code;
    return d;
}

// Reads an image by the contract of image.hpp, independently of
// decode_layers, checks every layout rule (throwing a description of the
// first violation; no per-entry Catch assertions, which would be slow) and
// returns the dense codes and the padding / entry counts per layer and PE.
struct ContractView {
    std::vector<std::vector<std::vector<uint32_t>>> codes;  // [layer][row][col]
    std::vector<std::vector<uint64_t>> padding;             // [layer][pe]
    std::vector<std::vector<uint64_t>> entries;             // [layer][pe]
    uint64_t max_padding_run = 0;                           // most consecutive padding entries
};

ContractView read_by_contract(const Image& img) {
    const ArchConfig& a = img.arch;
    const uint32_t N = a.num_pes, R = a.act_rf_entries, wb = a.weight_bits;
    const uint32_t epl = a.entries_per_line();
    auto ensure = [](bool ok, const std::string& what) {
        if (!ok) throw std::runtime_error("contract violated: " + what);
    };
    ensure(img.pes.size() == N, "one PeImage per PE");
    ContractView v;
    uint64_t expect_ptr_base = 0;
    uint64_t prev_end = 0;  // max over PEs of the previous layer's end
    for (std::size_t l = 0; l < img.layers.size(); ++l) {
        const LayerDesc& d = img.layers[l];
        const std::string L = "layer " + std::to_string(l) + ": ";
        const uint32_t nc = d.num_cols();
        ensure(d.codebook_slot == l, L + "codebook slot = layer index");
        ensure(d.ptr_base == expect_ptr_base, L + "ptr_base = pointers of the previous layers");
        ensure(d.entry_base == (prev_end + epl - 1) / epl * epl,
               L + "entry_base = previous end rounded up to a line");
        const uint64_t max_rows = (d.out_len + N - 1) / N;
        const uint32_t nb = static_cast<uint32_t>(std::max<uint64_t>(1, (max_rows + R - 1) / R));
        ensure(d.num_batches == nb, L + "num_batches");
        expect_ptr_base += uint64_t(nb) * (nc + 1);
        std::vector<std::vector<uint32_t>> codes(d.out_len, std::vector<uint32_t>(nc, 0));
        std::vector<uint64_t> pads(N, 0), ents(N, 0);
        uint64_t end = 0;
        for (uint32_t p = 0; p < N; ++p) {
            const PeImage& pe = img.pes[p];
            const std::string P = L + "PE " + std::to_string(p) + ": ";
            ensure(pe.codebooks.size() > l && pe.codebooks[l] == d.codebook, P + "codebook in slot");
            uint64_t prev_last = 0;
            for (uint32_t b = 0; b < nb; ++b) {
                for (uint32_t j = 0; j < nc; ++j) {
                    const uint64_t addr = d.ptr_base + uint64_t(b) * (nc + 1) + j;
                    ensure(addr + 1 < pe.pointers.size(), P + "pointer address in range");
                    const uint32_t lo = pe.pointers[addr], hi = pe.pointers[addr + 1];
                    if (j == 0) ensure(lo == prev_last, P + "pointers run on across batches");
                    ensure(lo <= hi, P + "pointers monotone");
                    ensure(d.entry_base + hi <= pe.entries.size(), P + "entries in range");
                    uint64_t run = 0, pad_run = 0;
                    for (uint32_t e = lo; e < hi; ++e) {
                        const uint16_t en = pe.entries[d.entry_base + e];
                        const uint32_t z = en >> wb, c = en & ((1u << wb) - 1);
                        run += z + 1;
                        ensure(run - 1 < R, P + "row inside the batch");
                        const uint64_t local = uint64_t(b) * R + run - 1;
                        if (c == 0) {
                            ensure(z == a.max_zero_run(), P + "padding skips the longest run");
                            ++pads[p];
                            v.max_padding_run = std::max(v.max_padding_run, ++pad_run);
                        } else {
                            const uint64_t row = local * N + p;
                            ensure(row < d.out_len, P + "row < out_len");
                            codes[row][j] = c;
                            pad_run = 0;
                        }
                    }
                    ents[p] += hi - lo;
                    if (j + 1 == nc) prev_last = hi;
                }
            }
            ensure(ents[p] == prev_last, P + "last pointer = entry count");
            end = std::max(end, d.entry_base + ents[p]);
        }
        prev_end = end;
        v.codes.push_back(std::move(codes));
        v.padding.push_back(pads);
        v.entries.push_back(ents);
    }
    for (const auto& pe : img.pes) ensure(pe.pointers.size() == expect_ptr_base, "pointer words = total count");
    return v;
}

// Expected padding of a layer on PE p: floor(gap / 2^index_bits) per gap.
uint64_t expected_padding(const std::vector<std::vector<uint32_t>>& dense, uint32_t N, uint32_t R,
                          uint32_t index_bits, uint32_t p) {
    const uint32_t nc = dense.empty() ? 0 : static_cast<uint32_t>(dense[0].size());
    uint64_t pad = 0;
    const uint64_t rows = local_length(dense.size(), N, p);
    for (uint32_t j = 0; j < nc; ++j) {
        for (uint64_t b0 = 0; b0 < rows; b0 += R) {
            uint64_t gap = 0;
            for (uint64_t r = b0; r < std::min<uint64_t>(rows, b0 + R); ++r) {
                if (dense[r * N + p][j]) {
                    pad += gap >> index_bits;
                    gap = 0;
                } else {
                    ++gap;
                }
            }
        }
    }
    return pad;
}

bool same_layers(const std::vector<QuantLayer>& a, const std::vector<QuantLayer>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t l = 0; l < a.size(); ++l) {
        const auto &x = a[l], &y = b[l];
        if (x.name != y.name || x.in_len != y.in_len || x.out_len != y.out_len || x.has_bias != y.has_bias ||
            x.act != y.act || x.fmt.in_frac != y.fmt.in_frac || x.fmt.w_frac != y.fmt.w_frac ||
            x.fmt.out_frac != y.fmt.out_frac || x.codebook != y.codebook || x.codebook_float != y.codebook_float ||
            x.nonzeros.size() != y.nonzeros.size())
            return false;
        for (std::size_t k = 0; k < x.nonzeros.size(); ++k)
            if (x.nonzeros[k].row != y.nonzeros[k].row || x.nonzeros[k].col != y.nonzeros[k].col ||
                x.nonzeros[k].code != y.nonzeros[k].code)
                return false;
    }
    return true;
}

bool same_memories(const Image& a, const Image& b) {
    if (a.pes.size() != b.pes.size() || a.layers.size() != b.layers.size()) return false;
    for (std::size_t p = 0; p < a.pes.size(); ++p)
        if (a.pes[p].entries != b.pes[p].entries || a.pes[p].pointers != b.pes[p].pointers ||
            a.pes[p].codebooks != b.pes[p].codebooks)
            return false;
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        const auto &x = a.layers[l], &y = b.layers[l];
        if (x.ptr_base != y.ptr_base || x.entry_base != y.entry_base || x.num_batches != y.num_batches ||
            x.input.in_sram != y.input.in_sram || x.input.sram_base != y.input.sram_base ||
            x.output.in_sram != y.output.in_sram || x.output.sram_base != y.output.sram_base)
            return false;
    }
    return true;
}

ArchConfig small_arch(uint32_t N, uint32_t index_bits, uint32_t rf) {
    ArchConfig a;
    a.num_pes = N;
    a.index_bits = index_bits;
    a.act_rf_entries = rf;
    a.grow_memories = true;
    return a;
}

// Checks everything the contract says about one encoded network; returns
// the longest run of consecutive padding entries.
uint64_t check_network(const std::vector<QuantLayer>& net, const ArchConfig& arch) {
    const Image img = encode_layers(net, arch);
    ContractView v;
    REQUIRE_NOTHROW(v = read_by_contract(img));
    for (std::size_t l = 0; l < net.size(); ++l) {
        INFO("layer " << l);
        const auto dense = dense_codes(net[l]);
        CHECK(v.codes[l] == dense);
        uint64_t nnz = 0;
        for (uint32_t p = 0; p < arch.num_pes; ++p) {
            const PeLayerCounts& c = img.pes[p].layer_counts[l];
            const uint64_t pad = expected_padding(dense, arch.num_pes, arch.act_rf_entries, arch.index_bits, p);
            CHECK(c.padding == pad);
            CHECK(v.padding[l][p] == pad);
            CHECK(c.entries == v.entries[l][p]);
            CHECK(c.rows == local_length(net[l].out_len, arch.num_pes, p));
            nnz += c.entries - c.padding;
        }
        CHECK(nnz == net[l].nonzeros.size());
    }
    const auto back = decode_layers(img);
    CHECK(same_layers(back, net));
    const Image again = encode_layers(back, img.arch);
    CHECK(same_memories(again, img));
    return v.max_padding_run;
}

// The digits after "KEY >= " in `text`, 0 when absent.
uint64_t number_after(const std::string& text, const std::string& key) {
    const std::string lead = key + " >= ";
    const std::size_t at = text.find(lead);
    if (at == std::string::npos) return 0;
    const std::size_t b = at + lead.size(), e = text.find_first_not_of("0123456789", b);
    if (e == b) return 0;
    return std::stoull(text.substr(b, e - b));
}

}  // namespace

TEST_CASE("worked example: one column with a long zero run", "[encode]") {
    // Column [0,0,1,2, 18 zeros, 3] on one PE: v = [1,2,0,3], z = [2,0,15,2].
    QuantLayer L;
    L.name = "col";
    L.in_len = 1;
    L.out_len = 23;
    std::mt19937_64 rng(1);
    fill_codebook(L, 4, rng);
    L.nonzeros = {{2, 0, 1}, {3, 0, 2}, {22, 0, 3}};
    ArchConfig a;
    a.num_pes = 1;
    a.index_bits = 4;
    const Image img = encode_layers({L}, a);
    const auto& E = img.pes[0].entries;
    REQUIRE(E.size() == 4);
    std::vector<uint32_t> v, z;
    for (auto e : E) {
        v.push_back(entry_code(e, 4));
        z.push_back(entry_zeros(e, 4));
    }
    CHECK(v == std::vector<uint32_t>{1, 2, 0, 3});
    CHECK(z == std::vector<uint32_t>{2, 0, 15, 2});
    CHECK(img.pes[0].pointers == std::vector<uint32_t>{0, 4});
    CHECK(img.pes[0].layer_counts[0].padding == 1);
    CHECK(img.pes[0].layer_counts[0].entries == 4);
}

TEST_CASE("worked example: 16x8 matrix on 4 PEs", "[encode]") {
    QuantLayer L;
    L.name = "fig";
    L.in_len = 8;
    L.out_len = 16;
    std::mt19937_64 rng(2);
    fill_codebook(L, 4, rng);
    // PE0's weights from EIE Figure 3, plus weights in other PEs' rows
    // that must not disturb PE0.
    std::vector<std::pair<uint32_t, uint32_t>> rc = {{0, 0},  {8, 0}, {12, 0}, {4, 1},  {0, 2},  {12, 2}, {0, 4},
                                                     {4, 4},  {0, 5}, {12, 5}, {0, 6},  {8, 7},  {12, 7}, {1, 0},
                                                     {5, 0},  {2, 1}, {15, 1}, {3, 3},  {7, 3},  {11, 3}, {9, 6},
                                                     {14, 7}, {6, 2}, {10, 5}, {13, 4}, {15, 7}};
    uint32_t k = 0;
    for (auto [r, c] : rc) L.nonzeros.push_back({r, c, 1 + (k++ % 15)});
    std::sort(L.nonzeros.begin(), L.nonzeros.end(),
              [](const auto& x, const auto& y) { return std::tie(x.col, x.row) < std::tie(y.col, y.row); });
    ArchConfig a;
    a.num_pes = 4;
    a.index_bits = 4;
    const Image img = encode_layers({L}, a);
    std::vector<uint32_t> z;
    for (auto e : img.pes[0].entries) z.push_back(entry_zeros(e, 4));
    CHECK(z == std::vector<uint32_t>{0, 1, 0, 1, 0, 2, 0, 0, 0, 2, 0, 2, 0});
    CHECK(img.pes[0].pointers == std::vector<uint32_t>{0, 3, 4, 6, 6, 8, 10, 11, 13});
    // Codes in PE0's storage order are the codes given to those weights.
    std::vector<uint32_t> v;
    for (auto e : img.pes[0].entries) v.push_back(entry_code(e, 4));
    std::vector<uint32_t> expect_v;
    for (const auto& nz : L.nonzeros)
        if (nz.row % 4 == 0) expect_v.push_back(nz.code);
    CHECK(v == expect_v);
    check_network({L}, a);
}

TEST_CASE("random round trips over PEs, densities and index widths", "[encode]") {
    std::mt19937_64 rng(12345);
    const uint32_t pes[] = {1, 2, 3, 4, 5, 7, 8, 16, 64};
    const double dens[] = {0.0, 0.01, 0.1, 0.5, 1.0};
    int cases = 0;
    uint64_t max_padding_run_ib4 = 0;
    for (uint32_t N : pes)
        for (double d : dens)
            for (uint32_t ib = 1; ib <= 5; ++ib) {
                INFO("N=" << N << " density=" << d << " index_bits=" << ib);
                // One layer whose output needs batches (rf entries small) and a
                // short network; sizes vary with the case.
                const uint32_t rf = 2 + (cases % 5);
                const uint32_t out_len = rf * N * 3 + (cases % 4);  // > act_rf_entries * N
                const bool bias = cases % 2 == 0;
                std::vector<QuantLayer> one = {random_layer("big", 37, out_len, d, bias, 4, rng)};
                check_network(one, small_arch(N, ib, rf));
                auto net = random_network({23, 41, 9, 17}, d, bias, 4, rng);
                check_network(net, small_arch(N, ib, 8));
                // Tall: 100 local rows per PE in batches of 64, so zero runs
                // far longer than 2 x max_zero_run occur.
                std::vector<QuantLayer> tall = {random_layer("tall", 19, N * 100 + 7, d * 0.2, !bias, 4, rng)};
                const uint64_t pr = check_network(tall, small_arch(N, ib, 64));
                if (ib == 4) max_padding_run_ib4 = std::max(max_padding_run_ib4, pr);
                ++cases;
            }
    CHECK(cases == 9 * 5 * 5);
    CHECK(max_padding_run_ib4 >= 3);  // a run of more than 3 x 15 zeros was encoded
}

TEST_CASE("long zero runs need floor(run / 2^index_bits) padding entries", "[encode]") {
    // One PE, one column with weights at rows 0 and 100: gap 99.
    for (uint32_t ib = 1; ib <= 6; ++ib) {
        QuantLayer L;
        L.name = "gap";
        L.in_len = 1;
        L.out_len = 120;
        std::mt19937_64 rng(ib);
        fill_codebook(L, 4, rng);
        L.nonzeros = {{0, 0, 1}, {100, 0, 2}};
        ArchConfig a = small_arch(1, ib, 128);
        const Image img = encode_layers({L}, a);
        CHECK(img.pes[0].layer_counts[0].padding == (99u >> ib));
        CHECK(img.pes[0].entries.size() == 2 + (99u >> ib));
        CHECK(entry_zeros(img.pes[0].entries.back(), 4) == (99u & ((1u << ib) - 1)));
    }
}

TEST_CASE("batches restart the relative index and pointers run on", "[encode]") {
    // 1 PE, 4 rows per batch, 10 rows: batches of 4, 4, 2.
    QuantLayer L;
    L.name = "batched";
    L.in_len = 2;
    L.out_len = 10;
    std::mt19937_64 rng(3);
    fill_codebook(L, 4, rng);
    L.nonzeros = {{1, 0, 1}, {5, 0, 2}, {9, 0, 3}, {3, 1, 4}, {8, 1, 5}};
    ArchConfig a = small_arch(1, 4, 4);
    const Image img = encode_layers({L}, a);
    const auto& d = img.layers[0];
    CHECK(d.num_batches == 3);
    CHECK(d.output.in_sram);
    CHECK_FALSE(d.input.in_sram);
    // batch 0: col0 row1 (z=1), col1 row3 (z=3); batch 1: col0 row5 (z=1);
    // batch 2: col0 row9 (z=1), col1 row8 (z=0)
    CHECK(img.pes[0].pointers == std::vector<uint32_t>{0, 1, 2, 2, 3, 3, 3, 4, 5});
    std::vector<uint32_t> z;
    for (auto e : img.pes[0].entries) z.push_back(entry_zeros(e, 4));
    CHECK(z == std::vector<uint32_t>{1, 3, 1, 1, 0});
}

TEST_CASE("layers are placed one after another", "[encode]") {
    std::mt19937_64 rng(9);
    auto net = random_network({30, 50, 20}, 0.3, true, 4, rng);
    ArchConfig a = small_arch(4, 4, 8);  // 50 outputs / 4 PEs = 13 rows > 8: batches
    a.spmat_line_bits = 64;
    const Image img = encode_layers(net, a);
    const auto& l0 = img.layers[0];
    const auto& l1 = img.layers[1];
    CHECK(l0.ptr_base == 0);
    CHECK(l0.num_batches == 2);
    CHECK(l1.ptr_base == 2u * (31 + 1));
    uint64_t end0 = 0;
    for (const auto& pe : img.pes) end0 = std::max(end0, pe.layer_counts[0].entries);
    CHECK(l1.entry_base == (end0 + 7) / 8 * 8);
    // Activations: layer 0 input (8 per PE) in the RF; its batched output
    // (13 per PE) in the SRAM at 0; layer 1 reads it from there and writes
    // its output (5 per PE, 1 batch) to the RF.
    CHECK_FALSE(l0.input.in_sram);
    CHECK(l0.output.in_sram);
    CHECK(l0.output.sram_base == 0);
    CHECK(l1.input.in_sram);
    CHECK(l1.input.sram_base == 0);
    CHECK_FALSE(l1.output.in_sram);
}

TEST_CASE("activation SRAM regions do not overlap the layer's own input", "[encode]") {
    std::mt19937_64 rng(10);
    // 1 PE, RF of 4: every vector longer than 4 lives in the SRAM.
    auto net = random_network({10, 12, 6, 30}, 0.2, false, 4, rng);
    const Image img = encode_layers(net, small_arch(1, 4, 4));
    const auto& L = img.layers;
    CHECK(L[0].input.in_sram);
    CHECK(L[0].input.sram_base == 0);
    CHECK(L[0].output.sram_base == 10);  // 12 entries do not fit below the input at 0
    CHECK(L[1].input.sram_base == 10);
    CHECK(L[1].output.sram_base == 0);  // 6 entries fit in [0, 10)
    CHECK(L[2].input.sram_base == 0);
    CHECK(L[2].output.sram_base == 6);  // 30 entries after the input [0, 6)
    CHECK(img.arch.act_sram_entries >= 36);
}

TEST_CASE("capacity: too many entries for the sparse-matrix SRAM", "[encode][capacity]") {
    std::mt19937_64 rng(4);
    auto net = random_network({64, 96, 32}, 0.5, true, 4, rng);
    net[1].name = "second";
    ArchConfig a;
    a.num_pes = 2;
    a.spmat_sram_bytes = 1024;  // 1024 entries per PE
    a.act_rf_entries = 64;
    std::string msg;
    try {
        encode_layers(net, a);
        FAIL("no CapacityError");
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("layer 1 'second'") != std::string::npos);
    CHECK(msg.find("PE ") != std::string::npos);
    CHECK(msg.find("sparse-matrix SRAM") != std::string::npos);
    const uint64_t bytes = number_after(msg, "spmat_sram_bytes");
    const uint64_t n = number_after(msg, "num_pes");
    REQUIRE(bytes > 1024);
    REQUIRE(n > 2);
    // The suggested values make the network fit, one less PE does not.
    ArchConfig fix = a;
    fix.spmat_sram_bytes = bytes;
    CHECK_NOTHROW(encode_layers(net, fix));
    fix.spmat_sram_bytes = bytes - 8;
    CHECK_THROWS_AS(encode_layers(net, fix), CapacityError);
    fix = a;
    fix.num_pes = static_cast<uint32_t>(n);
    CHECK_NOTHROW(encode_layers(net, fix));
    fix.num_pes = static_cast<uint32_t>(n - 1);
    CHECK_THROWS_AS(encode_layers(net, fix), CapacityError);
    // grow_memories enlarges the SRAM to whole lines and keeps going.
    a.grow_memories = true;
    const Image img = encode_layers(net, a);
    CHECK(img.arch.spmat_sram_bytes == bytes);
    CHECK(img.arch.spmat_sram_bytes * 8 % img.arch.spmat_line_bits == 0);
    CHECK(same_layers(decode_layers(img), net));
}

TEST_CASE("capacity: pointer values and pointer words", "[encode][capacity]") {
    std::mt19937_64 rng(5);
    std::vector<QuantLayer> net = {random_layer("wide", 8, 64, 0.5, false, 4, rng)};
    ArchConfig a;
    a.num_pes = 1;
    a.ptr_bits = 4;  // pointer values up to 15
    std::string msg;
    try {
        encode_layers(net, a);
        FAIL("no CapacityError");
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("'wide'") != std::string::npos);
    CHECK(msg.find("PE 0") != std::string::npos);
    CHECK(msg.find("pointer SRAM") != std::string::npos);
    const uint64_t bits = number_after(msg, "ptr_bits");
    REQUIRE(bits > 4);
    ArchConfig fix = a;
    fix.ptr_bits = static_cast<uint32_t>(bits);
    CHECK_NOTHROW(encode_layers(net, fix));
    fix.ptr_bits = static_cast<uint32_t>(bits - 1);
    CHECK_THROWS_AS(encode_layers(net, fix), CapacityError);
    const uint64_t n = number_after(msg, "num_pes");
    REQUIRE(n > 1);
    fix = a;
    fix.num_pes = static_cast<uint32_t>(n);
    CHECK_NOTHROW(encode_layers(net, fix));

    // Pointer words: 41 per batch, 3 batches with 6 rows per batch.
    std::vector<QuantLayer> tall = {random_layer("tall", 40, 18, 0.1, false, 4, rng)};
    ArchConfig b;
    b.num_pes = 1;
    b.act_rf_entries = 6;
    b.ptr_sram_bytes = 200;  // 100 words of 16 bits, 123 needed
    try {
        encode_layers(tall, b);
        FAIL("no CapacityError");
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("'tall'") != std::string::npos);
    CHECK(msg.find("PE") != std::string::npos);
    CHECK(msg.find("pointer SRAM") != std::string::npos);
    CHECK(number_after(msg, "ptr_sram_bytes") == 246);
    CHECK(number_after(msg, "act_rf_entries") == 9);  // 2 batches: 82 words
    b.grow_memories = true;
    const Image img = encode_layers(tall, b);
    CHECK(img.arch.ptr_sram_bytes == 246);
    CHECK(img.pes[0].pointers.size() == 123);
    a.grow_memories = true;
    CHECK(encode_layers(net, a).arch.ptr_bits == bits);
}

TEST_CASE("capacity: activation SRAM and codebook slots", "[encode][capacity]") {
    std::mt19937_64 rng(6);
    auto net = random_network({100, 200, 50}, 0.1, false, 4, rng);
    ArchConfig a;
    a.num_pes = 2;
    a.act_rf_entries = 16;
    a.act_sram_entries = 64;  // input 50 per PE + output 100 per PE at 50
    std::string msg;
    try {
        encode_layers(net, a);
        FAIL("no CapacityError");
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("'fc0'") != std::string::npos);
    CHECK(msg.find("PE 0") != std::string::npos);
    CHECK(msg.find("activation SRAM") != std::string::npos);
    CHECK(number_after(msg, "act_sram_entries") == 150);
    const uint64_t n = number_after(msg, "num_pes");
    REQUIRE(n > 2);
    ArchConfig fix = a;
    fix.num_pes = static_cast<uint32_t>(n);
    CHECK_NOTHROW(encode_layers(net, fix));
    a.grow_memories = true;
    CHECK(encode_layers(net, a).arch.act_sram_entries == 150);

    ArchConfig c;
    c.codebook_slots = 1;
    try {
        encode_layers(net, c);
        FAIL("no CapacityError");
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    INFO(msg);
    CHECK(msg.find("'fc1'") != std::string::npos);
    CHECK(msg.find("PE") != std::string::npos);
    CHECK(msg.find("codebook") != std::string::npos);
    CHECK(number_after(msg, "codebook_slots") == 2);
    c.grow_memories = true;
    CHECK(encode_layers(net, c).arch.codebook_slots == 2);

    // Codebook values wider than codebook_value_bits: a quantisation error.
    ArchConfig v;
    v.codebook_value_bits = 8;
    try {
        encode_layers(net, v);
        FAIL("no CapacityError");
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    CHECK(msg.find("codebook_value_bits >=") != std::string::npos);
    CHECK(msg.find("eie-compress") != std::string::npos);
}

// The parameter table's grown_by_encoder mark is what the studies read to report
// requested and simulated values: it must name exactly what the encoder grows.
TEST_CASE("grow_memories enlarges exactly the parameters the table marks grown_by_encoder", "[encode][capacity]") {
    std::mt19937_64 rng(11);
    const auto net = random_network({100, 200, 50}, 0.5, false, 4, rng);
    ArchConfig a;  // every capacity the encoder can grow set too small for net
    a.num_pes = 2;
    a.act_rf_entries = 16;
    a.ptr_bits = 4;
    a.ptr_sram_bytes = 2;
    a.spmat_sram_bytes = 8;
    a.act_sram_entries = 8;
    a.codebook_slots = 1;
    a.grow_memories = true;
    REQUIRE_NOTHROW(a.validate());
    const Image img = encode_layers(net, a);
    std::set<std::string> grown, marked;
    for (const ParamDiff& d : diff(a, img.arch)) grown.insert(d.name);
    for (const ParamSpec& s : param_specs())
        if (s.grown_by_encoder) marked.insert(s.name);
    CHECK(grown == marked);
    CHECK(marked.size() == 5);
    // Nothing is grown when everything fits.
    ArchConfig roomy;
    roomy.num_pes = 2;
    roomy.grow_memories = true;
    CHECK(diff(roomy, encode_layers(net, roomy).arch).empty());
}

TEST_CASE("malformed layers are rejected with the field named", "[encode]") {
    std::mt19937_64 rng(7);
    auto net = random_network({10, 12, 6}, 0.3, false, 4, rng);
    ArchConfig a;
    auto bad = net;
    std::swap(bad[0].nonzeros[0], bad[0].nonzeros[1]);
    CHECK_THROWS_WITH(encode_layers(bad, a), Catch::Contains("sorted by (col, row)"));
    bad = net;
    bad[0].nonzeros[0].code = 0;
    CHECK_THROWS_WITH(encode_layers(bad, a), Catch::Contains("code = 0"));
    bad = net;
    bad[1].in_len = 11;
    CHECK_THROWS_WITH(encode_layers(bad, a), Catch::Contains("in_len = 11"));
    bad = net;
    bad[0].codebook.pop_back();
    CHECK_THROWS_WITH(encode_layers(bad, a), Catch::Contains("codebook has 15 values"));
    bad = net;
    bad[1].fmt.in_frac = 3;
    CHECK_THROWS_WITH(encode_layers(bad, a), Catch::Contains("in_frac"));
    CHECK_THROWS_AS(encode_layers({}, a), std::invalid_argument);
}

TEST_CASE("decode rejects corrupt images", "[encode]") {
    std::mt19937_64 rng(8);
    auto net = random_network({20, 30}, 0.3, true, 4, rng);
    Image img = encode_layers(net, small_arch(3, 4, 64));
    Image bad = img;
    bad.pes[1].pointers[5] = 100000;
    CHECK_THROWS_WITH(decode_layers(bad), Catch::Contains("PE 1"));
    bad = img;
    bad.pes[0].entries[0] = make_entry(1, 15, 4);  // row far beyond the PE's 10 rows
    CHECK_THROWS_AS(decode_layers(bad), std::invalid_argument);
}

TEST_CASE("reencode keeps the function and refuses quantisation changes", "[encode]") {
    std::mt19937_64 rng(11);
    auto net = random_network({50, 70, 30}, 0.2, true, 4, rng);
    ArchConfig a = small_arch(4, 4, 8);
    Image img = encode_layers(net, a);
    std::vector<int32_t> in(50);
    std::uniform_int_distribution<int32_t> val(-300, 300);
    for (auto& x : in) x = val(rng) % 3 == 0 ? 0 : val(rng);
    img.input = in;
    img.expected = golden_run(img, in);

    for (const char* change : {"num_pes=7", "index_bits=2", "act_rf_entries=3", "spmat_line_bits=128",
                               "num_pes=1", "queue_depth=2"}) {
        INFO(change);
        ArchConfig b = img.arch;
        apply_override(b, change);
        const Image r = reencode(img, b);
        CHECK(r.input == img.input);
        CHECK(r.expected == img.expected);
        CHECK(golden_run(r, in) == img.expected);
        CHECK(same_layers(decode_layers(r), net));
    }
    ArchConfig w = img.arch;
    w.weight_bits = 5;
    CHECK_THROWS_AS(reencode(img, w), ConfigError);
    try {
        reencode(img, w);
    } catch (const ConfigError& e) {
        const std::string m = e.what();
        CHECK(m.find("weight_bits") != std::string::npos);
        CHECK(m.find("eie-compress") != std::string::npos);
    }
}

TEST_CASE("Alex-6 sized layer encodes fast", "[.][perf]") {
    // 9216 x 4096 at 9%: 3.4 M non-zeros. Hidden: run with [perf].
    std::mt19937_64 rng(42);
    QuantLayer L;
    L.name = "alex6";
    L.in_len = 9216;
    L.out_len = 4096;
    fill_codebook(L, 4, rng);
    std::uniform_int_distribution<uint32_t> code(1, 15);
    std::uniform_real_distribution<double> u(0, 1);
    L.nonzeros.reserve(3500000);
    for (uint32_t j = 0; j < L.in_len; ++j)
        for (uint32_t i = 0; i < L.out_len; ++i)
            if (u(rng) < 0.09) L.nonzeros.push_back({i, j, code(rng)});
    for (uint32_t N : {64u, 1u}) {
        ArchConfig a;
        a.num_pes = N;
        a.grow_memories = true;
        auto t0 = std::chrono::steady_clock::now();
        Image img = encode_layers({L}, a);
        auto t1 = std::chrono::steady_clock::now();
        auto back = decode_layers(img);
        auto t2 = std::chrono::steady_clock::now();
        std::vector<int32_t> in(L.in_len, 0);
        for (uint32_t j = 0; j < L.in_len; ++j)
            if (u(rng) < 0.351) in[j] = 1 + int32_t(j % 200);
        auto out = golden_layer(img, 0, in);
        auto t3 = std::chrono::steady_clock::now();
        auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
        WARN("N=" << N << " nnz=" << L.nonzeros.size() << " encode " << ms(t0, t1) << " ms, decode " << ms(t1, t2)
                  << " ms, golden " << ms(t2, t3) << " ms; spmat_sram_bytes " << img.arch.spmat_sram_bytes);
        CHECK(back[0].nonzeros.size() == L.nonzeros.size());
        CHECK(ms(t0, t1) < 1000);
    }
    // The error path (with its num_pes search) stays interactive too.
    ArchConfig one;
    one.num_pes = 1;
    auto t0 = std::chrono::steady_clock::now();
    std::string msg;
    try {
        encode_layers({L}, one);
    } catch (const CapacityError& e) {
        msg = e.what();
    }
    auto t1 = std::chrono::steady_clock::now();
    const double err_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    WARN(msg << " (" << err_ms << " ms)");
    CHECK(number_after(msg, "num_pes") > 1);
}
