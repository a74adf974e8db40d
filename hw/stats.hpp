// Statistics of a simulation, with the definitions of docs/reference.md
// ("Statistic definitions") (docs/statistics.md lists every field and its meaning).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eie {

// The counter lists: each drives its struct's members, add() and the JSON
// (and through the JSON the documentation check of docs/statistics.md), so a
// counter is added in one line. X(name, meaning).
//
// Per PE, per layer. Every cycle of a layer is exactly one of busy, padding,
// empty_col, starved or stall, so the five add up to the layer's cycles.
#define EIE_PE_COUNTERS(X)                                                                     \
    /* cycle classification (by what the sparse-matrix read stage does) */                    \
    X(busy_cycles, "a real (non-padding) entry issued")                                        \
    X(padding_cycles, "a padding entry issued")                                                \
    X(empty_col_cycles, "a column with no entries in this PE")                                 \
    X(starved_cycles, "nothing to issue: queue empty, layer not done")                         \
    X(stall_cycles, "front end held by stall injection (testing only)")                        \
    /* work */                                                                                 \
    X(columns, "columns popped from the queue")                                                \
    X(acc_writes, "destination writes (real entries)")                                         \
    X(bypass_s3, "back-to-back hazards forwarded (distance 1)")                                \
    X(bypass_s2, "distance-2 hazards forwarded")                                               \
    /* memory and unit accesses (drive the energy model) */                                    \
    X(spmat_line_reads, "sparse-matrix SRAM lines read")                                       \
    X(ptr_reads_even, "even pointer-bank reads")                                               \
    X(ptr_reads_odd, "odd pointer-bank reads")                                                 \
    X(codebook_lookups, "codebook look-ups")                                                   \
    X(multiplies, "multiplies")                                                                \
    X(adds, "accumulator adds")                                                                \
    X(dst_rf_reads, "destination register-file reads")                                         \
    X(dst_rf_writes, "destination register-file writes")                                       \
    X(src_rf_reads, "source activations read for the LNZD scan")                               \
    X(act_sram_reads, "activation SRAM reads")                                                 \
    X(act_sram_writes, "activation SRAM writes")                                               \
    X(queue_pushes, "activation-queue pushes")                                                 \
    X(queue_pops, "activation-queue pops")
// Per PE, per layer: maxima (combined by max, not summed).
#define EIE_PE_MAXIMA(X) X(queue_max_occupancy, "highest activation-queue occupancy")
// The CCU, per layer.
#define EIE_CCU_COUNTERS(X)                                                                    \
    X(packs, "packs scanned")                                                                  \
    X(empty_packs, "all-zero packs (1 cycle each, nothing broadcast)")                         \
    X(broadcasts, "(index, value) pairs broadcast, bias included")                             \
    X(backpressure_stalls, "cycles a broadcast waited for a full queue")                       \
    X(injected_stalls, "broadcast bubbles from stall injection")                               \
    X(lnzd_node_activations, "LNZD node activations")

#define EIE_STATS_MEMBER(name, meaning) uint64_t name = 0;

struct PeStats {
    EIE_PE_COUNTERS(EIE_STATS_MEMBER)
    EIE_PE_MAXIMA(EIE_STATS_MEMBER)

    uint64_t entries() const { return busy_cycles + padding_cycles; }
    void add(const PeStats& o);
};

struct CcuStats {
    EIE_CCU_COUNTERS(EIE_STATS_MEMBER)
    void add(const CcuStats& o);
};

#undef EIE_STATS_MEMBER

// Operations per multiply-accumulate in GOP/s (a multiply and an add).
constexpr double kOpsPerMac = 2.0;

// Seconds of `cycles` clock cycles at `clock_mhz`: every time figure (layer,
// run, I/O mode, energy) goes through this.
inline double cycles_to_seconds(uint64_t cycles, double clock_mhz) { return double(cycles) / (clock_mhz * 1e6); }

// The figures derived from the counters of a span of computing cycles (a
// layer, or a whole run): the one definition of each (docs/statistics.md).
// Every statistics JSON carries them, so scripts read them, never recompute.
struct DerivedFigures {
    double time_us = 0;
    double gops = 0;                     // kOpsPerMac * useful MACs per second
    double load_balance_efficiency = 0;  // 1 - starved / (PEs * cycles)
    double useful_work = 0;              // acc writes / (PEs * cycles)
    double real_work_ratio = 1;          // real entries / all issued entries (1 when none)
    double padding_share = 0;            // padding entries / all issued entries
};
// `pe_total`: the counters summed over the span's PEs (and layers).
DerivedFigures derive_figures(const PeStats& pe_total, uint64_t cycles, uint64_t useful_macs, uint64_t num_pes,
                              double clock_mhz);
// Writes the figures into `j` under their names.
void put_derived(nlohmann::json& j, const DerivedFigures& d);

struct LayerStats {
    std::string name;
    uint32_t in_len = 0, out_len = 0;
    uint32_t batches = 0;
    uint64_t cycles = 0;                // computing-mode cycles of the layer, all batches
    uint64_t writeback_cycles = 0;      // of which: batch results written to the activation SRAM
    uint64_t closed_form_cycles = 0;    // the contract's closed form (valid when no PE starves mid-layer)
    uint64_t useful_macs = 0;           // non-padding entries issued (each a multiply-accumulate)
    std::vector<PeStats> pe;
    CcuStats ccu;

    PeStats pe_total() const;
    DerivedFigures derived(double clock_mhz) const;
    // derived()'s figures that do not depend on the clock
    double load_balance_efficiency() const { return derived(1.0).load_balance_efficiency; }
    double useful_work() const { return derived(1.0).useful_work; }
    double real_work_ratio() const { return derived(1.0).real_work_ratio; }
    double padding_share() const { return derived(1.0).padding_share; }
};

struct RunStats {
    std::vector<LayerStats> layers;
    uint64_t io_cycles = 0;        // host I/O mode (loading, reading back), apart from compute
    uint64_t io_bytes = 0;
    double compute_wall_seconds = 0;  // host time spent simulating computing mode
    uint64_t compute_cycles() const;
};

nlohmann::json to_json(const PeStats& s);
nlohmann::json to_json(const CcuStats& s);
// Includes the derived figures (time, GOP/s at clock_mhz, efficiencies).
nlohmann::json to_json(const LayerStats& s, double clock_mhz);

// The counter lists and the derived figures as data (format "eie-stats-fields",
// version 1): `per_pe` and `ccu` [{name, meaning, combine: "sum" | "max"}],
// `derived` [names]. Printed by eie-sim --list-stats --json; the documentation
// check holds docs/statistics.md to it.
nlohmann::json stats_fields_json();

}  // namespace eie
