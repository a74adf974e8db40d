#include "eie/hw/model/energy_model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

namespace eie {

// ------------------------------------------------------------------ table

const std::vector<EnergyTableEntry>& energy_table_entries() {
    using T = EnergyTable;
    // max: a generous plausibility bound that catches unit mistakes (a value
    // in fJ or J instead of pJ) without restricting real technologies.
    static const std::vector<EnergyTableEntry> entries = {
        {"spmat_line_read_pj", "pJ", "sparse-matrix SRAM line read (64-bit line, 128 KB SRAM)", &T::spmat_line_read_pj, 1e6},
        {"ptr_bank_read_pj", "pJ", "pointer read from one bank (16-bit word, 16 KB bank)", &T::ptr_bank_read_pj, 1e6},
        {"codebook_lookup_pj", "pJ", "codebook look-up (16-bit value, 8 codebooks of 16)", &T::codebook_lookup_pj, 1e6},
        {"mult_pj", "pJ", "16 x 16-bit multiply", &T::mult_pj, 1e6},
        {"add_pj", "pJ", "16-bit accumulate", &T::add_pj, 1e6},
        {"dst_rf_read_pj", "pJ", "destination register file read (16 bit, 64 entries)", &T::dst_rf_read_pj, 1e6},
        {"dst_rf_write_pj", "pJ", "destination register file write (16 bit, 64 entries)", &T::dst_rf_write_pj, 1e6},
        {"src_rf_read_pj", "pJ", "source register file read (16 bit, 64 entries)", &T::src_rf_read_pj, 1e6},
        {"act_sram_read_pj", "pJ", "activation SRAM read (16 bit, 1K entries)", &T::act_sram_read_pj, 1e6},
        {"act_sram_write_pj", "pJ", "activation SRAM write (16 bit, 1K entries)", &T::act_sram_write_pj, 1e6},
        {"queue_push_pj", "pJ", "activation queue push, one PE (8 entries of 16-bit index + 16-bit value)", &T::queue_push_pj, 1e6},
        {"queue_pop_pj", "pJ", "activation queue pop, one PE", &T::queue_pop_pj, 1e6},
        {"lnzd_node_pj", "pJ", "one LNZD node (fan-out 4) active for one cycle", &T::lnzd_node_pj, 1e6},
        {"clock_spmat_read_pj", "pJ/cycle", "clock network of the sparse-matrix read module, per PE per cycle", &T::clock_spmat_read_pj, 1e6},
        {"clock_ptr_read_pj", "pJ/cycle", "clock network of the pointer read module, per PE per cycle", &T::clock_ptr_read_pj, 1e6},
        {"clock_arith_unit_pj", "pJ/cycle", "clock network of the arithmetic unit, per PE per cycle", &T::clock_arith_unit_pj, 1e6},
        {"clock_act_rw_pj", "pJ/cycle", "clock network of the activation read/write unit, per PE per cycle", &T::clock_act_rw_pj, 1e6},
        {"clock_act_queue_pj", "pJ/cycle", "clock network of the activation queue, per PE per cycle", &T::clock_act_queue_pj, 1e6},
        {"leakage_mw_per_mm2", "mW/mm^2", "leakage power per mm^2 of PE area", &T::leakage_mw_per_mm2, 1e6},
        {"sram_energy_width_exp", "", "SRAM access energy ~ (width)^a", &T::sram_energy_width_exp, 2},
        {"sram_energy_size_exp", "", "SRAM access energy ~ (size)^b", &T::sram_energy_size_exp, 2},
        {"sram_area_width_exp", "", "SRAM area ~ (width)^c", &T::sram_area_width_exp, 2},
        {"sram_area_size_exp", "", "SRAM area ~ (size)^d", &T::sram_area_size_exp, 2},
        {"area_spmat_read_um2", "um^2", "sparse-matrix read module (128 KB, 64-bit lines)", &T::area_spmat_read_um2, 1e9},
        {"area_ptr_read_um2", "um^2", "pointer read module (2 x 16 KB banks, 16 bit)", &T::area_ptr_read_um2, 1e9},
        {"area_arith_unit_um2", "um^2", "arithmetic unit (16 x 16-bit multiplier)", &T::area_arith_unit_um2, 1e9},
        {"area_act_rw_um2", "um^2", "activation read/write unit (2 x 64 x 16-bit register files, 1K x 16-bit SRAM)", &T::area_act_rw_um2, 1e9},
        {"area_act_queue_um2", "um^2", "activation queue (8 entries)", &T::area_act_queue_um2, 1e9},
        {"area_filler_um2", "um^2", "filler cells of a PE (scaled with the other modules)", &T::area_filler_um2, 1e9},
        {"area_lnzd_node_um2", "um^2", "one LNZD node (fan-out 4)", &T::area_lnzd_node_um2, 1e9},
    };
    return entries;
}

// The calibrated defaults: docs/energy-area.md derives every value, and
// eie-energy-calibrate recomputes the calibrated ones. Must stay identical to
// traces/energy/default-45nm.json (a test checks it).
EnergyTable EnergyTable::defaults() {
    EnergyTable t;
    // BEGIN CALIBRATED DEFAULTS (written by eie-energy-calibrate --emit-cpp)
    t.spmat_line_read_pj = 24.92;
    t.ptr_bank_read_pj = 6.38;
    t.codebook_lookup_pj = 0.3893;
    t.mult_pj = 0.9008;
    t.add_pj = 0.05812;
    t.dst_rf_read_pj = 0.6845;
    t.dst_rf_write_pj = 0.6845;
    t.src_rf_read_pj = 0.6845;
    t.act_sram_read_pj = 2.738;
    t.act_sram_write_pj = 2.738;
    t.queue_push_pj = 0.3954;
    t.queue_pop_pj = 0.3954;
    t.lnzd_node_pj = 0.02875;
    t.clock_spmat_read_pj = 1.267;
    t.clock_ptr_read_pj = 0.4622;
    t.clock_arith_unit_pj = 0.2972;
    t.clock_act_rw_pj = 0.287;
    t.clock_act_queue_pj = 0.02865;
    t.leakage_mw_per_mm2 = 0;
    t.sram_energy_width_exp = 0.4;
    t.sram_energy_size_exp = 0.5;
    t.sram_area_width_exp = 0.15;
    t.sram_area_size_exp = 0.88;
    t.area_spmat_read_um2 = 469412;
    t.area_ptr_read_um2 = 121849;
    t.area_arith_unit_um2 = 3110;
    t.area_act_rw_um2 = 18934;
    t.area_act_queue_um2 = 758;
    t.area_filler_um2 = 23961;
    t.area_lnzd_node_um2 = 189;
    // END CALIBRATED DEFAULTS
    return t;
}

EnergyTable EnergyTable::from_json(const nlohmann::json& j, const std::string& source) {
    const auto& entries = energy_table_entries();
    auto known = [&] {
        std::string out;
        for (const auto& e : entries) out += (out.empty() ? "" : ", ") + std::string(e.key);
        return out;
    };
    if (!j.is_object())
        throw EnergyError(fmt::format("{}: an energy table must be a JSON object of {} numbers (got {})", source,
                                      entries.size(), j.type_name()));
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "about") {
            if (!it.value().is_string())
                throw EnergyError(fmt::format("{}: about = {} must be a string (free text)", source,
                                              it.value().dump()));
            continue;
        }
        bool found = false;
        for (const auto& e : entries) found = found || it.key() == e.key;
        if (!found)
            throw EnergyError(fmt::format("{}: unknown key '{}' (known: {}, and the optional string 'about')",
                                          source, it.key(), known()));
    }
    EnergyTable t;
    for (const auto& e : entries) {
        auto allowed = [&] {
            return fmt::format("a number from 0 to {:g}{}", e.max, *e.unit ? std::string(" ") + e.unit : "");
        };
        auto it = j.find(e.key);
        if (it == j.end())
            throw EnergyError(fmt::format("{}: missing key '{}' ({}; allowed: {}); every key of the table is "
                                          "required (start from traces/energy/default-45nm.json)",
                                          source, e.key, e.doc, allowed()));
        if (!it->is_number())
            throw EnergyError(fmt::format("{}: {} = {} is not a number (allowed: {})", source, e.key, it->dump(),
                                          allowed()));
        const double v = it->get<double>();
        if (!std::isfinite(v) || v < 0 || v > e.max)
            throw EnergyError(fmt::format("{}: {} = {} is out of range (allowed: {})", source, e.key, it->dump(),
                                          allowed()));
        t.*(e.field) = v;
    }
    return t;
}

EnergyTable EnergyTable::from_json_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw EnergyError(fmt::format("{}: cannot open energy table", path));
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw EnergyError(fmt::format("{}: not valid JSON: {}", path, e.what()));
    }
    return from_json(j, path);
}

nlohmann::json EnergyTable::to_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& e : energy_table_entries()) j[e.key] = this->*(e.field);
    return j;
}

bool EnergyTable::operator==(const EnergyTable& o) const {
    for (const auto& e : energy_table_entries())
        if (this->*(e.field) != o.*(e.field)) return false;
    return true;
}

// ---------------------------------------------------------- scaling laws

namespace {

// The paper configuration every table value refers to.
const ArchConfig& ref() {
    static const ArchConfig r{};
    return r;
}

// CACTI-like SRAM access energy: E ~ width^a x size^b (relative to the reference).
double sram_energy(const EnergyTable& t, double width, double ref_width, double bytes, double ref_bytes) {
    return std::pow(width / ref_width, t.sram_energy_width_exp) * std::pow(bytes / ref_bytes, t.sram_energy_size_exp);
}

// SRAM area: A ~ width^c x size^d (relative to the reference).
double sram_area(const EnergyTable& t, double width, double ref_width, double bytes, double ref_bytes) {
    return std::pow(width / ref_width, t.sram_area_width_exp) * std::pow(bytes / ref_bytes, t.sram_area_size_exp);
}

double codebook_bytes(const ArchConfig& a) {
    return double(a.codebook_slots) * a.codebook_entries() * a.codebook_value_bits / 8.0;
}
double rf_bytes(const ArchConfig& a) { return double(a.act_rf_entries) * a.act_bits / 8.0; }
double act_sram_bytes(const ArchConfig& a) { return double(a.act_sram_entries) * a.act_bits / 8.0; }
// A queue entry is a column index (as wide as a pointer) and an activation;
// with skip_empty_columns also the column's non-empty bit.
double queue_entry_bits(const ArchConfig& a) { return double(a.ptr_bits) + a.act_bits + (a.skip_empty_columns ? 1 : 0); }
// Arithmetic lanes (spmat_entries_per_cycle): each a whole arithmetic unit.
double lanes(const ArchConfig& a) { return double(a.spmat_entries_per_cycle); }
double extra_lanes(const ArchConfig& a) { return lanes(a) - 1.0; }
// skip_empty_columns: a non-empty bit per pointer word, a 1-bit-wide array
// beside the pointer banks with its own read port (read when a column enters
// the queue, while the banks serve the pop). Relative to one pointer bank:
double nonempty_bits_energy(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    return sram_energy(t, 1, r.ptr_bits, double(a.ptr_capacity()) / 8.0, r.ptr_sram_bytes / 2.0);
}
double nonempty_bits_area(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    return sram_area(t, 1, r.ptr_bits, double(a.ptr_capacity()) / 8.0, r.ptr_sram_bytes / 2.0);
}

// --- per-module laws (docs/energy-area.md, "Scaling" and "PE variants")

// line buffer, plus the second lane's entry register
double spmat_clock(const ArchConfig& a) {
    return (double(a.spmat_line_bits) + extra_lanes(a) * a.entry_bits()) / ref().spmat_line_bits;
}
double spmat_area(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    return sram_area(t, a.spmat_line_bits, r.spmat_line_bits, double(a.spmat_sram_bytes), double(r.spmat_sram_bytes));
}
// the two pointer registers
double ptr_clock(const ArchConfig& a) { return double(a.ptr_bits) / ref().ptr_bits; }
// two banks of half the pointer SRAM each (the reference area covers both),
// plus the non-empty bit array
double ptr_area(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    const double banks = sram_area(t, a.ptr_bits, r.ptr_bits, a.ptr_sram_bytes / 2.0, r.ptr_sram_bytes / 2.0);
    return banks + (a.skip_empty_columns ? nonempty_bits_area(a, t) / 2.0 : 0.0);
}
// pipeline registers of every lane
double arith_clock(const ArchConfig& a) {
    const ArchConfig& r = ref();
    return lanes(a) * double(a.act_bits + a.codebook_value_bits) / (r.act_bits + r.codebook_value_bits);
}
// the multiplier dominates: ~ product of its operand widths, one per lane
double arith_area(const ArchConfig& a, const EnergyTable&) {
    const ArchConfig& r = ref();
    return lanes(a) * (double(a.act_bits) * a.codebook_value_bits) / (double(r.act_bits) * r.codebook_value_bits);
}
// Register files (source and destination) and activation SRAM. A second lane
// needs a second read and write port on the destination register file,
// costed as a second copy of it.
double act_rw_rf_copies(const ArchConfig& a) { return 2.0 + extra_lanes(a); }
double act_rw_clock(const ArchConfig& a) {
    const ArchConfig& r = ref();
    return act_rw_rf_copies(a) * a.act_rf_entries * a.act_bits / (2.0 * r.act_rf_entries * r.act_bits);
}
double act_rw_area(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    const double bits = double(a.act_bits) * (act_rw_rf_copies(a) * a.act_rf_entries + a.act_sram_entries);
    const double ref_bits = double(r.act_bits) * (2.0 * r.act_rf_entries + r.act_sram_entries);
    return std::pow(bits / ref_bits, t.sram_area_size_exp);
}
// a register FIFO: ~ its bits, for clock and area alike
double queue_scale(const ArchConfig& a) {
    const ArchConfig& r = ref();
    return double(a.queue_depth) * queue_entry_bits(a) / (double(r.queue_depth) * queue_entry_bits(r));
}
double queue_area(const ArchConfig& a, const EnergyTable&) { return queue_scale(a); }

// --- event counts
using L = LayerStats;
using P = PeStats;
using A = ArchConfig;

}  // namespace

const std::vector<PeModule>& pe_modules() {
    using T = EnergyTable;
    static const std::vector<PeModule> modules = {
        {"spmat_read", "SpmatRead", 4.955, &T::clock_spmat_read_pj, &T::area_spmat_read_um2,
         "sparse-matrix SRAM and its line buffer", spmat_clock, spmat_area},
        {"ptr_read", "PtrRead", 1.807, &T::clock_ptr_read_pj, &T::area_ptr_read_um2,
         "pointer SRAM (even and odd banks); with skip_empty_columns the non-empty bit array", ptr_clock, ptr_area},
        {"arith_unit", "ArithmUnit", 1.162, &T::clock_arith_unit_pj, &T::area_arith_unit_um2,
         "codebook, multiplier, adder, pipeline registers (one set per lane)", arith_clock, arith_area},
        {"act_rw", "ActRW", 1.122, &T::clock_act_rw_pj, &T::area_act_rw_um2,
         "source/destination register files and activation SRAM", act_rw_clock, act_rw_area},
        {"act_queue", "Act_queue", 0.112, &T::clock_act_queue_pj, &T::area_act_queue_um2, "activation queue",
         queue_scale, queue_area},
    };
    return modules;
}

const std::vector<EnergyEvent>& energy_events() {
    using T = EnergyTable;
    using E = EventEnergies;
    static const std::vector<EnergyEvent> events = {
        {"spmat_line_read", "spmat_sram", "spmat_read", "spmat_line_reads", &T::spmat_line_read_pj,
         &E::spmat_line_read, [](const L&, const P& s, const A&) { return double(s.spmat_line_reads); }},
        {"ptr_bank_read", "pointer_sram", "ptr_read", "ptr_reads_even + ptr_reads_odd", &T::ptr_bank_read_pj,
         &E::ptr_bank_read, [](const L&, const P& s, const A&) { return double(s.ptr_reads_even + s.ptr_reads_odd); }},
        {"nonempty_bit_read", "pointer_sram", "ptr_read", "queue_pushes, with skip_empty_columns",
         &T::ptr_bank_read_pj, &E::nonempty_bit_read,
         [](const L&, const P& s, const A& a) { return a.skip_empty_columns ? double(s.queue_pushes) : 0.0; }},
        {"codebook_lookup", "codebook", "arith_unit", "codebook_lookups", &T::codebook_lookup_pj, &E::codebook_lookup,
         [](const L&, const P& s, const A&) { return double(s.codebook_lookups); }},
        {"mult", "arith_mult", "arith_unit", "multiplies", &T::mult_pj, &E::mult,
         [](const L&, const P& s, const A&) { return double(s.multiplies); }},
        {"add", "arith_add", "arith_unit", "adds", &T::add_pj, &E::add,
         [](const L&, const P& s, const A&) { return double(s.adds); }},
        {"dst_rf_read", "dst_regfile", "act_rw", "dst_rf_reads", &T::dst_rf_read_pj, &E::dst_rf_read,
         [](const L&, const P& s, const A&) { return double(s.dst_rf_reads); }},
        {"dst_rf_write", "dst_regfile", "act_rw", "dst_rf_writes", &T::dst_rf_write_pj, &E::dst_rf_write,
         [](const L&, const P& s, const A&) { return double(s.dst_rf_writes); }},
        {"src_rf_read", "src_regfile", "act_rw", "src_rf_reads", &T::src_rf_read_pj, &E::src_rf_read,
         [](const L&, const P& s, const A&) { return double(s.src_rf_reads); }},
        {"act_sram_read", "act_sram", "act_rw", "act_sram_reads", &T::act_sram_read_pj, &E::act_sram_read,
         [](const L&, const P& s, const A&) { return double(s.act_sram_reads); }},
        {"act_sram_write", "act_sram", "act_rw", "act_sram_writes", &T::act_sram_write_pj, &E::act_sram_write,
         [](const L&, const P& s, const A&) { return double(s.act_sram_writes); }},
        {"queue_push", "act_queue", "act_queue", "queue_pushes", &T::queue_push_pj, &E::queue_push,
         [](const L&, const P& s, const A&) { return double(s.queue_pushes); }},
        {"queue_pop", "act_queue", "act_queue", "queue_pops", &T::queue_pop_pj, &E::queue_pop,
         [](const L&, const P& s, const A&) { return double(s.queue_pops); }},
        {"lnzd_node", "lnzd", "lnzd", "ccu.lnzd_node_activations", &T::lnzd_node_pj, &E::lnzd_node,
         [](const L& l, const P&, const A&) { return double(l.ccu.lnzd_node_activations); }},
    };
    return events;
}

const std::vector<std::string>& pe_module_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const PeModule& m : pe_modules()) v.push_back(m.name);
        return v;
    }();
    return names;
}

const std::vector<std::string>& energy_component_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> v;
        for (const EnergyEvent& e : energy_events())
            if (std::find(v.begin(), v.end(), e.component) == v.end()) v.push_back(e.component);
        v.push_back("clock");
        v.push_back("leakage");
        return v;
    }();
    return names;
}

AreaBreakdown estimate_area(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    AreaBreakdown out;
    out.num_pes = a.num_pes;
    out.lnzd_nodes = a.lnzd_nodes();
    auto& m = out.pe_module_um2;
    double logic = 0, ref_logic = 0;
    for (const PeModule& pm : pe_modules()) {
        m[pm.name] = t.*(pm.area_um2) * pm.area_scale(a, t);
        logic += m[pm.name];
        ref_logic += t.*(pm.area_um2);
    }
    // filler keeps its share of the placed area
    m["filler"] = ref_logic > 0 ? t.area_filler_um2 * logic / ref_logic : 0.0;
    out.pe_total_um2 = logic + m["filler"];
    out.lnzd_um2 = t.area_lnzd_node_um2 * out.lnzd_nodes * double(a.lnzd_fanout) / r.lnzd_fanout;
    out.total_mm2 = (out.pe_total_um2 * a.num_pes + out.lnzd_um2) * 1e-6;
    return out;
}

nlohmann::json AreaBreakdown::to_json() const {
    nlohmann::json j;
    j["num_pes"] = num_pes;
    j["lnzd_nodes"] = lnzd_nodes;
    j["pe_module_um2"] = pe_module_um2;
    j["pe_total_um2"] = pe_total_um2;
    j["pe_total_mm2"] = pe_total_um2 * 1e-6;
    j["lnzd_um2"] = lnzd_um2;
    j["total_mm2"] = total_mm2;
    return j;
}

EventEnergies event_energies(const ArchConfig& a, const EnergyTable& t) {
    const ArchConfig& r = ref();
    EventEnergies e;
    e.spmat_line_read = t.spmat_line_read_pj * sram_energy(t, a.spmat_line_bits, r.spmat_line_bits,
                                                           double(a.spmat_sram_bytes), double(r.spmat_sram_bytes));
    e.ptr_bank_read = t.ptr_bank_read_pj *
                      sram_energy(t, a.ptr_bits, r.ptr_bits, a.ptr_sram_bytes / 2.0, r.ptr_sram_bytes / 2.0);
    e.nonempty_bit_read = t.ptr_bank_read_pj * nonempty_bits_energy(a, t);
    e.codebook_lookup = t.codebook_lookup_pj *
                        sram_energy(t, a.codebook_value_bits, r.codebook_value_bits, codebook_bytes(a), codebook_bytes(r));
    // Horowitz: multiply ~ bits^2 (here act_bits x weight bits), add ~ bits.
    e.mult = t.mult_pj * (double(a.act_bits) * a.codebook_value_bits) / (double(r.act_bits) * r.codebook_value_bits);
    e.add = t.add_pj * double(a.act_bits) / r.act_bits;
    const double rf = sram_energy(t, a.act_bits, r.act_bits, rf_bytes(a), rf_bytes(r));
    e.dst_rf_read = t.dst_rf_read_pj * rf;
    e.dst_rf_write = t.dst_rf_write_pj * rf;
    e.src_rf_read = t.src_rf_read_pj * rf;
    const double as = sram_energy(t, a.act_bits, r.act_bits, act_sram_bytes(a), act_sram_bytes(r));
    e.act_sram_read = t.act_sram_read_pj * as;
    e.act_sram_write = t.act_sram_write_pj * as;
    const double qw = queue_entry_bits(a), qrw = queue_entry_bits(r);
    const double q = sram_energy(t, qw, qrw, a.queue_depth * qw / 8.0, r.queue_depth * qrw / 8.0);
    e.queue_push = t.queue_push_pj * q;
    e.queue_pop = t.queue_pop_pj * q;
    // a node compares `fanout` flags
    e.lnzd_node = t.lnzd_node_pj * double(a.lnzd_fanout) / r.lnzd_fanout;
    for (const PeModule& m : pe_modules()) e.clock_pj_per_cycle[m.name] = t.*(m.clock_pj) * m.clock_scale(a);
    // leakage: per mm^2 of PE area, each module its own area plus its share of the filler
    const AreaBreakdown area = estimate_area(a, t);
    const double logic = area.pe_total_um2 - area.pe_module_um2.at("filler");
    for (const auto& module : pe_module_names())
        e.leakage_mw[module] = logic > 0 ? t.leakage_mw_per_mm2 * area.pe_module_um2.at(module) * 1e-6 *
                                               area.pe_total_um2 / logic
                                         : 0.0;
    return e;
}

nlohmann::json EventEnergies::to_json() const {
    nlohmann::json j;
    for (const EnergyEvent& ev : energy_events()) j[std::string(ev.name) + "_pj"] = this->*(ev.energy);
    j["clock_pj_per_pe_cycle"] = clock_pj_per_cycle;
    j["leakage_mw_per_pe"] = leakage_mw;
    return j;
}

// ------------------------------------------------------------------ energy

EnergyBreakdown estimate_energy(const LayerStats& ls, const ArchConfig& a, const EnergyTable& t) {
    if (ls.pe.size() != a.num_pes)
        throw EnergyError(fmt::format("energy of layer '{}': the statistics have {} PEs but the configuration has "
                                      "num_pes = {} (use the configuration the layer was simulated with)",
                                      ls.name, ls.pe.size(), a.num_pes));
    const EventEnergies e = event_energies(a, t);
    const PeStats s = ls.pe_total();
    EnergyBreakdown b;
    b.num_pes = a.num_pes;
    b.clock_mhz = a.clock_mhz;
    b.cycles = ls.cycles;
    b.useful_macs = ls.useful_macs;
    b.time_s = cycles_to_seconds(ls.cycles, a.clock_mhz);
    auto& c = b.component_pj;
    auto& m = b.module_pj;
    for (const auto& name : energy_component_names()) c[name] = 0.0;
    for (const auto& name : pe_module_names()) m[name] = 0.0;
    m["lnzd"] = 0.0;
    for (const EnergyEvent& ev : energy_events()) {
        const double pj = ev.count(ls, s, a) * (e.*(ev.energy));
        c[ev.component] += pj;
        m[ev.module] += pj;
    }
    // Clock and leakage run every cycle of every PE (no clock gating modelled).
    const double pe_cycles = double(a.num_pes) * double(ls.cycles);
    for (const auto& module : pe_module_names()) {
        const double clock = pe_cycles * e.clock_pj_per_cycle.at(module);
        // mW x s = mJ = 1e9 pJ
        const double leak = double(a.num_pes) * e.leakage_mw.at(module) * b.time_s * 1e9;
        c["clock"] += clock;
        c["leakage"] += leak;
        m[module] += clock + leak;
    }
    for (const auto& [k, v] : c) b.total_pj += v;
    b.pe_total_pj = b.total_pj - c["lnzd"];
    if (b.time_s > 0) {
        b.average_power_mw = b.total_pj * 1e-9 / b.time_s;
        b.pe_average_power_mw = b.pe_total_pj * 1e-9 / b.time_s / a.num_pes;
    }
    return b;
}

EnergyBreakdown estimate_energy(const std::vector<LayerStats>& layers, const ArchConfig& a, const EnergyTable& t) {
    EnergyBreakdown sum;
    sum.num_pes = a.num_pes;
    sum.clock_mhz = a.clock_mhz;
    for (const auto& name : energy_component_names()) sum.component_pj[name] = 0.0;
    for (const auto& name : pe_module_names()) sum.module_pj[name] = 0.0;
    sum.module_pj["lnzd"] = 0.0;
    for (const auto& l : layers) sum.add(estimate_energy(l, a, t));
    return sum;
}

void EnergyBreakdown::add(const EnergyBreakdown& o) {
    if (num_pes == 0) {
        num_pes = o.num_pes;
        clock_mhz = o.clock_mhz;
    }
    if (o.num_pes != num_pes || o.clock_mhz != clock_mhz)
        throw EnergyError(fmt::format("cannot add energy breakdowns of different arrays ({} PEs at {} MHz and {} "
                                      "PEs at {} MHz)",
                                      num_pes, clock_mhz, o.num_pes, o.clock_mhz));
    cycles += o.cycles;
    useful_macs += o.useful_macs;
    for (const auto& [k, v] : o.component_pj) component_pj[k] += v;
    for (const auto& [k, v] : o.module_pj) module_pj[k] += v;
    total_pj += o.total_pj;
    pe_total_pj += o.pe_total_pj;
    time_s += o.time_s;
    if (time_s > 0) {
        average_power_mw = total_pj * 1e-9 / time_s;
        pe_average_power_mw = num_pes ? pe_total_pj * 1e-9 / time_s / num_pes : 0.0;
    }
}

double EnergyBreakdown::module_power_per_pe_mw(const std::string& module) const {
    auto it = module_pj.find(module);
    if (it == module_pj.end()) {
        std::string known;
        for (const auto& [k, v] : module_pj) known += (known.empty() ? "" : ", ") + k;
        throw EnergyError(fmt::format("unknown module '{}' (known: {})", module, known));
    }
    if (time_s <= 0 || num_pes == 0) return 0.0;
    // the LNZD tree is not part of a PE, but it is reported on the same per-PE footing
    return it->second * 1e-9 / time_s / num_pes;
}

nlohmann::json EnergyBreakdown::to_json() const {
    nlohmann::json j;
    j["num_pes"] = num_pes;
    j["clock_mhz"] = clock_mhz;
    j["cycles"] = cycles;
    j["time_s"] = time_s;
    j["total_pj"] = total_pj;
    j["pe_total_pj"] = pe_total_pj;
    j["average_power_mw"] = average_power_mw;
    j["pe_average_power_mw"] = pe_average_power_mw;
    j["useful_macs"] = useful_macs;
    j["pj_per_useful_mac"] = pj_per_useful_mac();
    // GOP/s / W = ops / pJ x 1000
    j["gops_per_watt"] = total_pj > 0 ? kOpsPerMac * double(useful_macs) / total_pj * 1000.0 : 0.0;
    j["component_pj"] = component_pj;
    j["module_pj"] = module_pj;
    nlohmann::json per_pe = nlohmann::json::object();
    for (const auto& [k, v] : module_pj) per_pe[k] = module_power_per_pe_mw(k);
    j["module_power_per_pe_mw"] = per_pe;
    if (time_s > 0) {
        nlohmann::json cw = nlohmann::json::object();
        for (const auto& [k, v] : component_pj) cw[k] = v * 1e-9 / time_s;
        j["component_power_mw"] = cw;
    }
    return j;
}

}  // namespace eie
