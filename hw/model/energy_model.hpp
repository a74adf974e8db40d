// Energy, power and area of an EIE configuration from the access counts of
// the cycle model (hw/stats.hpp) and a table of per-event energies and
// per-module areas (docs/energy-area.md gives every number, its source, its
// unit and the scaling laws).
//
// Energy = sum over events of count x energy-per-event (scaled from the
// paper configuration to the ArchConfig at hand), plus a clock-network energy
// per PE per cycle and a leakage power per mm^2 of PE area. The defaults are
// derived from the published 45 nm figures (EIE Tables I and II, docs/reference.md) and
// calibrated so that the per-module PE power of the Alex-7 benchmark matches
// the published per-module power (eie-energy-calibrate recomputes them).
//
// Plain C++ (no SystemC): it only reads statistics.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eie/hw/arch_config.hpp"
#include "eie/hw/stats.hpp"

namespace eie {

// A bad energy table: the message names the source (file), the key, the
// value and what is allowed.
struct EnergyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Every per-event energy and per-module area holds at the paper
// configuration (ArchConfig{} defaults: 64-bit lines, 128 KB sparse-matrix
// SRAM, 32 KB pointer SRAM in two 16-bit banks, 16-bit activations and
// codebook values, 64-entry register files, 1K-entry activation SRAM, 8-deep
// queues, fan-out-4 LNZD nodes); the model scales them to other
// configurations with the laws of docs/energy-area.md.
struct EnergyTable {
    // --- dynamic energy per event, pJ
    double spmat_line_read_pj = 0;   // one sparse-matrix SRAM line read (64 bit, 128 KB)
    double ptr_bank_read_pj = 0;     // one pointer read from one bank (16 bit, 16 KB bank)
    double codebook_lookup_pj = 0;   // one codebook look-up (16-bit value)
    double mult_pj = 0;              // one 16 x 16-bit multiply
    double add_pj = 0;               // one 16-bit accumulate
    double dst_rf_read_pj = 0;       // destination register file read (16 bit, 64 entries)
    double dst_rf_write_pj = 0;      // destination register file write
    double src_rf_read_pj = 0;       // source register file read (LNZD scan)
    double act_sram_read_pj = 0;     // activation SRAM read (16 bit, 1K entries)
    double act_sram_write_pj = 0;    // activation SRAM write
    double queue_push_pj = 0;        // activation queue push (one PE, 8 entries)
    double queue_pop_pj = 0;         // activation queue pop
    double lnzd_node_pj = 0;         // one LNZD node active for one cycle (fan-out 4)
    // --- clock network, pJ per PE per cycle, by PE module
    double clock_spmat_read_pj = 0;
    double clock_ptr_read_pj = 0;
    double clock_arith_unit_pj = 0;
    double clock_act_rw_pj = 0;
    double clock_act_queue_pj = 0;
    // --- static power
    double leakage_mw_per_mm2 = 0;   // leakage power per mm^2 of PE area
    // --- scaling exponents (CACTI-like trends; docs/energy-area.md)
    double sram_energy_width_exp = 0;  // E ~ width^a
    double sram_energy_size_exp = 0;   // E ~ size^b
    double sram_area_width_exp = 0;    // A ~ width^c
    double sram_area_size_exp = 0;     // A ~ size^d
    // --- area per PE module, um^2 (paper configuration)
    double area_spmat_read_um2 = 0;
    double area_ptr_read_um2 = 0;
    double area_arith_unit_um2 = 0;
    double area_act_rw_um2 = 0;
    double area_act_queue_um2 = 0;
    double area_filler_um2 = 0;
    double area_lnzd_node_um2 = 0;

    // The compiled-in defaults (identical to traces/energy/default-45nm.json).
    static EnergyTable defaults();
    // Every key must be present, a finite number >= 0 (exponents: a finite
    // number in [0, 2]); unknown keys are errors. An optional top-level
    // string "about" is allowed (free text). Errors name `source`.
    static EnergyTable from_json(const nlohmann::json& j, const std::string& source);
    static EnergyTable from_json_file(const std::string& path);
    nlohmann::json to_json() const;
    bool operator==(const EnergyTable& o) const;
    bool operator!=(const EnergyTable& o) const { return !(*this == o); }
};

// One entry of the table, for documentation and generic code.
struct EnergyTableEntry {
    const char* key;
    const char* unit;
    const char* doc;
    double EnergyTable::*field;
    double max;  // largest allowed value (min is 0)
};
const std::vector<EnergyTableEntry>& energy_table_entries();

// The per-event energies of a configuration (the table's values scaled to
// it), pJ; clock in pJ per PE per cycle; leakage in mW per PE.
struct EventEnergies {
    double spmat_line_read = 0, ptr_bank_read = 0, nonempty_bit_read = 0, codebook_lookup = 0, mult = 0, add = 0;
    double dst_rf_read = 0, dst_rf_write = 0, src_rf_read = 0, act_sram_read = 0, act_sram_write = 0;
    double queue_push = 0, queue_pop = 0, lnzd_node = 0;
    std::map<std::string, double> clock_pj_per_cycle;  // by PE module
    std::map<std::string, double> leakage_mw;          // by PE module (per PE)
    nlohmann::json to_json() const;
};
EventEnergies event_energies(const ArchConfig& arch, const EnergyTable& table);

// ----------------------------------------------------- the module table
// The one home of the energy model's names: the model, the calibration tool
// (eie-energy-calibrate), the JSON (component_pj, module_pj, pe_module_um2)
// and the docs check (eie-energy-calibrate --list-modules) all read these
// two tables.

// A PE module as the paper reports it (EIE Table II), with the laws that
// scale its clock load and area from the paper configuration (both 1 there).
struct PeModule {
    const char* name;                // JSON key
    const char* paper_name;          // the name in EIE Table II
    double paper_power_mw;           // published power of one PE's module (45 nm, 800 MHz): calibration target
    double EnergyTable::*clock_pj;   // its clock network per PE-cycle
    double EnergyTable::*area_um2;   // its area (paper configuration)
    const char* holds;               // what it holds (docs)
    double (*clock_scale)(const ArchConfig&);                    // register bits / paper's
    double (*area_scale)(const ArchConfig&, const EnergyTable&);  // area / paper's
};
// spmat_read ptr_read arith_unit act_rw act_queue, in the paper's order.
// Outside the PEs: the LNZD tree ("lnzd"). Area adds "filler".
const std::vector<PeModule>& pe_modules();

// One kind of event the energy model charges: the energy component and the
// module it belongs to, the table value its energy scales from and the
// statistics that count it.
struct EnergyEvent {
    const char* name;                     // EventEnergies field, "<name>_pj" in the JSON
    const char* component;                // component_pj key
    const char* module;                   // module_pj key: a PeModule or "lnzd"
    const char* counted_by;               // the statistics that count it (docs)
    double EnergyTable::*base_pj;         // its energy at the paper configuration
    double EventEnergies::*energy;        // its energy in this configuration
    double (*count)(const LayerStats& layer, const PeStats& all_pes, const ArchConfig& arch);
};
const std::vector<EnergyEvent>& energy_events();

// Names derived from the tables (for JSON and generic code).
const std::vector<std::string>& pe_module_names();
// The event components in table order, then "clock" and "leakage".
const std::vector<std::string>& energy_component_names();

struct EnergyBreakdown {
    uint32_t num_pes = 0;
    double clock_mhz = 0;
    uint64_t cycles = 0;                            // computing-mode cycles covered
    uint64_t useful_macs = 0;                       // non-padding multiply-accumulates (LayerStats)
    std::map<std::string, double> component_pj;     // whole array, by energy component
    std::map<std::string, double> module_pj;        // whole array, by PE module (each with its
                                                    // clock and leakage share) and "lnzd"
    double total_pj = 0;                            // everything, LNZD included
    double pe_total_pj = 0;                         // all PEs, LNZD excluded
    double time_s = 0;                              // cycles / clock
    double average_power_mw = 0;                    // total_pj / time_s
    double pe_average_power_mw = 0;                 // pe_total_pj / time_s / num_pes (one PE)
    // total_pj / useful_macs (0 when there are none); to_json also gives GOP/s per W.
    double pj_per_useful_mac() const { return useful_macs ? total_pj / double(useful_macs) : 0.0; }
    // Average power of one PE's module (mW), as the paper's per-module table.
    double module_power_per_pe_mw(const std::string& module) const;
    // Adds another layer's breakdown (same array and clock).
    void add(const EnergyBreakdown& o);
    nlohmann::json to_json() const;  // pJ and mW, with units in the key names
};

// Energy of one layer (every PE and the LNZD tree over ls.cycles).
// Throws EnergyError if ls.pe.size() != arch.num_pes.
EnergyBreakdown estimate_energy(const LayerStats& ls, const ArchConfig& arch, const EnergyTable& table);
// Sum over layers (a network run).
EnergyBreakdown estimate_energy(const std::vector<LayerStats>& layers, const ArchConfig& arch,
                                const EnergyTable& table);

struct AreaBreakdown {
    uint32_t num_pes = 0;
    uint32_t lnzd_nodes = 0;
    std::map<std::string, double> pe_module_um2;  // one PE: spmat_read ptr_read arith_unit act_rw act_queue filler
    double pe_total_um2 = 0;
    double lnzd_um2 = 0;                          // the whole tree
    double total_mm2 = 0;                         // num_pes x PE + LNZD
    nlohmann::json to_json() const;
};
AreaBreakdown estimate_area(const ArchConfig& arch, const EnergyTable& table);

}  // namespace eie
