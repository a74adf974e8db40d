// eie-energy-calibrate: derives the calibrated defaults of the energy table
// from the published 45 nm figures (EIE Table II, docs/reference.md) and reports how
// far the model is from them on the benchmark layers (docs/energy-area.md).
//
//   eie-energy-calibrate                       calibrate on Alex-7, print the table
//   eie-energy-calibrate --out T.json          ... and write it
//   eie-energy-calibrate --emit-cpp            ... as the C++ lines of EnergyTable::defaults()
//   eie-energy-calibrate --report              per-module power of the nine layers vs the paper
//   eie-energy-calibrate --width-study         sparse-matrix read energy vs line width (Alex-7)
//   eie-energy-calibrate --list-modules        the module and event tables (JSON)
//
// Calibration. The paper gives, per PE at 800 MHz, the power of each module
// (Act_queue 0.112, PtrRead 1.807, SpmatRead 4.955, ArithmUnit 1.162, ActRW
// 1.122 mW) and the clock network's total (1.874 mW). For one benchmark layer
// the cycle model gives every access count. Per module M:
//   P_M = clock_M + leakage_M + k_M x sum_{e in M} E0_e x rate_e
// where E0_e are first-principles energies (Horowitz's 45 nm figures scaled
// by the table's laws), rate_e = events per PE per second, clock_M is M's
// share of 1.874 mW (in proportion to P_M: the paper does not split the
// clock by module) and leakage_M comes from the base table. k_M is solved
// for, and the calibrated energy of e is k_M x E0_e: a module's measured
// power is split among its events in the ratio of their first-principles
// energies. LNZD: 0.023 mW per node at 800 MHz is taken as is.
//
// Exit codes: 0 ok, 2 bad usage or input, 1 internal error. Nothing is
// written unless everything succeeded.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <systemc>

#include "eie/compress/compressor.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/cli_values.hpp"
#include "eie/hw/file_io.hpp"
#include "eie/hw/geometry.hpp"
#include "eie/compress/synthetic.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/hw/model/quiet_systemc.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/version.hpp"

namespace po = boost::program_options;
using namespace eie;

namespace {

// --- published figures (EIE Table II, docs/reference.md), per PE, 45 nm, 800 MHz;
// the per-module powers are in the module table (pe_modules()).
constexpr double kPaperPeMw = 9.157;
constexpr double kPaperClockMw = 1.874;
constexpr double kPaperMhz = 800.0;
constexpr double kLnzdNodeMw = 0.023;
// Horowitz (ISSCC 2014), 45 nm: 32-bit int mult 3.1 pJ, int add 0.1 pJ,
// 32-bit read of a 32 KB SRAM 5 pJ.
constexpr double kMult32Pj = 3.1, kAdd32Pj = 0.1, kSram32b32KBPj = 5.0;

// A preset's own needs of the architecture (its spec's "arch", e.g. VGG-6's
// 17-bit pointers in a 64 KB pointer SRAM, docs/benchmarks.md) applied to
// `arch`; the energy model scales the pointer energies and clock to them.
ArchConfig arch_for(const SyntheticSpec& spec, ArchConfig arch) {
    for (const std::string& a : spec.arch_overrides) apply_override(arch, a, "preset " + spec.name);
    return arch;
}

struct Run {
    ArchConfig arch;
    LayerStats stats;
    // Sparse-matrix line reads if every broadcast column fetched its own
    // lines (no line-buffer reuse across columns), all PEs: the counting the
    // paper's width study implies (EIE Figure 9, docs/reference.md).
    uint64_t per_column_line_reads = 0;
};

uint64_t per_column_line_reads(const Image& img) {
    const LayerDesc& l = img.layers.at(0);
    const uint32_t per = img.arch.entries_per_line();
    const std::vector<uint32_t> cols =
        broadcast_columns(l.in_len, l.has_bias, [&](uint32_t j) { return img.input[j] != 0; });
    uint64_t reads = 0;
    for (const PeImage& pe : img.pes)
        for (uint32_t b = 0; b < l.num_batches; ++b) {
            const uint64_t base = l.ptr_base + uint64_t(b) * l.pointers_per_batch();
            for (uint32_t j : cols) {
                const uint64_t s = l.entry_base + pe.pointers[base + j], e = l.entry_base + pe.pointers[base + j + 1];
                if (e > s) reads += (e - 1) / per - s / per + 1;
            }
        }
    return reads;
}

Run run_preset(const std::string& name, const ArchConfig& base) {
    SyntheticSpec spec = preset(name);
    std::vector<FloatLayer> layers{make_synthetic_layer(spec)};
    auto x = make_synthetic_input(spec);
    std::vector<double> input(x.begin(), x.end());
    CompressOptions co;
    co.arch = arch_for(spec, base);
    co.arch.validate("architecture");
    CompressResult cr = compress_network(layers, input, {}, co);
    SimResult sr = simulate(cr.image);
    if (!sr.bit_exact) throw std::runtime_error(fmt::format("{}: the model is not bit-exact to the golden model", name));
    if (sr.stats.layers.size() != 1) throw std::runtime_error(fmt::format("{}: expected one layer", name));
    return Run{sr.arch, sr.stats.layers[0], per_column_line_reads(cr.image)};
}

// First-principles per-event energies at the paper configuration (pJ),
// from Horowitz's 45 nm figures and the table's SRAM energy law
// E = 5 pJ x (width / 32 bit)^a x (size / 32 KB)^b.
EnergyTable first_principles(const EnergyTable& base) {
    EnergyTable t = base;
    const double a = base.sram_energy_width_exp, b = base.sram_energy_size_exp;
    auto sram = [&](double width_bits, double bytes) {
        return kSram32b32KBPj * std::pow(width_bits / 32.0, a) * std::pow(bytes / 32768.0, b);
    };
    const ArchConfig r{};
    t.spmat_line_read_pj = sram(r.spmat_line_bits, double(r.spmat_sram_bytes));
    t.ptr_bank_read_pj = sram(r.ptr_bits, r.ptr_sram_bytes / 2.0);
    t.codebook_lookup_pj =
        sram(r.codebook_value_bits, double(r.codebook_slots) * r.codebook_entries() * r.codebook_value_bits / 8.0);
    t.mult_pj = kMult32Pj * (double(r.act_bits) * r.codebook_value_bits) / (32.0 * 32.0);
    t.add_pj = kAdd32Pj * r.act_bits / 32.0;
    const double rf = sram(r.act_bits, r.act_rf_entries * r.act_bits / 8.0);
    t.dst_rf_read_pj = t.dst_rf_write_pj = t.src_rf_read_pj = rf;
    t.act_sram_read_pj = t.act_sram_write_pj = sram(r.act_bits, r.act_sram_entries * r.act_bits / 8.0);
    const double qbits = double(r.ptr_bits) + r.act_bits;
    t.queue_push_pj = t.queue_pop_pj = sram(qbits, r.queue_depth * qbits / 8.0);
    // mW / MHz = nJ per cycle; x 1000 = pJ
    t.lnzd_node_pj = kLnzdNodeMw / kPaperMhz * 1000.0;
    return t;
}

// Rounds to 4 significant digits (the table is read by people).
double round4(double v) {
    if (v == 0) return 0;
    const double scale = std::pow(10.0, 3 - std::floor(std::log10(std::fabs(v))));
    return std::round(v * scale) / scale;
}

struct Calibration {
    EnergyTable table;
    std::map<std::string, double> k;        // calibrated / first-principles, per module
    std::map<std::string, double> clock_mw;  // clock share per module
};

Calibration calibrate(const Run& run, const EnergyTable& base) {
    if (run.arch.num_pes != ArchConfig{}.num_pes || run.arch.clock_mhz != kPaperMhz)
        throw UsageError("calibration needs the paper configuration (64 PEs, 800 MHz)");
    const EnergyTable fp = first_principles(base);
    // Module energies with the first-principles table, clock and leakage zero.
    EnergyTable dyn = fp;
    for (const PeModule& m : pe_modules()) dyn.*(m.clock_pj) = 0;
    dyn.leakage_mw_per_mm2 = 0;
    const EnergyBreakdown e0 = estimate_energy(run.stats, run.arch, dyn);
    const EventEnergies leak = event_energies(run.arch, base);

    double paper_sum = 0;
    for (const PeModule& m : pe_modules()) paper_sum += m.paper_power_mw;
    Calibration c;
    c.table = fp;
    EnergyTable& t = c.table;
    for (const PeModule& pm : pe_modules()) {
        const std::string m = pm.name;
        const double p = pm.paper_power_mw;
        const double clock = kPaperClockMw * p / paper_sum;
        const double dynamic = p - clock - leak.leakage_mw.at(m);
        if (dynamic <= 0)
            throw UsageError(fmt::format("module {}: clock share {:.4f} mW + leakage {:.4f} mW exceed its published "
                                         "power {} mW (lower leakage_mw_per_mm2 in the base table)",
                                         m, clock, leak.leakage_mw.at(m), p));
        const double model = e0.module_power_per_pe_mw(m);
        if (model <= 0) throw std::runtime_error(fmt::format("module {} has no events on the calibration layer", m));
        c.k[m] = dynamic / model;
        c.clock_mw[m] = clock;
        t.*(pm.clock_pj) = round4(clock / kPaperMhz * 1000.0);
    }
    // Each event's energy is its module's k times its first-principles energy
    // (the LNZD tree, outside the PEs, is taken as published).
    for (const EnergyEvent& ev : energy_events()) {
        const auto k = c.k.find(ev.module);
        t.*(ev.base_pj) = round4(fp.*(ev.base_pj) * (k == c.k.end() ? 1.0 : k->second));
    }
    return c;
}

// The module and event tables (what the docs check compares docs/energy-area.md with).
nlohmann::json module_tables_json() {
    nlohmann::json j;
    j["modules"] = nlohmann::json::array();
    for (const PeModule& m : pe_modules())
        j["modules"].push_back({{"name", m.name}, {"paper_name", m.paper_name}, {"paper_power_mw", m.paper_power_mw},
                                {"holds", m.holds}});
    j["events"] = nlohmann::json::array();
    for (const EnergyEvent& e : energy_events())
        j["events"].push_back({{"name", e.name}, {"unit", "pJ"}, {"component", e.component}, {"module", e.module},
                               {"counted_by", e.counted_by}});
    j["components"] = energy_component_names();
    return j;
}

std::string pct(double model, double paper) { return fmt::format("{:+.1f}%", 100.0 * (model / paper - 1.0)); }

void print_counts(const Run& run) {
    const PeStats s = run.stats.pe_total();
    const double pe_cycles = double(run.arch.num_pes) * run.stats.cycles;
    fmt::print("  cycles {}  (per PE-cycle: line reads {:.4f}, pointer reads {:.4f}, look-ups {:.4f}, mults {:.4f}, "
               "dst reads {:.4f}, act SRAM r/w {:.4f}/{:.4f}, pushes {:.4f}; LNZD activations/cycle {:.2f})\n",
               run.stats.cycles, s.spmat_line_reads / pe_cycles, (s.ptr_reads_even + s.ptr_reads_odd) / pe_cycles,
               s.codebook_lookups / pe_cycles, s.multiplies / pe_cycles, s.dst_rf_reads / pe_cycles,
               s.act_sram_reads / pe_cycles, s.act_sram_writes / pe_cycles, s.queue_pushes / pe_cycles,
               double(run.stats.ccu.lnzd_node_activations) / run.stats.cycles);
}

// What the command line asks for.
struct Request {
    std::string cal_preset;        // the calibration layer
    std::string base_table;        // --table ("": the compiled-in defaults)
    std::string report_table;      // --report-table ("": calibrate)
    std::string out;               // --out ("": none)
    bool emit_cpp = false, report = false, width_study = false;
    std::vector<std::string> report_layers;  // --layers, for --report
};

po::options_description describe_options() {
    po::options_description desc(
        "eie-energy-calibrate: calibrate the energy table on a benchmark layer and compare with the paper\n"
        "Options");
    desc.add_options()("help,h", "this help")
        ("version", "print the version and exit")
        ("preset", po::value<std::string>()->default_value("alex7"), "calibration layer (a synthetic preset)")
        ("table", po::value<std::string>(), "base table (JSON): scaling exponents, leakage and areas come from it; "
                                            "default: the compiled-in defaults")
        ("out,o", po::value<std::string>(), "write the calibrated table to this JSON file")
        ("emit-cpp", "print the calibrated values as the C++ body of EnergyTable::defaults()")
        ("report", "per-module PE power of every benchmark layer with the calibrated table, vs the paper")
        ("report-table", po::value<std::string>(), "with --report: use this table instead of calibrating")
        ("layers", po::value<std::string>()->default_value("alex6,alex7,alex8,vgg6,vgg7,vgg8,ntwe,ntwd,ntlstm"),
         "layers of --report")
        ("width-study", "sparse-matrix read energy of the calibration layer vs SRAM line width")
        ("list-modules", "print the energy model's module and event tables as JSON and exit");
    return desc;
}

void check_preset(const std::string& name, const char* option) {
    try {
        (void)preset(name);
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("{}: {}", option, e.what()));
    }
}

// The request, checked before any work (presets exist, --out can be
// written); empty when the command is answered already (--help, --version,
// --list-modules).
std::optional<Request> parse_options(int argc, char** argv) {
    const po::options_description desc = describe_options();
    po::variables_map vm;
    try {
        po::store(po::parse_command_line(argc, argv, desc), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(e.what());
    }
    if (vm.count("help")) {
        std::cout << desc << "\n";
        return std::nullopt;
    }
    if (vm.count("version")) {
        std::cout << "eie-energy-calibrate " << kEieVersion << "\n";
        return std::nullopt;
    }
    if (vm.count("list-modules")) {
        std::cout << module_tables_json().dump(2) << "\n";
        return std::nullopt;
    }
    auto opt = [&](const char* name) { return vm.count(name) ? vm[name].as<std::string>() : std::string(); };
    Request r;
    r.cal_preset = opt("preset");
    check_preset(r.cal_preset, "--preset");
    if (vm.count("report-table") && !vm.count("report")) throw UsageError("--report-table goes with --report");
    r.base_table = opt("table");
    r.report_table = opt("report-table");
    r.out = opt("out");
    if (vm.count("out")) check_output_file(r.out, "--out");
    r.emit_cpp = vm.count("emit-cpp") > 0;
    r.report = vm.count("report") > 0;
    r.width_study = vm.count("width-study") > 0;
    r.report_layers = split(opt("layers"), ',');
    if (r.report)
        for (const auto& n : r.report_layers) check_preset(n, "--layers");
    return r;
}

// The base table, and the table of --report-table when one is given.
struct Inputs {
    EnergyTable base;
    std::optional<EnergyTable> report_table;
};

Inputs read_inputs(const Request& r) {
    Inputs in;
    in.base = r.base_table.empty() ? EnergyTable::defaults() : EnergyTable::from_json_file(r.base_table);
    if (!r.report_table.empty()) in.report_table = EnergyTable::from_json_file(r.report_table);
    return in;
}

// The calibration on the request's preset at the paper configuration.
struct Fit {
    Run run;
    Calibration calibration;
};

Fit fit(const Request& r, const EnergyTable& base) {
    fmt::print("calibrating on {} (paper configuration: 64 PEs, 800 MHz)\n", r.cal_preset);
    Fit f{run_preset(r.cal_preset, ArchConfig{}), {}};
    print_counts(f.run);
    f.calibration = calibrate(f.run, base);
    return f;
}

// The calibrated table against the paper: per module, per component, and
// each entry next to its first-principles value.
void report_fit(const Fit& f, const EnergyTable& base) {
    const EnergyTable& table = f.calibration.table;
    const EnergyTable fp = first_principles(base);
    fmt::print("\n{:<12} {:>9} {:>9} {:>10} {:>10}\n", "module", "paper mW", "clock mW", "k", "model mW");
    const EnergyBreakdown check = estimate_energy(f.run.stats, f.run.arch, table);
    for (const PeModule& m : pe_modules())
        fmt::print("{:<12} {:>9.3f} {:>9.4f} {:>10.4f} {:>10.4f}\n", m.name, m.paper_power_mw,
                   f.calibration.clock_mw.at(m.name), f.calibration.k.at(m.name), check.module_power_per_pe_mw(m.name));
    fmt::print("PE total: model {:.4f} mW, paper {} mW ({})\n", check.pe_average_power_mw, kPaperPeMw,
               pct(check.pe_average_power_mw, kPaperPeMw));
    fmt::print("components, mW per PE (LNZD: whole tree):");
    for (const auto& [k, v] : check.component_pj)
        fmt::print(" {} {:.4f}", k, v * 1e-9 / check.time_s / (k == "lnzd" ? 1 : f.run.arch.num_pes));
    fmt::print("\n{:.3f} pJ per useful MAC, {:.0f} GOP/s/W (LNZD included)\n", check.pj_per_useful_mac(),
               check.to_json().at("gops_per_watt").get<double>());
    fmt::print("\n{:<22} {:>14} {:>12}\n", "entry", "first-princ.", "calibrated");
    for (const auto& e : energy_table_entries())
        if (fp.*(e.field) != table.*(e.field) || std::string(e.unit) == "pJ")
            fmt::print("{:<22} {:>14.5g} {:>12.5g}\n", e.key, fp.*(e.field), table.*(e.field));
}

// --out (the table as JSON, with where it came from) and --emit-cpp.
void write_calibrated(const Request& r, const EnergyTable& table) {
    nlohmann::json j = nlohmann::json::object();
    j["about"] = fmt::format(
        "EIE energy and area table, 45 nm, 800 MHz. Per-event energies in pJ at the paper configuration, "
        "calibrated by eie-energy-calibrate on {} so that the per-module PE power matches the published "
        "per-module power (Han et al., ISCA 2016); areas from the published module areas. "
        "docs/energy-area.md gives every value, its source and the scaling laws.",
        r.cal_preset);
    j.update(table.to_json());
    if (!r.out.empty()) {
        write_output_file(r.out, j.dump(2) + "\n", "--out");
        fmt::print("\nwrote {}\n", r.out);
    }
    if (r.emit_cpp) {
        fmt::print("\n");
        for (const auto& e : energy_table_entries())
            fmt::print("    t.{} = {:.10g};\n", std::string(e.key), table.*(e.field));
    }
}

// --report: per-module PE power of each layer with `table`, vs the paper.
void report_layers(const std::vector<std::string>& names, const EnergyTable& table) {
    std::string head = "\n| layer | cycles |", rule = "|---|---|", paper = "| paper | |";
    for (const PeModule& m : pe_modules()) {
        head += fmt::format(" {} |", m.paper_name);
        rule += "---|";
        paper += fmt::format(" {} |", m.paper_power_mw);
    }
    fmt::print("{} PE total | vs {} | LNZD (whole tree) | energy uJ | pJ/MAC |\n{}---|---|---|---|---|\n", head,
               kPaperPeMw, rule);
    fmt::print("{} {} | | {:.3f} | | |\n", paper, kPaperPeMw, 21 * kLnzdNodeMw);
    for (const auto& n : names) {
        const Run r = run_preset(n, ArchConfig{});
        const EnergyBreakdown e = estimate_energy(r.stats, r.arch, table);
        std::string row = fmt::format("| {} | {} |", n, r.stats.cycles);
        for (const PeModule& m : pe_modules()) {
            const double v = e.module_power_per_pe_mw(m.name);
            row += fmt::format(" {:.3f} ({}) |", v, pct(v, m.paper_power_mw));
        }
        fmt::print("{} {:.3f} | {} | {:.3f} | {:.2f} | {:.2f} |\n", row, e.pe_average_power_mw,
                   pct(e.pe_average_power_mw, kPaperPeMw), e.module_power_per_pe_mw("lnzd") * r.arch.num_pes,
                   e.total_pj * 1e-6, e.pj_per_useful_mac());
        std::fflush(stdout);
    }
}

// --width-study: sparse-matrix read energy of `cal_preset` vs SRAM line width.
void width_study(const std::string& cal_preset, const EnergyTable& table) {
    fmt::print("\nsparse-matrix SRAM line width on {} (128 KB, a = {}, b = {})\n", cal_preset,
               table.sram_energy_width_exp, table.sram_energy_size_exp);
    fmt::print("| line bits | pJ per read | line reads per PE (model) | energy uJ (model) | line reads per PE "
               "(per column, no reuse) | energy uJ (per column) |\n|---|---|---|---|---|---|\n");
    const std::vector<uint32_t> widths = {32, 64, 128, 256, 512};
    std::map<uint32_t, double> reads, col_reads;
    for (uint32_t w : widths) {
        ArchConfig a;
        a.spmat_line_bits = w;
        const Run r = run_preset(cal_preset, a);
        const double pj = event_energies(r.arch, table).spmat_line_read;
        reads[w] = double(r.stats.pe_total().spmat_line_reads) / a.num_pes;
        col_reads[w] = double(r.per_column_line_reads) / a.num_pes;
        fmt::print("| {} | {:.3f} | {:.1f} | {:.4f} | {:.1f} | {:.4f} |\n", w, pj, reads[w],
                   reads[w] * a.num_pes * pj * 1e-6, col_reads[w], col_reads[w] * a.num_pes * pj * 1e-6);
        std::fflush(stdout);
    }
    // With E ~ width^a, width w beats 2w iff R_w < R_2w x 2^a. 64 bits is the
    // best of all widths iff a lies in [max over w > 64, min over w < 64].
    auto window = [&](std::map<uint32_t, double>& R, const char* what) {
        double lo = 0, hi = 1e9;
        for (uint32_t w : widths) {
            if (w == 64) continue;
            const double bound = std::log2(R[64] / R[w]) / std::log2(double(w) / 64.0);
            if (w > 64) lo = std::max(lo, bound);
            else hi = std::min(hi, bound);
        }
        if (lo < hi) fmt::print("{}: 64-bit lines minimise the read energy for {:.3f} < a < {:.3f}\n", what, lo, hi);
        else fmt::print("{}: no exponent a makes 64-bit lines the minimum (would need a > {:.3f} and a < {:.3f})\n",
                        what, lo, hi);
    };
    window(reads, "model (line buffer kept across columns)");
    window(col_reads, "per-column fetch");
}

int run(int argc, char** argv) {
    const std::optional<Request> request = parse_options(argc, argv);
    if (!request) return 0;
    const Inputs in = read_inputs(*request);
    EnergyTable table;
    if (in.report_table) {
        table = *in.report_table;
    } else {
        const Fit f = fit(*request, in.base);
        report_fit(f, in.base);
        table = f.calibration.table;
        write_calibrated(*request, table);
    }
    if (request->report) report_layers(request->report_layers, table);
    if (request->width_study) width_study(request->cal_preset, table);
    return 0;
}

}  // namespace

int sc_main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "eie-energy-calibrate: " << e.what() << "\n";
        return 2;
    } catch (const EnergyError& e) {
        std::cerr << "eie-energy-calibrate: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "eie-energy-calibrate: error: " << e.what() << "\n";
        return 1;
    }
}
