// The one place that holds every architectural parameter of the EIE model.
//
// Every other part of the project (compressor, cycle model, sweeps, energy
// model) reads parameters from an ArchConfig; the parameter table in
// for_each_param() is the single source of their names, defaults, ranges,
// documentation and of what changing them invalidates.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eie {

// Raised for any invalid parameter; the message names the source, the field,
// the value and what is allowed.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a parameter change invalidates.
enum class ParamClass {
    timing,        // only the cycle model sees it: images stay valid
    layout,        // the per-PE images must be re-encoded (from the decoded image)
    quantisation,  // weights/activations must be re-quantised (needs the float weights)
};

struct ParamSpec {
    const char* name;
    const char* unit;
    const char* doc;
    double min;
    double max;
    ParamClass cls;
    // A microarchitecture choice, not image content: an image manifest without
    // the key takes the default (images written before the key existed load).
    bool image_default = false;
    // A capacity the encoder enlarges to fit under grow_memories (compress/encode.cpp
    // grows these and only these; its unit test checks both directions), so the image's
    // value may exceed the requested one and studies report both.
    bool grown_by_encoder = false;
};

struct ArchConfig {
    // --- array and clock
    uint32_t num_pes = 64;
    uint32_t queue_depth = 8;
    double clock_mhz = 800.0;
    uint32_t lnzd_fanout = 4;
    // --- sparse-matrix SRAM (per PE)
    uint64_t spmat_sram_bytes = 128 * 1024;
    uint32_t spmat_line_bits = 64;
    uint32_t weight_bits = 4;  // codebook index width b
    uint32_t index_bits = 4;   // relative row index width b_idx
    // --- pointer SRAM (per PE), split in even/odd banks
    uint64_t ptr_sram_bytes = 32 * 1024;
    uint32_t ptr_bits = 16;
    // --- activations (per PE)
    uint32_t act_bits = 16;
    uint32_t act_rf_entries = 64;
    uint32_t act_sram_entries = 1024;
    // --- codebook (per PE)
    uint32_t codebook_value_bits = 16;
    uint32_t codebook_slots = 8;
    // --- host interface
    uint32_t dma_bits = 64;
    // --- capacity policy: grow memories to fit instead of failing (scaling studies)
    bool grow_memories = false;
    // --- PE microarchitecture variants (docs/modelling.md, "PE variants")
    bool skip_empty_columns = false;       // pointer read skips columns with no entries in the PE
    uint32_t spmat_entries_per_cycle = 1;  // entries the sparse-matrix read issues per cycle (arithmetic lanes)

    // Derived quantities (never stored, so they cannot disagree with the above).
    uint32_t entry_bits() const { return weight_bits + index_bits; }
    uint32_t entries_per_line() const { return spmat_line_bits / entry_bits(); }
    uint64_t spmat_lines() const { return spmat_sram_bytes * 8 / spmat_line_bits; }
    uint64_t spmat_capacity_entries() const { return spmat_lines() * entries_per_line(); }
    uint64_t ptr_capacity() const { return ptr_sram_bytes * 8 / ptr_bits; }
    uint64_t ptr_max_value() const { return (ptr_bits >= 64) ? ~0ull : ((1ull << ptr_bits) - 1); }
    uint32_t codebook_entries() const { return 1u << weight_bits; }
    uint32_t max_zero_run() const { return (1u << index_bits) - 1; }
    uint64_t batch_rows() const { return uint64_t(act_rf_entries) * num_pes; }
    double clock_period_ns() const { return 1000.0 / clock_mhz; }
    uint32_t lnzd_levels() const;      // levels of the LNZD tree over num_pes leaves
    uint32_t lnzd_nodes() const;       // nodes in that tree (21 for 64 PEs, fan-out 4)

    // Throws ConfigError naming `source` for the first invalid field.
    void validate(const std::string& source = "configuration") const;
};

// Calls f(spec, field) for every parameter, in documentation order.
// f must accept uint32_t&, uint64_t&, double& and bool& fields.
template <class Config, class F>
void for_each_param(Config& c, F&& f) {
    using PC = ParamClass;
    f(ParamSpec{"num_pes", "", "processing elements N", 1, 4096, PC::layout}, c.num_pes);
    f(ParamSpec{"queue_depth", "entries", "activation queue depth D per PE", 1, 1 << 20, PC::timing}, c.queue_depth);
    f(ParamSpec{"clock_mhz", "MHz", "clock frequency", 1e-3, 1e5, PC::timing}, c.clock_mhz);
    f(ParamSpec{"lnzd_fanout", "", "children per LNZD node", 2, 64, PC::timing}, c.lnzd_fanout);
    f(ParamSpec{"spmat_sram_bytes", "bytes", "sparse-matrix SRAM per PE", 1, 1ull << 40, PC::layout, /*image_default=*/false, /*grown_by_encoder=*/true}, c.spmat_sram_bytes);
    f(ParamSpec{"spmat_line_bits", "bits", "sparse-matrix SRAM line width", 8, 4096, PC::layout}, c.spmat_line_bits);
    f(ParamSpec{"weight_bits", "bits", "codebook index width b (2^b - 1 shared weights + zero)", 1, 8, PC::quantisation}, c.weight_bits);
    f(ParamSpec{"index_bits", "bits", "relative row index width", 1, 8, PC::layout}, c.index_bits);
    f(ParamSpec{"ptr_sram_bytes", "bytes", "pointer SRAM per PE (both banks)", 1, 1ull << 40, PC::layout, /*image_default=*/false, /*grown_by_encoder=*/true}, c.ptr_sram_bytes);
    f(ParamSpec{"ptr_bits", "bits", "column pointer width", 4, 32, PC::layout, /*image_default=*/false, /*grown_by_encoder=*/true}, c.ptr_bits);
    f(ParamSpec{"act_bits", "bits", "activation and accumulator width", 4, 32, PC::quantisation}, c.act_bits);
    f(ParamSpec{"act_rf_entries", "entries", "source/destination register file entries per PE", 1, 1 << 20, PC::layout}, c.act_rf_entries);
    f(ParamSpec{"act_sram_entries", "entries", "activation SRAM entries per PE", 0, (1ull << 32) - 1, PC::layout, /*image_default=*/false, /*grown_by_encoder=*/true}, c.act_sram_entries);
    f(ParamSpec{"codebook_value_bits", "bits", "shared weight value width", 4, 32, PC::quantisation}, c.codebook_value_bits);
    f(ParamSpec{"codebook_slots", "codebooks", "codebooks held per PE (one per resident layer)", 1, 4096, PC::layout, /*image_default=*/false, /*grown_by_encoder=*/true}, c.codebook_slots);
    f(ParamSpec{"dma_bits", "bits/cycle", "host DMA width in I/O mode", 8, 65536, PC::timing}, c.dma_bits);
    f(ParamSpec{"grow_memories", "", "grow memories to fit instead of failing (scaling studies)", 0, 1, PC::layout}, c.grow_memories);
    f(ParamSpec{"skip_empty_columns", "", "PE variant: a column with no entries in a PE costs it no cycle", 0, 1, PC::timing, true}, c.skip_empty_columns);
    f(ParamSpec{"spmat_entries_per_cycle", "entries/cycle", "PE variant: sparse-matrix entries issued per cycle (arithmetic lanes)", 1, 2, PC::timing, true}, c.spmat_entries_per_cycle);
}

std::vector<ParamSpec> param_specs();

// True when the whole of `text` is a decimal number (std::stod syntax without
// leading or trailing blanks and without hex, so "inf" and "nan" parse too:
// callers decide about finiteness); the value goes to `out`.
bool parse_whole_number(const std::string& text, double& out);
// True when the whole of `text` is plain decimal digits fitting 64 bits.
bool parse_whole_integer(const std::string& text, uint64_t& out);
// The fields of a separated list ("a,b,,c" -> a, b, "", c): every field kept,
// so callers can name an empty one in their error.
std::vector<std::string> split(const std::string& s, char sep);
const char* to_string(ParamClass c);

nlohmann::json to_json(const ArchConfig& c);
// Reads the keys present in `j` over `base`; unknown keys, wrong types and
// out-of-range values are errors naming `source`. Validates the result.
ArchConfig arch_from_json(const nlohmann::json& j, const std::string& source,
                          ArchConfig base = ArchConfig{});
ArchConfig arch_from_json_file(const std::string& path, ArchConfig base = ArchConfig{});
// Applies "name=value" (as given on a command line). Does not validate the
// whole configuration: call validate() after the last override.
void apply_override(ArchConfig& c, const std::string& assignment,
                    const std::string& source = "command line");

// Names of the parameters that differ between a and b, with their class.
struct ParamDiff {
    std::string name;
    ParamClass cls;
    std::string from, to;
};
std::vector<ParamDiff> diff(const ArchConfig& a, const ArchConfig& b);

}  // namespace eie
