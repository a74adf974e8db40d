#include "eie/hw/model/sim_report.hpp"
#include "eie/hw/layer_label.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

namespace eie {

namespace {

// 1234567 -> "1,234,567": cycle counts are read by people.
std::string group(uint64_t v) {
    std::string s = std::to_string(v), out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i && (s.size() - i) % 3 == 0) out += ',';
        out += s[i];
    }
    return out;
}

std::string percent(double x) { return fmt::format("{:.1f} %", 100.0 * x); }

std::string bytes_text(uint64_t b) {
    if (b >= 1ull << 20) return fmt::format("{:.2f} MiB", b / 1048576.0);
    if (b >= 1ull << 10) return fmt::format("{:.1f} KiB", b / 1024.0);
    return fmt::format("{} B", b);
}

// Energy in the unit that keeps 3-4 significant digits readable.
std::string energy_text(double pj) {
    if (pj >= 1e9) return fmt::format("{:.3f} mJ", pj * 1e-9);
    if (pj >= 1e6) return fmt::format("{:.3f} uJ", pj * 1e-6);
    if (pj >= 1e3) return fmt::format("{:.3f} nJ", pj * 1e-3);
    return fmt::format("{:.1f} pJ", pj);
}

double seconds_of(uint64_t cycles, double clock_mhz) { return double(cycles) / (clock_mhz * 1e6); }

std::string closed_form_text(uint64_t cycles, uint64_t closed) {
    if (cycles == closed) return fmt::format("{} (equal)", group(closed));
    if (cycles > closed) return fmt::format("{} (+{})", group(closed), group(cycles - closed));
    return fmt::format("{} (-{})", group(closed), group(closed - cycles));
}

std::string window_text(uint64_t from, uint64_t to) {
    return to == std::numeric_limits<uint64_t>::max() ? fmt::format("[{}, end]", from)
                                                      : fmt::format("[{}, {}]", from, to);
}

}  // namespace

std::string output_head_text(const std::vector<int32_t>& out, int out_frac) {
    if (out.empty()) return "";
    constexpr std::size_t kHead = 10;
    std::string s = fmt::format("\nOutput of the last layer ({} value{}, {} fractional bits): ", out.size(),
                                out.size() == 1 ? "" : "s", out_frac);
    for (std::size_t i = 0; i < out.size() && i < kHead; ++i)
        s += fmt::format("{}{:.4g}", i ? " " : "", std::ldexp(double(out[i]), -out_frac));
    if (out.size() > kHead) s += fmt::format(" ... ({} more)", out.size() - kHead);
    s += "\n";
    if (out.size() <= kMaxClassifierOutputs) {
        const std::size_t k = std::max_element(out.begin(), out.end()) - out.begin();
        s += fmt::format("  arg-max: {} (value {:.4g})\n", k, std::ldexp(double(out[k]), -out_frac));
    }
    return s;
}

namespace {

nlohmann::json mismatch_json(const SimResult& r, const SimRunInfo& info) {
    if (!r.first_mismatch) return nullptr;
    const Mismatch& m = *r.first_mismatch;
    return {{"layer", m.layer},       {"layer_name", m.layer_name}, {"row", m.row},
            {"expected", m.expected}, {"got", m.got},               {"reference", info.mismatch_reference}};
}

}  // namespace

RunTotals run_totals(const RunStats& stats, uint32_t num_pes, double clock_mhz) {
    RunTotals t;
    for (const LayerStats& l : stats.layers) {
        t.cycles += l.cycles;
        t.writeback_cycles += l.writeback_cycles;
        t.closed_form_cycles += l.closed_form_cycles;
        t.useful_macs += l.useful_macs;
        t.pe.add(l.pe_total());
        t.ccu.add(l.ccu);
    }
    // The per-layer definitions applied to the run as one: a cycle-weighted
    // average of the layers' figures.
    t.derived = derive_figures(t.pe, t.cycles, t.useful_macs, num_pes, clock_mhz);
    return t;
}

std::string verdict_line(const SimResult& r, const SimRunInfo& info) {
    if (r.bit_exact) return "BIT-EXACT";
    if (r.first_mismatch) {
        const Mismatch& m = *r.first_mismatch;
        return fmt::format("MISMATCH at {} row {}: expected {} got {} (reference: {})", layer_label(m.layer, m.layer_name),
                           m.row, m.expected, m.got, info.mismatch_reference);
    }
    return fmt::format("MISMATCH: the model produced {} layer outputs, the golden model {}", r.outputs.size(),
                       r.golden.size());
}

nlohmann::json stats_json(const SimResult& r, const SimRunInfo& info) {
    const ArchConfig& a = r.arch;
    nlohmann::json j;
    j["tool"] = "eie-sim";
    j["version"] = kEieSimVersion;
    j["stats_format_version"] = kStatsFormatVersion;
    j["command_line"] = info.command_line;
    j["image"] = {{"path", info.image_path}, {"layers", r.stats.layers.size()}, {"arch", to_json(info.image_arch)}};
    j["arch"] = to_json(a);
    nlohmann::json changes = nlohmann::json::array();
    for (const ParamDiff& d : info.changes)
        changes.push_back({{"name", d.name}, {"class", to_string(d.cls)}, {"from", d.from}, {"to", d.to}});
    j["arch_changes"] = changes;
    j["reencoded"] = info.reencoded;
    j["reencode_reason"] = info.reencoded ? nlohmann::json(info.reencode_reason) : nlohmann::json(nullptr);
    j["stall"] = {{"probability", info.stall_probability}, {"seed", info.stall_seed}};

    nlohmann::json layers = nlohmann::json::array();
    uint64_t first = 0;
    for (const LayerStats& l : r.stats.layers) {
        nlohmann::json lj = to_json(l, a.clock_mhz);
        lj["first_cycle"] = first;
        lj["closed_form_equal"] = l.cycles == l.closed_form_cycles;
        lj["energy"] = estimate_energy(l, a, info.energy_table).to_json();
        layers.push_back(std::move(lj));
        first += l.cycles;
    }
    j["layers"] = std::move(layers);

    const RunTotals t = run_totals(r.stats, a.num_pes, a.clock_mhz);
    nlohmann::json tj;
    tj["layers"] = r.stats.layers.size();
    tj["cycles"] = t.cycles;
    tj["writeback_cycles"] = t.writeback_cycles;
    tj["closed_form_cycles"] = t.closed_form_cycles;
    tj["closed_form_equal"] = t.cycles == t.closed_form_cycles;
    tj["useful_macs"] = t.useful_macs;
    put_derived(tj, t.derived);
    tj["total"] = to_json(t.pe);
    tj["ccu"] = to_json(t.ccu);
    tj["energy"] = estimate_energy(r.stats.layers, a, info.energy_table).to_json();
    j["totals"] = std::move(tj);

    j["io"] = {{"cycles", r.stats.io_cycles},
               {"bytes", r.stats.io_bytes},
               {"time_us", seconds_of(r.stats.io_cycles, a.clock_mhz) * 1e6}};
    j["area"] = estimate_area(a, info.energy_table).to_json();
    j["energy_table"] = {{"source", info.energy_table_source}, {"values", info.energy_table.to_json()}};

    j["bit_exact"] = r.bit_exact;
    j["first_mismatch"] = mismatch_json(r, info);
    j["wall_seconds"] = info.wall_seconds;
    j["simulate_wall_seconds"] = r.wall_seconds;
    j["compute_wall_seconds"] = r.stats.compute_wall_seconds;
    j["pe_cycles_per_second"] =
        r.stats.compute_wall_seconds > 0 ? double(t.cycles) * a.num_pes / r.stats.compute_wall_seconds : 0.0;
    if (info.vcd) {
        const auto& v = *info.vcd;
        j["vcd"] = {{"path", v.path},
                    {"pes", v.pes},
                    {"from", v.from},
                    {"to", v.to == std::numeric_limits<uint64_t>::max() ? nlohmann::json(nullptr) : nlohmann::json(v.to)},
                    {"cycles_dumped", v.cycles_dumped},
                    {"signals", v.signals},
                    {"bytes", v.bytes}};
    } else {
        j["vcd"] = nullptr;
    }
    return j;
}

std::string format_summary(const SimResult& r, const SimRunInfo& info) {
    const ArchConfig& a = r.arch;
    const auto& layers = r.stats.layers;
    std::string s;
    s += fmt::format("eie-sim: {} ({} layer{})\n", info.image_path, layers.size(), layers.size() == 1 ? "" : "s");
    s += fmt::format("  arch: {} PEs, queue depth {}, {} MHz, LNZD fan-out {} ({} level{}), {}-bit SRAM lines, "
                     "{}-bit weights, {}-bit indices\n",
                     a.num_pes, a.queue_depth, a.clock_mhz, a.lnzd_fanout, a.lnzd_levels(), a.lnzd_levels() == 1 ? "" : "s",
                     a.spmat_line_bits,
                     a.weight_bits, a.index_bits);
    for (const ParamDiff& d : info.changes)
        s += fmt::format("  changed from the image: {} {} -> {} ({})\n", d.name, d.from, d.to, to_string(d.cls));
    if (info.reencoded) s += fmt::format("  re-encoded: {}\n", info.reencode_reason);
    if (info.stall_probability > 0)
        s += fmt::format("  stall injection: probability {} seed {} (testing: adds stall cycles)\n",
                         info.stall_probability, info.stall_seed);

    std::size_t nw = 5;
    for (const auto& l : layers) nw = std::max(nw, l.name.size());
    auto row = [&](const std::string& name, const std::string& size, const std::string& batches, uint64_t cycles,
                   uint64_t closed, uint64_t wb, double time_us, double gops) {
        return fmt::format("  {:<{}}  {:>11}  {:>7}  {:>12}  {:>22}  {:>9}  {:>10.3f}  {:>8.2f}\n", name, nw, size,
                           batches, group(cycles), closed_form_text(cycles, closed), group(wb), time_us, gops);
    };
    const std::string summed = info.batch_inputs ? fmt::format(", summed over {} inputs", info.batch_inputs) : "";
    s += fmt::format("\nTiming (computing mode, {} MHz{})\n", a.clock_mhz, summed);
    s += fmt::format("  {:<{}}  {:>11}  {:>7}  {:>12}  {:>22}  {:>9}  {:>10}  {:>8}\n", "layer", nw, "in x out",
                     "batches", "cycles", "closed form", "writeback", "time us", "GOP/s");
    const RunTotals t = run_totals(r.stats, a.num_pes, a.clock_mhz);
    for (const auto& l : layers) {
        const DerivedFigures d = l.derived(a.clock_mhz);
        s += row(l.name, fmt::format("{}x{}", l.in_len, l.out_len), std::to_string(l.batches), l.cycles,
                 l.closed_form_cycles, l.writeback_cycles, d.time_us, d.gops);
    }
    if (layers.size() > 1)
        s += row("total", "", "", t.cycles, t.closed_form_cycles, t.writeback_cycles, t.derived.time_us,
                 t.derived.gops);

    std::vector<EnergyBreakdown> energy;
    for (const auto& l : layers) energy.push_back(estimate_energy(l, a, info.energy_table));
    const EnergyBreakdown et = estimate_energy(layers, a, info.energy_table);
    s += fmt::format("\nWork, load balance and energy{}\n", summed);
    s += fmt::format("  {:<{}}  {:>12}  {:>11}  {:>10}  {:>8}  {:>12}  {:>9}\n", "layer", nw, "LB efficiency",
                     "useful work", "real/total", "padding", "energy", "power mW");
    auto row2 = [&](const std::string& name, double lb, double uw, double rw, double pad, const EnergyBreakdown& e) {
        return fmt::format("  {:<{}}  {:>12}  {:>11}  {:>10}  {:>8}  {:>12}  {:>9.1f}\n", name, nw, percent(lb),
                           percent(uw), percent(rw), percent(pad), energy_text(e.total_pj), e.average_power_mw);
    };
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const DerivedFigures d = layers[k].derived(a.clock_mhz);
        s += row2(layers[k].name, d.load_balance_efficiency, d.useful_work, d.real_work_ratio, d.padding_share,
                  energy[k]);
    }
    const DerivedFigures& td = t.derived;
    if (layers.size() > 1)
        s += row2("total", td.load_balance_efficiency, td.useful_work, td.real_work_ratio, td.padding_share, et);
    const AreaBreakdown area = estimate_area(a, info.energy_table);
    s += fmt::format("  energy {} over {:.3f} us: {:.1f} mW average ({:.3f} mW per PE, LNZD {}); area {:.2f} mm^2 "
                     "({:.3f} mm^2 per PE)\n",
                     energy_text(et.total_pj), td.time_us, et.average_power_mw, et.pe_average_power_mw,
                     energy_text(et.total_pj - et.pe_total_pj), area.total_mm2, area.pe_total_um2 * 1e-6);
    s += fmt::format("  energy table: {}\n", info.energy_table_source);

    s += fmt::format("\nI/O mode (host loads and read-back over TLM, not in the figures above): {} cycles, {}, {:.3f} us\n",
                     group(r.stats.io_cycles), bytes_text(r.stats.io_bytes),
                     seconds_of(r.stats.io_cycles, a.clock_mhz) * 1e6);
    if (info.vcd) {
        const auto& v = *info.vcd;
        s += fmt::format("Waveform: {} ({} signals, PEs {}, cycles {}: {} dumped, {})\n", v.path, v.signals,
                         v.pes.size() == a.num_pes ? std::string("all") : fmt::format("{}", fmt::join(v.pes, ",")),
                         window_text(v.from, v.to), group(v.cycles_dumped), bytes_text(v.bytes));
        if (v.cycles_dumped == 0)
            s += fmt::format("  note: the window starts after the run's last cycle ({}): the file has no values\n",
                             t.cycles ? t.cycles - 1 : 0);
    }
    const double rate =
        r.stats.compute_wall_seconds > 0 ? double(t.cycles) * a.num_pes / r.stats.compute_wall_seconds : 0.0;
    auto secs = [](double x) { return x < 1 ? fmt::format("{:.1f} ms", x * 1e3) : fmt::format("{:.3f} s", x); };
    s += fmt::format("Simulation speed: {:.2f} M PE-cycles/s ({} cycles x {} PEs in {}); wall time {} "
                     "(load, golden model, simulation, checks)\n",
                     rate / 1e6, group(t.cycles), a.num_pes, secs(r.stats.compute_wall_seconds),
                     secs(info.wall_seconds));
    if (!info.batch_summary.empty())
        s += info.batch_summary;
    else
        s += output_head_text(r.read_back, r.output_frac);
    s += "\n";
    if (r.bit_exact && info.batch_inputs)
        s += fmt::format("BIT-EXACT: all {} inputs, every layer's output equal to the golden model; the last layer "
                         "read back over TLM\n",
                         info.batch_inputs);
    else if (r.bit_exact)
        s += fmt::format("BIT-EXACT: all {} layer outputs equal the golden model{}; the last one read back over TLM "
                         "too\n",
                         r.golden.size(),
                         info.image_expected_layers ? " and the image's expected outputs" : "");
    else
        s += verdict_line(r, info) + "\n";
    return s;
}

std::string json_file_text(const nlohmann::json& j) { return j.dump(1) + "\n"; }

void write_json_atomic(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, json_file_text(j)); }

}  // namespace eie
