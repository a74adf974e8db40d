// Interleaved-CSC encoder / decoder (docs/reference.md; docs/image-format.md
// "Memory layout" gives the layout and the reasons for it).
//
// The encoder works in two passes over each layer's non-zeros (already in
// column-major order): the first counts the entries (padding included) of
// every (PE, batch, column) straight into the pointer words, a prefix sum
// turns the counts into pointers, and the second pass writes the entries
// using the pointer words as cursors (restored afterwards). No per-entry heap
// allocation, no sort: Alex-6 (3.4 M non-zeros) encodes in a few tens of ms.
#include "eie/compress/encode.hpp"
#include "eie/hw/layer_label.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "eie/hw/fixed_point.hpp"

namespace eie {

namespace {


ParamSpec spec_of(const char* name) {
    for (const auto& s : param_specs())
        if (std::string(s.name) == name) return s;
    throw std::logic_error(fmt::format("encode: no parameter '{}' in the table", name));
}

uint64_t param_max(const char* name) { return static_cast<uint64_t>(spec_of(name).max); }

// Every enlargement under grow_memories goes through here: the parameter table
// marks the parameters the encoder may grow (grown_by_encoder), and studies read
// that mark to report requested and simulated values side by side, so growing an
// unmarked parameter is a programming error, not a silent extra column.
template <class T>
void grow_to(T& field, uint64_t value, const char* name) {
    if (!spec_of(name).grown_by_encoder)
        throw std::logic_error(fmt::format("encode: grows {}, which the parameter table does not mark "
                                           "grown_by_encoder", name));
    field = std::max<T>(field, static_cast<T>(value));
}

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Smallest k such that a k-bit unsigned pointer holds v.
uint32_t bits_for(uint64_t v) {
    uint32_t k = 0;
    while (k < 64 && (v >> k) != 0) ++k;
    return k;
}

// ---------------------------------------------------------------- validation

void check_layers(const std::vector<QuantLayer>& layers, const ArchConfig& arch) {
    if (layers.empty()) throw std::invalid_argument("encode: the network has no layers");
    const uint64_t cb_size = arch.codebook_entries();
    for (std::size_t li = 0; li < layers.size(); ++li) {
        const QuantLayer& L = layers[li];
        const std::string who = layer_label(li, L.name);
        auto fail = [&](const std::string& what) { throw std::invalid_argument(fmt::format("{}: {}", who, what)); };
        if (L.in_len == 0) fail("in_len = 0 (a layer needs at least one input)");
        if (L.out_len == 0) fail("out_len = 0 (a layer needs at least one output)");
        if (L.in_len == std::numeric_limits<uint32_t>::max() && L.has_bias)
            fail("in_len is too large to add a bias column");
        if (li > 0) {
            const QuantLayer& P = layers[li - 1];
            if (L.in_len != P.out_len)
                fail(fmt::format("in_len = {} differs from the previous layer's out_len = {} (layers form a chain)",
                                 L.in_len, P.out_len));
            if (L.fmt.in_frac != P.fmt.out_frac)
                fail(fmt::format("fmt.in_frac = {} differs from the previous layer's fmt.out_frac = {} "
                                 "(the hardware does not rescale between layers)",
                                 L.fmt.in_frac, P.fmt.out_frac));
        }
        if (L.codebook.size() != cb_size)
            fail(fmt::format("codebook has {} values, weight_bits = {} needs {}", L.codebook.size(), arch.weight_bits,
                             cb_size));
        if (L.codebook[0] != 0) fail(fmt::format("codebook[0] = {} (index 0 is reserved for exact zero)", L.codebook[0]));
        if (L.codebook_float.size() != cb_size)
            fail(fmt::format("codebook_float has {} values, weight_bits = {} needs {}", L.codebook_float.size(),
                             arch.weight_bits, cb_size));
        if (L.codebook_float[0] != 0.0)
            fail(fmt::format("codebook_float[0] = {} (index 0 is reserved for exact zero)", L.codebook_float[0]));
        const uint32_t nc = L.in_len + (L.has_bias ? 1u : 0u);
        for (std::size_t k = 0; k < L.nonzeros.size(); ++k) {
            const auto& nz = L.nonzeros[k];
            if (nz.col >= nc)
                fail(fmt::format("nonzeros[{}].col = {} out of range (allowed: 0 .. {}{})", k, nz.col, nc - 1,
                                 L.has_bias ? ", the last being the bias column" : ""));
            if (nz.row >= L.out_len)
                fail(fmt::format("nonzeros[{}].row = {} out of range (allowed: 0 .. {})", k, nz.row, L.out_len - 1));
            if (nz.code == 0 || nz.code >= cb_size)
                fail(fmt::format("nonzeros[{}].code = {} out of range (allowed: 1 .. {})", k, nz.code, cb_size - 1));
            if (k > 0) {
                const auto& pv = L.nonzeros[k - 1];
                if (pv.col > nz.col || (pv.col == nz.col && pv.row >= nz.row))
                    fail(fmt::format("nonzeros[{}] = (row {}, col {}) does not follow (row {}, col {}): non-zeros must "
                                     "be sorted by (col, row) without duplicates",
                                     k, nz.row, nz.col, pv.row, pv.col));
            }
        }
    }
}

// ---------------------------------------------------------------- geometry

// Everything about a layer's placement that follows from its shape alone.
struct Geometry {
    uint32_t nc = 0;            // broadcast columns
    uint32_t nb = 1;            // batches
    uint64_t ptr_base = 0;
    uint64_t ptr_count = 0;     // nb * (nc + 1)
    uint64_t in_local = 0;      // ceil(in_len / N)
    uint64_t out_local = 0;     // ceil(out_len / N)
    ActPlacement input, output;
    uint64_t act_sram_end = 0;  // highest activation-SRAM address + 1 used by this layer
};

template <class Layer>
std::vector<Geometry> plan(const std::vector<Layer>& layers, uint32_t N, uint32_t R) {
    std::vector<Geometry> g(layers.size());
    uint64_t ptr_base = 0;
    for (std::size_t li = 0; li < layers.size(); ++li) {
        const auto& L = layers[li];
        Geometry& G = g[li];
        G.nc = L.in_len + (L.has_bias ? 1u : 0u);
        G.out_local = max_local_length(L.out_len, N);
        G.in_local = max_local_length(L.in_len, N);
        G.nb = layer_batches(L.out_len, N, R);
        G.ptr_base = ptr_base;
        G.ptr_count = uint64_t(G.nb) * (uint64_t(G.nc) + 1);
        ptr_base += G.ptr_count;
        // Input: layer 0's is loaded by the host (RF when it fits, else SRAM at
        // 0); every later layer reads where the previous one wrote.
        if (li == 0) {
            G.input.in_sram = G.in_local > R;
            G.input.sram_base = 0;
        } else {
            G.input = g[li - 1].output;
        }
        // Output: only a batched layer needs the SRAM (each batch leaves the
        // destination RF there); placed at the lowest address that does not
        // overlap this layer's own SRAM-resident input, which is still being read.
        G.output.in_sram = G.nb > 1;
        G.output.sram_base = 0;
        if (G.output.in_sram && G.input.in_sram && G.out_local > G.input.sram_base)
            G.output.sram_base = static_cast<uint32_t>(G.input.sram_base + G.in_local);
        if (G.input.in_sram) G.act_sram_end = std::max(G.act_sram_end, G.input.sram_base + G.in_local);
        if (G.output.in_sram) G.act_sram_end = std::max(G.act_sram_end, G.output.sram_base + G.out_local);
    }
    return g;
}

// ---------------------------------------------------------------- column walk

// Where each output row lives.
struct RowSlot {
    uint32_t pe, local, batch;
};

std::vector<RowSlot> row_table(uint32_t out_len, uint32_t N, uint32_t R) {
    std::vector<RowSlot> t(out_len);
    for (uint32_t i = 0; i < out_len; ++i) {
        uint32_t local = i / N;
        t[i] = RowSlot{i % N, local, local / R};
    }
    return t;
}

// Visits the stored non-zeros of a layer in column-major order, telling the
// caller for each one its PE, batch, column, code and the zero rows of that
// PE skipped since the previous stored weight of the same (PE, batch, column)
// (or since the batch's first local row). The caller turns the gap into
// floor(gap / 2^index_bits) padding entries plus the weight with
// z = gap mod 2^index_bits.
template <class Emit>
void walk(const QuantLayer& L, uint32_t N, uint32_t R, Emit&& emit) {
    const std::vector<RowSlot> rows = row_table(L.out_len, N, R);
    struct PeState {
        uint32_t col = std::numeric_limits<uint32_t>::max();
        uint32_t batch = 0;
        uint32_t next = 0;  // first local row not yet covered by an entry
    };
    std::vector<PeState> st(N);
    for (const auto& nz : L.nonzeros) {
        const RowSlot& rs = rows[nz.row];
        PeState& s = st[rs.pe];
        if (s.col != nz.col || s.batch != rs.batch) {
            s.col = nz.col;
            s.batch = rs.batch;
            s.next = rs.batch * R;
        }
        emit(rs.pe, rs.batch, nz.col, rs.local - s.next, nz.code);
        s.next = rs.local + 1;
    }
}

// ---------------------------------------------------------------- capacity needs

// What a whole network needs of each memory under a given layout (count only,
// used to suggest the parameter values that would make a network fit).
struct Needs {
    uint64_t spmat_end = 0;   // max over PEs of the last layer's end address
    uint64_t ptr_words = 0;   // pointer words per PE
    uint64_t ptr_value = 0;   // largest pointer value (one layer's entries on one PE)
    uint64_t act_sram = 0;    // activation-SRAM entries
};

Needs measure_act_ptr(const std::vector<QuantLayer>& layers, uint32_t N, uint32_t R) {
    Needs n;
    for (const auto& G : plan(layers, N, R)) {
        n.ptr_words += G.ptr_count;
        n.act_sram = std::max(n.act_sram, G.act_sram_end);
    }
    return n;
}

Needs measure(const std::vector<QuantLayer>& layers, uint32_t N, uint32_t R, uint32_t index_bits, uint32_t epl) {
    Needs n = measure_act_ptr(layers, N, R);
    std::vector<uint64_t> count(N);
    uint64_t base = 0;
    for (const auto& L : layers) {
        std::fill(count.begin(), count.end(), 0);
        walk(L, N, R, [&](uint32_t pe, uint32_t, uint32_t, uint32_t gap, uint32_t) {
            count[pe] += (gap >> index_bits) + 1;
        });
        uint64_t mx = *std::max_element(count.begin(), count.end());
        n.ptr_value = std::max(n.ptr_value, mx);
        n.spmat_end = base + mx;
        base = ceil_div(base + mx, epl) * epl;
    }
    return n;
}

// Smallest value in (from, limit] for which fits() holds, found by doubling
// then bisection (the needs fall as the parameter grows); 0 when even
// `limit` does not fit.
template <class Fits>
uint64_t search_up(uint64_t from, uint64_t limit, Fits&& fits) {
    uint64_t lo = from, hi = std::min(limit, std::max<uint64_t>(from * 2, from + 1));
    while (!fits(hi)) {
        if (hi >= limit) return 0;
        lo = hi;
        hi = std::min(limit, hi * 2);
    }
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (fits(mid)) hi = mid;
        else lo = mid;
    }
    return hi;
}

[[noreturn]] void capacity_error(const std::string& who, const std::string& pe, const std::string& memory,
                                 const std::string& need, const std::string& have,
                                 const std::vector<std::string>& fixes) {
    std::string fix;
    for (const auto& f : fixes) fix += (fix.empty() ? "" : " or ") + f;
    if (fix.empty()) fix = "no single parameter change found";
    throw CapacityError(fmt::format("{} does not fit the {} of {}: needs {}, available {}; the {} fits with {} "
                                    "(or set grow_memories=true to enlarge the memories)",
                                    who, memory, pe, need, have, memory, fix));
}

std::string pe_suggestion(uint64_t m) { return m ? fmt::format("num_pes >= {}", m) : std::string(); }

void push_if(std::vector<std::string>& v, const std::string& s) {
    if (!s.empty()) v.push_back(s);
}

// ---------------------------------------------------------------- encoder

class Encoder {
public:
    Encoder(const std::vector<QuantLayer>& layers, const ArchConfig& arch)
        : layers_(layers), arch_(arch), grow_(arch.grow_memories) {}

    Image run() {
        const uint32_t N = arch_.num_pes, R = arch_.act_rf_entries;
        geo_ = plan(layers_, N, R);
        img_.arch = arch_;
        img_.pes.resize(N);
        const uint64_t total_ptrs = geo_.back().ptr_base + geo_.back().ptr_count;
        for (auto& pe : img_.pes) {
            pe.layer_counts.resize(layers_.size());
            pe.codebooks.resize(layers_.size());
        }
        uint64_t entry_base = 0;
        for (std::size_t li = 0; li < layers_.size(); ++li) {
            check_static(li);
            // Pointer words are allocated layer by layer, after the pointer
            // count check, so an oversized layout fails before it allocates.
            const uint64_t ptr_end = geo_[li].ptr_base + geo_[li].ptr_count;
            for (auto& pe : img_.pes) pe.pointers.resize(ptr_end, 0);
            entry_base = encode_layer(li, entry_base);
        }
        if (grow_) {
            // Pointer SRAM last: ptr_bits may have grown with a later layer.
            ArchConfig& a = img_.arch;
            grow_to(a.ptr_sram_bytes, ceil_div(total_ptrs * a.ptr_bits, 8), "ptr_sram_bytes");
            a.validate("grown architecture");
        }
        return std::move(img_);
    }

private:
    const std::vector<QuantLayer>& layers_;
    const ArchConfig arch_;
    const bool grow_;
    std::vector<Geometry> geo_;
    Image img_;

    std::string who(std::size_t li) const { return layer_label(li, layers_[li].name); }

    // Checks that depend on the layer's shape only: codebook slot and
    // values, pointer words, activation SRAM.
    void check_static(std::size_t li) {
        const QuantLayer& L = layers_[li];
        const Geometry& G = geo_[li];
        ArchConfig& a = img_.arch;
        // codebook slot
        if (li >= a.codebook_slots) {
            const uint64_t slot_max = param_max("codebook_slots");
            if (grow_ && li < slot_max) {
                grow_to(a.codebook_slots, li + 1, "codebook_slots");
            } else {
                capacity_error(who(li), "every PE", "codebook memory",
                               fmt::format("slot {} (one codebook per layer, {} layers)", li, layers_.size()),
                               fmt::format("{} slots (codebook_slots = {})", a.codebook_slots, a.codebook_slots),
                               {fmt::format("codebook_slots >= {}", layers_.size())});
            }
        }
        // codebook values: a quantisation matter, never grown
        for (std::size_t k = 0; k < L.codebook.size(); ++k) {
            const int32_t v = L.codebook[k];
            if (v < fx::min_value(a.codebook_value_bits) || v > fx::max_value(a.codebook_value_bits)) {
                uint32_t need = a.codebook_value_bits;
                for (int32_t w : L.codebook)
                    while (w < fx::min_value(need) || w > fx::max_value(need)) ++need;
                std::vector<std::string> fixes;
                if (need <= param_max("codebook_value_bits"))
                    fixes.push_back(fmt::format("codebook_value_bits >= {} (a quantisation parameter: re-compress "
                                                "the weights with eie-compress)",
                                                need));
                else
                    fixes.push_back("a smaller w_frac (re-compress the weights with eie-compress)");
                capacity_error(who(li), "every PE", "codebook memory",
                               fmt::format("codebook[{}] = {} (w_frac = {})", k, v, L.fmt.w_frac),
                               fmt::format("{}-bit values ({} .. {})", a.codebook_value_bits,
                                           fx::min_value(a.codebook_value_bits), fx::max_value(a.codebook_value_bits)),
                               fixes);
            }
        }
        // pointer words (same on every PE)
        const uint64_t ptr_end = G.ptr_base + G.ptr_count;
        if (!grow_ && ptr_end > a.ptr_capacity()) {
            const Needs whole = measure_act_ptr(layers_, a.num_pes, a.act_rf_entries);
            std::vector<std::string> fixes;
            fixes.push_back(fmt::format("ptr_sram_bytes >= {}", ceil_div(whole.ptr_words * a.ptr_bits, 8)));
            const uint64_t cap = a.ptr_capacity();
            push_if(fixes, pe_suggestion(search_up(a.num_pes, param_max("num_pes"), [&](uint64_t n) {
                        return measure_act_ptr(layers_, uint32_t(n), a.act_rf_entries).ptr_words <= cap;
                    })));
            uint64_t r = search_up(a.act_rf_entries, param_max("act_rf_entries"), [&](uint64_t rr) {
                return measure_act_ptr(layers_, a.num_pes, uint32_t(rr)).ptr_words <= cap;
            });
            if (r) fixes.push_back(fmt::format("act_rf_entries >= {} (fewer batches)", r));
            capacity_error(who(li), "PE 0 (the same on every PE)", "pointer SRAM",
                           fmt::format("{} pointer words up to this layer ({} batches x {} pointers here; the whole "
                                       "network needs {})",
                                       ptr_end, G.nb, G.nc + 1, whole.ptr_words),
                           fmt::format("{} words of {} bits (ptr_sram_bytes = {})", cap, a.ptr_bits,
                                       a.ptr_sram_bytes),
                           fixes);
        }
        // activation SRAM (PE 0 holds the longest local vectors)
        if (G.act_sram_end > a.act_sram_entries) {
            const uint64_t sram_max = param_max("act_sram_entries");
            if (grow_ && G.act_sram_end <= sram_max) {
                grow_to(a.act_sram_entries, G.act_sram_end, "act_sram_entries");
            } else {
                const Needs whole = measure_act_ptr(layers_, a.num_pes, a.act_rf_entries);
                const uint64_t cap = a.act_sram_entries;
                std::vector<std::string> fixes;
                fixes.push_back(fmt::format("act_sram_entries >= {}", whole.act_sram));
                push_if(fixes, pe_suggestion(search_up(a.num_pes, param_max("num_pes"), [&](uint64_t n) {
                            return measure_act_ptr(layers_, uint32_t(n), a.act_rf_entries).act_sram <= cap;
                        })));
                uint64_t r = search_up(a.act_rf_entries, param_max("act_rf_entries"), [&](uint64_t rr) {
                    return measure_act_ptr(layers_, a.num_pes, uint32_t(rr)).act_sram <= cap;
                });
                if (r) fixes.push_back(fmt::format("act_rf_entries >= {}", r));
                std::string regions;
                if (G.input.in_sram)
                    regions += fmt::format("input [{}, {})", G.input.sram_base, G.input.sram_base + G.in_local);
                if (G.output.in_sram)
                    regions += fmt::format("{}output [{}, {})", regions.empty() ? "" : " and ", G.output.sram_base,
                                           G.output.sram_base + G.out_local);
                capacity_error(who(li), "PE 0", "activation SRAM",
                               fmt::format("{} entries ({}; the whole network needs {})", G.act_sram_end, regions,
                                           whole.act_sram),
                               fmt::format("{} entries (act_sram_entries)", cap), fixes);
            }
        }
    }

    // Checks once the layer's entry counts are known.
    void check_entries(std::size_t li, uint64_t entry_base, uint64_t max_count, uint32_t worst_end_pe,
                       uint32_t worst_count_pe) {
        ArchConfig& a = img_.arch;
        const uint64_t end = entry_base + max_count;
        const uint64_t epl = a.entries_per_line();
        // pointer values: one layer's entries on one PE
        if (max_count > a.ptr_max_value()) {
            const uint32_t need_bits = std::max<uint32_t>(bits_for(max_count), 4);
            if (grow_ && need_bits <= param_max("ptr_bits")) {
                grow_to(a.ptr_bits, need_bits, "ptr_bits");
            } else {
                const uint64_t vmax = a.ptr_max_value();
                std::vector<std::string> fixes;
                if (need_bits <= param_max("ptr_bits")) fixes.push_back(fmt::format("ptr_bits >= {}", need_bits));
                const std::vector<QuantLayer> one(layers_.begin() + li, layers_.begin() + li + 1);
                push_if(fixes, pe_suggestion(search_up(a.num_pes, param_max("num_pes"), [&](uint64_t n) {
                            return measure(one, uint32_t(n), a.act_rf_entries, a.index_bits, uint32_t(epl)).ptr_value <=
                                   vmax;
                        })));
                capacity_error(who(li), fmt::format("PE {}", worst_count_pe), "pointer SRAM",
                               fmt::format("pointer values up to {} (this layer's entries on that PE)", max_count),
                               fmt::format("{}-bit pointers (up to {}, ptr_bits = {})", a.ptr_bits, vmax, a.ptr_bits),
                               fixes);
            }
        }
        if (max_count > std::numeric_limits<uint32_t>::max())
            capacity_error(who(li), fmt::format("PE {}", worst_count_pe), "pointer SRAM",
                           fmt::format("pointer values up to {}", max_count), "at most 32-bit pointers",
                           {"more PEs (num_pes)"});
        // sparse-matrix SRAM
        if (end > a.spmat_capacity_entries()) {
            const uint64_t lines = ceil_div(end, epl);
            const uint64_t bytes = lines * a.spmat_line_bits / 8;
            if (grow_ && bytes <= param_max("spmat_sram_bytes")) {
                grow_to(a.spmat_sram_bytes, bytes, "spmat_sram_bytes");
            } else {
                const uint64_t cap = a.spmat_capacity_entries();
                const Needs whole = measure(layers_, a.num_pes, a.act_rf_entries, a.index_bits, uint32_t(epl));
                std::vector<std::string> fixes;
                fixes.push_back(
                    fmt::format("spmat_sram_bytes >= {}", ceil_div(whole.spmat_end, epl) * a.spmat_line_bits / 8));
                push_if(fixes, pe_suggestion(search_up(a.num_pes, param_max("num_pes"), [&](uint64_t n) {
                            return measure(layers_, uint32_t(n), a.act_rf_entries, a.index_bits, uint32_t(epl))
                                       .spmat_end <= cap;
                        })));
                capacity_error(
                    who(li), fmt::format("PE {}", worst_end_pe), "sparse-matrix SRAM",
                    fmt::format("{} entries up to the end of this layer ({} lines; the whole network needs {} entries)",
                                end, lines, whole.spmat_end),
                    fmt::format("{} entries ({} lines of {} entries, spmat_sram_bytes = {})", cap, a.spmat_lines(),
                                epl, a.spmat_sram_bytes),
                    fixes);
            }
        }
    }

    // Encodes layer li at entry_base; returns the next layer's entry_base.
    uint64_t encode_layer(std::size_t li, uint64_t entry_base) {
        const QuantLayer& L = layers_[li];
        const Geometry& G = geo_[li];
        const uint32_t N = arch_.num_pes, R = arch_.act_rf_entries;
        const uint32_t ib = arch_.index_bits, wb = arch_.weight_bits;
        const uint32_t max_run = arch_.max_zero_run();
        const uint64_t stride = uint64_t(G.nc) + 1;

        std::vector<uint32_t*> ptr(N);
        for (uint32_t p = 0; p < N; ++p) ptr[p] = img_.pes[p].pointers.data() + G.ptr_base;

        // Pass 1: count entries of (PE, batch, column) into the word of column j + 1.
        std::vector<uint64_t> padding(N, 0);
        walk(L, N, R, [&](uint32_t pe, uint32_t b, uint32_t col, uint32_t gap, uint32_t) {
            const uint32_t pad = gap >> ib;
            ptr[pe][b * stride + col + 1] += pad + 1;
            padding[pe] += pad;
        });
        // Prefix sums, running on across batches.
        uint64_t max_count = 0;
        uint32_t worst_count_pe = 0;
        std::vector<uint64_t> count(N);
        for (uint32_t p = 0; p < N; ++p) {
            uint32_t* P = ptr[p];
            uint64_t run = 0;
            for (uint32_t b = 0; b < G.nb; ++b) {
                uint32_t* Q = P + b * stride;
                Q[0] = static_cast<uint32_t>(run);
                for (uint32_t j = 1; j <= G.nc; ++j) {
                    run += Q[j];
                    // Saturate instead of wrapping; check_entries reports it.
                    Q[j] = static_cast<uint32_t>(std::min<uint64_t>(run, std::numeric_limits<uint32_t>::max()));
                }
            }
            count[p] = run;
            if (run > max_count) {
                max_count = run;
                worst_count_pe = p;
            }
        }
        // All PEs start the layer at the same entry_base, so the PE with most
        // entries is also the one whose end address is highest.
        check_entries(li, entry_base, max_count, worst_count_pe, worst_count_pe);

        // Pass 2: write entries, using column-start words as cursors.
        std::vector<uint16_t*> ent(N);
        for (uint32_t p = 0; p < N; ++p) {
            auto& E = img_.pes[p].entries;
            E.resize(entry_base + count[p], 0);
            ent[p] = E.data() + entry_base;
        }
        const uint16_t pad_entry = make_entry(0, max_run, wb);
        walk(L, N, R, [&](uint32_t pe, uint32_t b, uint32_t col, uint32_t gap, uint32_t code) {
            uint32_t& cur = ptr[pe][b * stride + col];
            uint16_t* E = ent[pe];
            for (uint32_t k = gap >> ib; k > 0; --k) E[cur++] = pad_entry;
            E[cur++] = make_entry(code, gap & max_run, wb);
        });
        // Restore: word j now holds the end of column j, i.e. the start of j + 1.
        for (uint32_t p = 0; p < N; ++p) {
            uint32_t* P = ptr[p];
            for (uint32_t b = 0; b < G.nb; ++b) {
                uint32_t* Q = P + b * stride;
                for (uint32_t j = G.nc - 1; j >= 1; --j) Q[j] = Q[j - 1];
                Q[0] = b == 0 ? 0u : Q[-1];  // = previous batch's last word (never a cursor)
            }
        }

        // Descriptor, codebooks, counts.
        LayerDesc d;
        d.name = L.name;
        d.in_len = L.in_len;
        d.out_len = L.out_len;
        d.has_bias = L.has_bias;
        d.act = L.act;
        d.fmt = L.fmt;
        d.num_batches = G.nb;
        d.ptr_base = G.ptr_base;
        d.entry_base = entry_base;
        d.codebook_slot = static_cast<uint32_t>(li);
        d.codebook = L.codebook;
        d.codebook_float = L.codebook_float;
        d.input = G.input;
        d.output = G.output;
        img_.layers.push_back(std::move(d));
        for (uint32_t p = 0; p < N; ++p) {
            auto& pe = img_.pes[p];
            pe.codebooks[li] = L.codebook;
            pe.layer_counts[li] = PeLayerCounts{count[p], padding[p], local_length(L.out_len, N, p)};
        }
        const uint64_t epl = arch_.entries_per_line();
        return ceil_div(entry_base + max_count, epl) * epl;
    }
};

}  // namespace

Image encode_layers(const std::vector<QuantLayer>& layers, const ArchConfig& arch) {
    arch.validate("architecture");
    check_layers(layers, arch);
    return Encoder(layers, arch).run();
}

// ---------------------------------------------------------------- decoder

std::vector<QuantLayer> decode_layers(const Image& image) {
    const ArchConfig& a = image.arch;
    const uint32_t N = a.num_pes, R = a.act_rf_entries, wb = a.weight_bits;
    if (image.pes.size() != N)
        throw std::invalid_argument(
            fmt::format("decode: the image has {} PEs but arch.num_pes = {}", image.pes.size(), N));
    std::vector<QuantLayer> out;
    out.reserve(image.layers.size());
    for (std::size_t li = 0; li < image.layers.size(); ++li) {
        const LayerDesc& d = image.layers[li];
        const std::string who = layer_label(li, d.name);
        auto fail = [&](const std::string& what) {
            throw std::invalid_argument(fmt::format("decode: {}: {}", who, what));
        };
        QuantLayer L;
        L.name = d.name;
        L.in_len = d.in_len;
        L.out_len = d.out_len;
        L.has_bias = d.has_bias;
        L.act = d.act;
        L.fmt = d.fmt;
        L.codebook = d.codebook;
        if (L.codebook.empty() && d.codebook_slot < image.pes[0].codebooks.size())
            L.codebook = image.pes[0].codebooks[d.codebook_slot];
        L.codebook_float = d.codebook_float;
        const uint32_t nc = d.num_cols();
        const uint64_t stride = uint64_t(nc) + 1;
        if (d.num_batches != layer_batches(d.out_len, a))
            fail(fmt::format("num_batches = {} but out_len = {} on {} PEs with act_rf_entries = {} needs {}",
                             d.num_batches, d.out_len, N, R, layer_batches(d.out_len, a)));

        // Two passes: count the weights per column, then place them; rows of a
        // column come from several PEs and are sorted at the end.
        std::vector<uint64_t> col_start(uint64_t(nc) + 1, 0);
        for (int pass = 0; pass < 2; ++pass) {
            std::vector<uint64_t> fill;
            if (pass == 1) {
                for (uint32_t j = 0; j < nc; ++j) col_start[j + 1] += col_start[j];
                L.nonzeros.resize(col_start[nc]);
                fill.assign(col_start.begin(), col_start.end() - 1);
            }
            for (uint32_t p = 0; p < N; ++p) {
                const PeImage& pe = image.pes[p];
                for (uint32_t b = 0; b < d.num_batches; ++b) {
                    const uint64_t q0 = d.ptr_base + b * stride;
                    if (q0 + stride > pe.pointers.size())
                        fail(fmt::format("PE {} batch {}: pointer words {} .. {} beyond the {} stored", p, b, q0,
                                         q0 + stride - 1, pe.pointers.size()));
                    const uint64_t batch_rows = local_rows_in_batch(d.out_len, a, p, b);
                    for (uint32_t j = 0; j < nc; ++j) {
                        const uint64_t lo = pe.pointers[q0 + j], hi = pe.pointers[q0 + j + 1];
                        if (lo > hi || d.entry_base + hi > pe.entries.size())
                            fail(fmt::format("PE {} batch {} column {}: pointers {} .. {} (entry_base {}) outside the "
                                             "{} stored entries",
                                             p, b, j, lo, hi, d.entry_base, pe.entries.size()));
                        uint64_t row = 0;  // running (z + 1) sum: local row in batch + 1
                        for (uint64_t e = lo; e < hi; ++e) {
                            const uint16_t en = pe.entries[d.entry_base + e];
                            row += entry_zeros(en, wb) + 1;
                            if (row > batch_rows)
                                fail(fmt::format("PE {} batch {} column {}: entry {} reaches local row {} of a batch "
                                                 "with {} rows",
                                                 p, b, j, d.entry_base + e, row - 1, batch_rows));
                            const uint32_t code = entry_code(en, wb);
                            if (code == 0) continue;
                            if (pass == 0) {
                                ++col_start[j + 1];
                            } else {
                                const uint64_t local = uint64_t(b) * R + row - 1;
                                L.nonzeros[fill[j]++] =
                                    QuantLayer::NonZero{static_cast<uint32_t>(local * N + p), j, code};
                            }
                        }
                    }
                }
            }
        }
        for (uint32_t j = 0; j < nc; ++j)
            std::sort(L.nonzeros.begin() + col_start[j], L.nonzeros.begin() + col_start[j + 1],
                      [](const QuantLayer::NonZero& x, const QuantLayer::NonZero& y) { return x.row < y.row; });
        out.push_back(std::move(L));
    }
    return out;
}

Image reencode(const Image& image, const ArchConfig& arch) {
    for (const auto& d : diff(image.arch, arch)) {
        if (d.cls == ParamClass::quantisation)
            throw ConfigError(fmt::format("{} differs ({} in the image, {} requested): it is a quantisation "
                                          "parameter, so the weights must be re-compressed with eie-compress "
                                          "from the float weights",
                                          d.name, d.from, d.to));
    }
    Image out = encode_layers(decode_layers(image), arch);
    out.input = image.input;
    out.input_float = image.input_float;
    out.expected = image.expected;
    out.expected_float = image.expected_float;
    return out;
}

}  // namespace eie
