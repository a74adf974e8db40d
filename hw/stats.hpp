// Statistics of a simulation, with the definitions of docs/reference.md
// ("Statistic definitions") (docs/statistics.md lists every field and its meaning).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace eie {

// Per PE, per layer. Every cycle of a layer is exactly one of busy, padding,
// empty_col, starved or stall, so the five add up to the layer's cycles.
struct PeStats {
    // cycle classification (by what the sparse-matrix read stage does)
    uint64_t busy_cycles = 0;       // a real (non-padding) entry issued
    uint64_t padding_cycles = 0;    // a padding entry issued
    uint64_t empty_col_cycles = 0;  // a column with no entries in this PE
    uint64_t starved_cycles = 0;    // nothing to issue: queue empty, layer not done
    uint64_t stall_cycles = 0;      // front end held by stall injection (testing only)
    // work
    uint64_t columns = 0;           // columns popped from the queue
    uint64_t acc_writes = 0;        // destination writes (real entries)
    uint64_t bypass_s3 = 0;         // back-to-back hazards forwarded (distance 1)
    uint64_t bypass_s2 = 0;         // distance-2 hazards forwarded
    // memory and unit accesses (drive the energy model)
    uint64_t spmat_line_reads = 0;
    uint64_t ptr_reads_even = 0;
    uint64_t ptr_reads_odd = 0;
    uint64_t codebook_lookups = 0;
    uint64_t multiplies = 0;
    uint64_t adds = 0;
    uint64_t dst_rf_reads = 0;
    uint64_t dst_rf_writes = 0;
    uint64_t src_rf_reads = 0;      // source activations read for the LNZD scan
    uint64_t act_sram_reads = 0;
    uint64_t act_sram_writes = 0;
    uint64_t queue_pushes = 0;
    uint64_t queue_pops = 0;
    uint64_t queue_max_occupancy = 0;

    uint64_t entries() const { return busy_cycles + padding_cycles; }
    void add(const PeStats& o);
};

struct CcuStats {
    uint64_t packs = 0;                // packs scanned
    uint64_t empty_packs = 0;          // all-zero packs (1 cycle each, nothing broadcast)
    uint64_t broadcasts = 0;           // (index, value) pairs broadcast, bias included
    uint64_t backpressure_stalls = 0;  // cycles a broadcast waited for a full queue
    uint64_t injected_stalls = 0;      // broadcast bubbles from stall injection
    uint64_t lnzd_node_activations = 0;
    void add(const CcuStats& o);
};

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
    double load_balance_efficiency() const;  // 1 - starved / cycles, averaged over PEs
    double useful_work() const;              // acc writes / (N * cycles)
    double real_work_ratio() const;          // real entries / all issued entries
    double padding_share() const;            // padding entries / all issued entries
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

}  // namespace eie
