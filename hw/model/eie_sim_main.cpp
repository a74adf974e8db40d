// eie-sim: runs an image directory (made by eie-compress) through the
// cycle-accurate SystemC model of EIE, layer after layer, checks every layer
// against the golden model and reports cycles, work, load balance, energy
// and speed (docs/eie-sim.md).
//
// Exit codes: 0 bit-exact; 1 mismatch against the golden model; 2 bad input
// or usage (nothing written); 3 the image does not fit the memories after a
// layout change (nothing written); 4 internal error.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "eie/compress/encode.hpp"
#include "eie/hw/npy.hpp"
#include "eie/hw/image_io.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/cli_values.hpp"
#include "eie/hw/param_table.hpp"
#include "eie/hw/version.hpp"
#include "eie/hw/model/batch_inference.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/quiet_systemc.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/compress/image_arch.hpp"
#include "eie/hw/model/sim_report.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/model/vcd_writer.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace eie;

namespace {

// The waveform file could not be set up (raised from inside simulate()).
struct VcdSetupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kExitExact = 0, kExitMismatch = 1, kExitUsage = 2, kExitCapacity = 3, kExitInternal = 4;

// A bubble each cycle with probability P stretches every stage by about
// 1/(1-P): 100x at 0.99, and 0.99999 already turns a 300-cycle image into
// 30 M cycles. Above this bound a run is no longer a test, only a hang.
constexpr double kMaxStallProbability = 0.99;

double parse_stall_probability(const std::string& text, const std::string& option) {
    double v = 0;
    // Say why a P that is a probability is refused: the run it asks for.
    if (parse_whole_number(text, v) && v > kMaxStallProbability && v < 1)
        throw UsageError(fmt::format("{}: {} is above {} (allowed: 0 <= P <= {}; bubbles stretch the run by about "
                                     "1/(1-P), {:.0f}x here)",
                                     option, text, kMaxStallProbability, kMaxStallProbability, 1 / (1 - v)));
    return parse_probability_option(text, option, kMaxStallProbability);
}

std::string join_names(const std::vector<ParamDiff>& d, bool with_values) {
    std::string s;
    for (const auto& p : d) {
        if (!s.empty()) s += ", ";
        s += with_values ? fmt::format("{}={}", p.name, p.to) : p.name;
    }
    return s;
}

// Shows "inputs done / total, rate, time left" on one line of a terminal.
struct Progress {
    bool enabled = ::isatty(STDERR_FILENO) != 0;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    bool shown = false;
    void operator()(uint64_t done, uint64_t total) {
        if (!enabled) return;
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double rate = s > 0 ? double(done) / s : 0.0;
        std::cerr << fmt::format("\reie-sim: {} / {} inputs, {:.0f}/s, {:.0f} s left   ", done, total, rate,
                                 rate > 0 ? double(total - done) / rate : 0.0);
        shown = true;
    }
    void finish() {
        if (shown) std::cerr << "\r" << std::string(60, ' ') << "\r";
    }
};

// --inputs: the image is loaded once, every input runs over TLM (docs/eie-sim.md).
int run_batch_mode(const Image& image, SimRunInfo& info, const SimOptions& so, const InputSelection& selection,
                   unsigned jobs, const std::function<std::string(const char*)>& opt, bool quiet) {
    const auto t0 = std::chrono::steady_clock::now();
    InputSet inputs;
    std::vector<int64_t> labels;
    try {
        inputs = load_inputs(opt("inputs"), image, selection);
        if (!opt("labels").empty()) labels = load_labels(opt("labels"), inputs, image.layers.back().out_len);
    } catch (const BatchInputError& e) {
        throw UsageError(e.what());
    }
    BatchOptions bo;
    bo.stall_probability = so.stall_probability;
    bo.stall_seed = so.stall_seed;
    bo.jobs = jobs;
    bo.energy_table = info.energy_table;
    Progress progress;
    bo.progress = [&](uint64_t d, uint64_t t) { progress(d, t); };
    const BatchResult br = run_batch(image, inputs, bo);
    progress.finish();
    std::optional<AccuracyReport> acc;
    if (!opt("labels").empty()) acc = accuracy(br, labels);

    SimResult sim;
    sim.arch = br.arch;
    sim.stats = br.stats;
    sim.bit_exact = br.bit_exact;
    sim.wall_seconds = br.times.total;
    sim.output_frac = image.layers.back().fmt.out_frac;
    if (br.first_mismatch) {
        sim.first_mismatch = br.first_mismatch->where;
        info.mismatch_reference = fmt::format("the golden model; input {} of the selection, row {} of {}",
                                              br.first_mismatch->input, br.first_mismatch->file_row, inputs.source);
    }
    info.batch_inputs = br.records.size();
    info.batch_summary = format_batch_summary(br, inputs, image, acc);
    info.wall_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // Everything is computed before anything is written; each file
    // atomically, and a failure removes the files this run already wrote.
    const std::vector<uint64_t> shape{br.records.size(), br.out_len};
    // Every output is written to its temporary first and renamed only when all
    // of them are complete, so a failure (or a kill before the renames) leaves
    // every previous output as it was.
    std::vector<std::unique_ptr<AtomicFileWriter>> staged;
    std::vector<const char*> staged_option;
    auto stage = [&](const char* option, const std::function<std::string()>& bytes) {
        const std::string path = opt(option);
        if (path.empty()) return;
        try {
            staged.push_back(std::make_unique<AtomicFileWriter>(path));
            staged_option.push_back(option);
            staged.back()->write(bytes());
        } catch (const std::runtime_error& e) {
            throw UsageError(fmt::format("--{} {}", option, e.what()));
        }
    };
    auto raw = [](const auto& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0])); };
    stage("outputs", [&] { return npy_bytes("<f4", false, shape, raw(dequantised_outputs(br, image))); });
    stage("raw-outputs", [&] { return npy_bytes("<i4", false, shape, raw(br.raw_outputs)); });
    stage("per-input", [&] { return per_input_csv(br, labels); });
    stage("stats", [&] {
        nlohmann::json j = stats_json(sim, info);
        j["batch"] = batch_json(br, inputs, image, acc, opt("labels"));
        return json_file_text(j);
    });
    for (std::size_t i = 0; i < staged.size(); ++i) {
        try {
            staged[i]->commit();
        } catch (const std::runtime_error& e) {
            throw UsageError(fmt::format("--{} {}", staged_option[i], e.what()));
        }
    }
    if (!quiet) {
        std::cout << format_summary(sim, info);
        std::cout.flush();
    }
    if (!sim.bit_exact) {
        std::cerr << "eie-sim: " << verdict_line(sim, info) << "\n";
        return kExitMismatch;
    }
    return kExitExact;
}

void usage(std::ostream& os, const po::options_description& visible) {
    os << "Usage: eie-sim IMAGE_DIR [options]\n"
          "       eie-sim IMAGE_DIR --inputs X [--labels Y] [--outputs FILE.npy] [options]\n"
          "Runs an image directory made by eie-compress through the cycle-accurate EIE model, layer\n"
          "after layer, checks every layer against the golden model and reports the figures. With --inputs,\n"
          "loads the image once and runs every input of X over TLM (accuracy with --labels).\n"
          "       eie-sim --list-params [--json]\n"
          "       eie-sim --list-stats [--json]\n"
          "       eie-sim --check-config FILE [--json]\n"
          "Exit status: 0 bit-exact, 1 mismatch, 2 bad input or usage, 3 does not fit, 4 internal error.\n\n"
       << visible << "\nSee docs/eie-sim.md, docs/statistics.md and docs/waveforms.md.\n";
}

// The command line, parsed; "visible" is what --help shows.
struct CommandLine {
    po::options_description visible;
    po::variables_map vm;
    bool has(const char* k) const { return vm.count(k) > 0; }
    std::string opt(const char* k) const { return vm[k].as<std::string>(); }
};

void parse_command_line(int argc, char** argv, CommandLine& cl) {
    po::options_description archo("Architecture (applied over the image's own configuration)");
    archo.add_options()
        ("config", po::value<std::string>()->value_name("FILE"), "architecture JSON (or a manifest / statistics file with an \"arch\" object)")
        ("set", po::value<std::vector<std::string>>()->composing()->value_name("NAME=VALUE"), "name=value, repeatable (docs/configuration.md)")
        ("pes", po::value<std::string>()->value_name("N"), "shortcut for --set num_pes=N (layout: re-encodes the image)")
        ("queue-depth", po::value<std::string>()->value_name("D"), "shortcut for --set queue_depth=D (timing)")
        ("clock-mhz", po::value<std::string>()->value_name("F"), "shortcut for --set clock_mhz=F (timing)");
    po::options_description outo("Output");
    outo.add_options()
        ("stats", po::value<std::string>()->value_name("FILE"), "write the statistics JSON to FILE (docs/statistics.md)")
        ("vcd", po::value<std::string>()->value_name("FILE"), "write a VCD waveform to FILE (docs/waveforms.md)")
        ("vcd-pes", po::value<std::string>()->value_name("LIST"), "PEs in the VCD: e.g. 0,3,5-7 or all (default: all)")
        ("vcd-from", po::value<std::string>()->value_name("C"), "first computing cycle in the VCD (default 0)")
        ("vcd-to", po::value<std::string>()->value_name("C"), "last computing cycle in the VCD (default: the end)")
        ("energy-table", po::value<std::string>()->value_name("FILE"), "per-event energies JSON (default: traces/energy/default-45nm.json, built in)")
        ("quiet,q", "do not print the summary (errors and a mismatch still go to stderr)")
        ("help,h", "show this help")
        ("version", "print the version and exit");
    po::options_description batcho("Inputs (batch inference: many inputs through the loaded image)");
    batcho.add_options()
        ("inputs", po::value<std::string>()->value_name("X"), "inputs: .npy (N, in_len) or (in_len,), float (quantised) or integer (raw fixed point), or an IDX images file (.gz too)")
        ("labels", po::value<std::string>()->value_name("Y"), "labels: integer .npy (N,) or an IDX idx1 file; gives accuracy and the confusion matrix")
        ("outputs", po::value<std::string>()->value_name("FILE"), "write the last layer's outputs, float32 (inputs, out_len) .npy")
        ("raw-outputs", po::value<std::string>()->value_name("FILE"), "write them as raw fixed-point int32 .npy")
        ("per-input", po::value<std::string>()->value_name("FILE"), "write one CSV row of figures per input")
        ("first", po::value<std::string>()->value_name("K"), "start at input K (default 0)")
        ("count", po::value<std::string>()->value_name("N"), "run at most N inputs (default: all)")
        ("every", po::value<std::string>()->value_name("S"), "take every S-th input (default 1)")
        ("jobs,j", po::value<std::string>()->value_name("J"), "worker processes (default: all cores); results equal --jobs 1");
    po::options_description testo("Testing");
    testo.add_options()
        ("stall", po::value<std::string>()->value_name("P"), "random bubble probability in every PE front end and the broadcast, 0 <= P <= 0.99")
        ("stall-seed", po::value<std::string>()->value_name("S"), "seed of the bubbles (default 1)");
    po::options_description paramo("Parameters (no image: for scripts and sweeps)");
    paramo.add_options()
        ("list-params", "print every architecture parameter: type, default, range, unit, class")
        ("list-stats", "print every statistics counter (per PE, CCU) with its meaning, and the derived figures")
        ("check-config", po::value<std::string>()->value_name("FILE"), "check a configuration JSON (an object, or an array of objects; - reads stdin) with every rule of the model; exit 2 if any is invalid")
        ("json", "with --list-params, --list-stats or --check-config: print JSON");
    po::options_description hidden;
    hidden.add_options()("image", po::value<std::vector<std::string>>(), "");
    cl.visible.add(archo).add(batcho).add(outo).add(testo).add(paramo);
    po::options_description all;
    all.add(cl.visible).add(hidden);
    po::positional_options_description pos;
    pos.add("image", -1);
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), cl.vm);
        po::notify(cl.vm);
    } catch (const po::error& e) {
        throw UsageError(fmt::format("{} (see eie-sim --help)", e.what()));
    }
}

// --list-params, --list-stats and --check-config work on tables alone: any
// option of a run is an error, so a script cannot believe it was applied.
void refuse_run_options(const CommandLine& cl, const char* mode) {
    if (cl.has("image")) throw UsageError(fmt::format("{} takes no IMAGE_DIR", mode));
    for (const auto& [name, value] : cl.vm) {
        (void)value;
        if (name != "list-params" && name != "list-stats" && name != "check-config" && name != "json")
            throw UsageError(fmt::format("{} takes no --{} (only --json)", mode, name));
    }
}

int list_params(const CommandLine& cl) {
    refuse_run_options(cl, "--list-params");
    const nlohmann::json table = param_table_json();
    if (cl.has("json")) {
        std::cout << table.dump(2) << "\n";
        return kExitExact;
    }
    // "grown": whether grow_memories lets the encoder enlarge the parameter to fit.
    std::cout << fmt::format("{:<20} {:<7} {:>10} {:>24} {:<12} {:<5} {}\n", "name", "type", "default", "range",
                             "class", "grown", "unit: meaning");
    for (const auto& p : table["params"]) {
        const std::string range = p["type"] == "bool" ? "true/false" : fmt::format("{} .. {}", p["min"].dump(), p["max"].dump());
        const std::string unit = p["unit"].get<std::string>();
        std::cout << fmt::format("{:<20} {:<7} {:>10} {:>24} {:<12} {:<5} {}{}\n", p["name"].get<std::string>(),
                                 p["type"].get<std::string>(), p["default"].dump(), range, p["class"].get<std::string>(),
                                 p["grown_by_encoder"].get<bool>() ? "yes" : "no", unit.empty() ? "" : unit + ": ",
                                 p["doc"].get<std::string>());
    }
    return kExitExact;
}

int list_stats(const CommandLine& cl) {
    refuse_run_options(cl, "--list-stats");
    const nlohmann::json fields = stats_fields_json();
    if (cl.has("json")) {
        std::cout << fields.dump(2) << "\n";
        return kExitExact;
    }
    for (const char* group : {"per_pe", "ccu"}) {
        std::cout << (group == std::string("ccu") ? "\nCCU counters (per layer)\n" : "Per-PE counters (per layer)\n");
        for (const auto& f : fields[group])
            std::cout << fmt::format("  {:<24} {:<4} {}\n", f["name"].get<std::string>(),
                                     f["combine"].get<std::string>(), f["meaning"].get<std::string>());
    }
    std::cout << "\nDerived figures (per layer and totals)\n";
    for (const auto& n : fields["derived"]) std::cout << "  " << n.get<std::string>() << "\n";
    return kExitExact;
}

int check_config(const CommandLine& cl) {
    refuse_run_options(cl, "--check-config");
    const std::string path = cl.opt("check-config");
    if (path.empty()) throw UsageError("--check-config: empty file name (give a JSON file, or - for stdin)");
    const std::string source = path == "-" ? "stdin" : path;
    nlohmann::json doc;
    try {
        if (path == "-") {
            doc = nlohmann::json::parse(std::cin);
        } else {
            std::ifstream in(path);
            if (!in) throw UsageError(fmt::format("--check-config {}: cannot open the file", path));
            doc = nlohmann::json::parse(in);
        }
    } catch (const nlohmann::json::exception& e) {
        throw UsageError(fmt::format("--check-config {}: not valid JSON: {}", source, e.what()));
    }
    std::vector<ConfigCheck> checks;
    try {
        checks = check_configs(doc, source);
    } catch (const ConfigError& e) {
        throw UsageError(fmt::format("--check-config {}", e.what()));
    }
    std::size_t invalid = 0;
    nlohmann::json results = nlohmann::json::array();
    for (const ConfigCheck& c : checks) {
        invalid += !c.ok;
        if (c.ok) results.push_back({{"source", c.source}, {"ok", true}, {"config", to_json(c.config)}});
        else results.push_back({{"source", c.source}, {"ok", false}, {"error", c.error}, {"reason", c.reason}});
    }
    if (cl.has("json")) {
        std::cout << nlohmann::json{{"valid", checks.size() - invalid}, {"invalid", invalid}, {"results", results}}.dump(2)
                  << "\n";
    } else {
        for (const ConfigCheck& c : checks)
            if (c.ok) std::cout << c.source << ": ok\n";
        for (const ConfigCheck& c : checks)
            if (!c.ok) std::cerr << "eie-sim: " << c.error << "\n";
    }
    return invalid ? kExitUsage : kExitExact;
}

std::string image_dir_argument(const CommandLine& cl) {
    if (!cl.has("image")) throw UsageError("missing IMAGE_DIR (an image directory made by eie-compress; see eie-sim --help)");
    const auto images = cl.vm["image"].as<std::vector<std::string>>();
    if (images.size() != 1)
        throw UsageError(fmt::format("one IMAGE_DIR expected, {} given ('{}', '{}'{})", images.size(), images[0],
                                     images[1], images.size() > 2 ? ", ..." : ""));
    if (images[0].empty()) throw UsageError("IMAGE_DIR is empty (give an image directory made by eie-compress)");
    return images[0];
}

// Options that need others, and every output file: creatable and distinct
// from the others (checked before the possibly long run).
void check_option_combinations_and_outputs(const CommandLine& cl) {
    if (cl.has("json")) throw UsageError("--json goes with --list-params, --list-stats or --check-config");
    if (cl.has("stats")) check_output_file(cl.opt("stats"), "--stats");
    if (cl.has("vcd")) check_output_file(cl.opt("vcd"), "--vcd");
    if (!cl.has("vcd"))
        for (const char* k : {"vcd-pes", "vcd-from", "vcd-to"})
            if (cl.has(k)) throw UsageError(fmt::format("--{} needs --vcd FILE", k));
    if (!cl.has("inputs"))
        for (const char* k : {"labels", "outputs", "raw-outputs", "per-input", "first", "count", "every", "jobs"})
            if (cl.has(k)) throw UsageError(fmt::format("--{} needs --inputs X (the inputs to run)", k));
    if (cl.has("inputs") && cl.has("vcd"))
        throw UsageError("--vcd traces the image's own input, not a batch: leave out --inputs, or make an image of the "
                         "input to trace with eie-compress --input");
    std::vector<std::pair<std::string, std::string>> outputs;  // option, path
    for (const char* k : {"stats", "vcd", "outputs", "raw-outputs", "per-input"})
        if (cl.has(k)) {
            const std::string opt_name = std::string("--") + k;
            if (k != std::string("stats") && k != std::string("vcd")) check_output_file(cl.opt(k), opt_name);
            for (const auto& [o, p] : outputs)
                if (fs::absolute(p) == fs::absolute(cl.opt(k)))
                    throw UsageError(fmt::format("{} and {} name the same file '{}'", o, opt_name, p));
            outputs.emplace_back(opt_name, cl.opt(k));
        }
}

InputSelection input_selection(const CommandLine& cl) {
    InputSelection selection;
    if (cl.has("first")) selection.first = parse_uint_option(cl.opt("first"), "--first");
    if (cl.has("count")) selection.count = parse_uint_option(cl.opt("count"), "--count", 1);
    if (cl.has("every")) selection.every = parse_uint_option(cl.opt("every"), "--every", 1);
    return selection;
}

unsigned worker_count(const CommandLine& cl) {
    if (!cl.has("jobs")) return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    return static_cast<unsigned>(parse_uint_option(cl.opt("jobs"), "--jobs", 1, 1024));
}

VcdOptions vcd_window(const CommandLine& cl) {
    VcdOptions vo;
    if (cl.has("vcd-from")) vo.from = parse_uint_option(cl.opt("vcd-from"), "--vcd-from");
    if (cl.has("vcd-to")) vo.to = parse_uint_option(cl.opt("vcd-to"), "--vcd-to");
    if (vo.from > vo.to)
        throw UsageError(fmt::format("--vcd-from {} is after --vcd-to {} (the window [from, to] would be empty)", vo.from,
                                     vo.to));
    return vo;
}

SimOptions stall_options(const CommandLine& cl) {
    SimOptions so;
    if (cl.has("stall")) so.stall_probability = parse_stall_probability(cl.opt("stall"), "--stall");
    if (cl.has("stall-seed")) so.stall_seed = parse_uint_option(cl.opt("stall-seed"), "--stall-seed");
    return so;
}

SimRunInfo run_info(const CommandLine& cl, int argc, char** argv, const std::string& image_dir, const SimOptions& so) {
    SimRunInfo info;
    info.image_path = image_dir;
    info.command_line = command_line_text(argc, argv);
    info.stall_probability = so.stall_probability;
    info.stall_seed = so.stall_seed;
    if (cl.has("energy-table")) {
        try {
            info.energy_table = EnergyTable::from_json_file(cl.opt("energy-table"));
        } catch (const EnergyError& e) {
            throw UsageError(fmt::format("--energy-table: {}", e.what()));
        }
        info.energy_table_source = cl.opt("energy-table");
    }
    return info;
}

// The architecture to run: the image's, then --config, shortcuts, --set.
ArchConfig requested_arch(const CommandLine& cl, const ArchConfig& image_arch) {
    ArchOptions o;
    if (cl.has("config")) o.config = cl.opt("config");
    for (const auto& [option, param] : {std::pair{"pes", "num_pes"}, {"queue-depth", "queue_depth"},
                                        {"clock-mhz", "clock_mhz"}})
        if (cl.has(option)) o.shortcuts.emplace_back(fmt::format("--{}", option), param + ("=" + cl.opt(option)));
    if (cl.has("set")) o.sets = cl.vm["set"].as<std::vector<std::string>>();
    try {
        return apply_arch_options(image_arch, o, "architecture (image, --config, --set and shortcuts)");
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
}

// Moves the image to `arch` under the rules of image_arch: timing parameters
// apply as they are, layout parameters re-encode it, quantisation parameters
// are refused (they need the float weights, which only eie-compress has).
void adapt_image(Image& image, const ArchConfig& arch, const std::string& image_dir, SimRunInfo& info) {
    std::vector<ParamDiff> layout;
    try {
        layout = check_arch_change(image.arch, arch);
        if (!layout.empty())
            std::cerr << fmt::format("eie-sim: re-encoding the image for {} (layout parameter{} changed)\n",
                                     join_names(layout, true), layout.size() == 1 ? "" : "s");
        image = image_for_arch(image, arch, image_dir, info.reencoded);  // CapacityError propagates: exit 3
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
    if (info.reencoded)
        info.reencode_reason =
            fmt::format("layout parameter{} changed: {}", layout.size() == 1 ? "" : "s", describe_changes(layout));
    info.changes = diff(info.image_arch, image.arch);
}

// The model is checked against the golden model by simulate(); the image
// also ships the compressor's expected outputs (what an RTL testbench would
// compare against): they must agree too.
void check_expected_outputs(SimResult& result, const Image& image, SimRunInfo& info) {
    info.image_expected_layers = image.expected.size();
    if (!result.bit_exact) return;
    for (std::size_t k = 0; k < image.expected.size() && k < result.outputs.size() && !result.first_mismatch; ++k) {
        result.first_mismatch = first_mismatch(image, uint32_t(k), image.expected[k], result.outputs[k]);
        if (!result.first_mismatch) continue;
        info.mismatch_reference =
            image.expected[k].size() == result.outputs[k].size()
                ? fmt::format("the image's expected_L{}.npy", k)
                : fmt::format("the image's expected_L{}.npy ({} values, the layer has {})", k, image.expected[k].size(),
                              result.outputs[k].size());
    }
    result.bit_exact = !result.first_mismatch;
}

// Runs the image's own input, with a waveform if asked.
SimResult simulate_with_vcd(const Image& image, SimOptions so, const std::string& vcd_path, const VcdOptions& vo,
                            SimRunInfo& info) {
    std::unique_ptr<VcdWriter> vcd;
    if (!vcd_path.empty()) {
        so.on_elaborated = [&](Eie& eie) {
            try {
                vcd = std::make_unique<VcdWriter>(vcd_path, eie, vo);
            } catch (const std::exception& e) {
                throw VcdSetupError(e.what());
            }
            eie.set_tracer(vcd.get());
        };
    }
    SimResult result;
    try {
        result = simulate(image, so);
    } catch (const VcdSetupError& e) {
        throw UsageError(fmt::format("--vcd: {}", e.what()));
    }
    if (vcd) {
        try {
            vcd->close();
        } catch (const std::runtime_error& e) {
            throw UsageError(e.what());
        }
        info.vcd = SimRunInfo::Vcd{vcd_path,      vcd->pes(),    vcd->from(), vcd->to(), vcd->cycles_dumped(),
                                   vcd->signals(), vcd->bytes_written()};
        // A window past the end is not an error (the run's length is known only now), but the VCD
        // then holds the header alone: say so rather than leave an empty waveform to puzzle over.
        const uint64_t total = result.stats.compute_cycles();
        if (vo.from >= total)
            std::cerr << fmt::format("eie-sim: warning: --vcd-from {} is past the end of the run (cycles 0 .. {}): "
                                     "{} holds no cycle; choose --vcd-from below {}\n",
                                     vo.from, total - 1, vcd_path, total);
    }
    return result;
}

int report_single_run(const CommandLine& cl, const SimResult& result, const SimRunInfo& info) {
    if (!cl.has("quiet")) {
        std::cout << format_summary(result, info);
        std::cout.flush();
    }
    if (cl.has("stats")) write_output_file(cl.opt("stats"), json_file_text(stats_json(result, info)), "--stats");
    if (!result.bit_exact) {
        std::cerr << "eie-sim: " << verdict_line(result, info) << "\n";
        return kExitMismatch;
    }
    return kExitExact;
}

int run(int argc, char** argv) {
    const auto t0 = std::chrono::steady_clock::now();
    CommandLine cl;
    parse_command_line(argc, argv, cl);
    if (cl.has("help")) {
        usage(std::cout, cl.visible);
        return kExitExact;
    }
    if (cl.has("version")) {
        std::cout << "eie-sim " << kEieVersion << "\n";
        return kExitExact;
    }
    if (cl.has("list-params") + cl.has("list-stats") + cl.has("check-config") > 1)
        throw UsageError("--list-params, --list-stats and --check-config are separate commands: give one");
    if (cl.has("list-params")) return list_params(cl);
    if (cl.has("list-stats")) return list_stats(cl);
    if (cl.has("check-config")) return check_config(cl);

    const std::string image_dir = image_dir_argument(cl);
    // --- everything that can be checked before reading the image
    check_option_combinations_and_outputs(cl);
    const InputSelection selection = input_selection(cl);
    const unsigned jobs = worker_count(cl);
    VcdOptions vo = vcd_window(cl);
    const SimOptions so = stall_options(cl);
    SimRunInfo info = run_info(cl, argc, argv, image_dir, so);

    // --- the image, moved to the requested architecture
    Image image;
    try {
        image = read_image_dir(image_dir);
    } catch (const ImageError& e) {
        throw UsageError(e.what());
    }
    info.image_arch = image.arch;
    adapt_image(image, requested_arch(cl, image.arch), image_dir, info);

    if (cl.has("vcd-pes")) {
        try {
            vo.pes = parse_pe_list(cl.opt("vcd-pes"), image.arch.num_pes);
        } catch (const std::invalid_argument& e) {
            throw UsageError(fmt::format("--vcd-pes: {}", e.what()));
        }
    }
    vo.comment = fmt::format("image {}", image_dir);

    if (cl.has("inputs"))
        return run_batch_mode(image, info, so, selection, jobs, [&](const char* k) {
            return cl.has(k) ? cl.opt(k) : std::string();
        }, cl.has("quiet"));

    // --- the run
    SimResult result = simulate_with_vcd(image, so, cl.has("vcd") ? cl.opt("vcd") : std::string(), vo, info);
    check_expected_outputs(result, image, info);
    info.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report_single_run(cl, result, info);
}

}  // namespace

int sc_main(int argc, char* argv[]) {
    try {
        return run(argc, argv);
    } catch (const CapacityError& e) {
        std::cerr << "eie-sim: " << e.what() << "\n";
        return kExitCapacity;
    } catch (const UsageError& e) {
        std::cerr << "eie-sim: " << e.what() << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "eie-sim: internal error: " << e.what() << "\n";
        return kExitInternal;
    }
}
