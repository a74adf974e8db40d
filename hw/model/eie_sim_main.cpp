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

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The waveform file could not be set up (raised from inside simulate()).
struct VcdSetupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kExitExact = 0, kExitMismatch = 1, kExitUsage = 2, kExitCapacity = 3, kExitInternal = 4;

uint64_t parse_uint(const std::string& text, const std::string& option) {
    std::size_t used = 0;
    unsigned long long v = 0;
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    try {
        if (digits) v = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (!digits || used != text.size())
        throw UsageError(fmt::format("{}: '{}' is not a non-negative integer (allowed: 0 .. {})", option, text,
                                     std::numeric_limits<uint64_t>::max()));
    return v;
}

double parse_probability(const std::string& text, const std::string& option) {
    double v = 0;
    if (!parse_whole_number(text, v) || !std::isfinite(v) || v < 0 || v >= 1)
        throw UsageError(fmt::format("{}: '{}' is not a probability (allowed: 0 <= P < 1)", option, text));
    return v;
}

// An output file must be creatable: checked before the (possibly long) run.
void check_output_path(const std::string& path, const std::string& option) {
    if (path.empty()) throw UsageError(fmt::format("{}: empty file name", option));
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw UsageError(fmt::format("{} '{}': is a directory", option, path));
    fs::path parent = fs::path(path).parent_path();
    if (parent.empty()) parent = ".";
    if (!fs::exists(parent, ec))
        throw UsageError(fmt::format("{} '{}': directory '{}' does not exist", option, path, parent.string()));
    if (!fs::is_directory(parent, ec))
        throw UsageError(fmt::format("{} '{}': '{}' is not a directory", option, path, parent.string()));
    if (::access(parent.c_str(), W_OK) != 0)
        throw UsageError(fmt::format("{} '{}': directory '{}' is not writable", option, path, parent.string()));
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

// Writes a .npy atomically (nothing at `path` unless all of it was written).
template <class T>
void write_npy_atomic(const std::string& path, const std::string& descr, const std::vector<uint64_t>& shape,
                      const std::vector<T>& data) {
    write_file_atomic(path, npy_bytes(descr, false, shape,
                                      std::string(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(T))));
}

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
    std::vector<std::string> written;
    auto write_or_undo = [&](const char* option, const std::function<void(const std::string&)>& write) {
        const std::string path = opt(option);
        if (path.empty()) return;
        try {
            write(path);
            written.push_back(path);
        } catch (const std::runtime_error& e) {
            for (const std::string& w : written) std::remove(w.c_str());
            throw UsageError(fmt::format("--{} {}", option, e.what()));
        }
    };
    write_or_undo("outputs", [&](const std::string& p) { write_npy_atomic(p, "<f4", shape, dequantised_outputs(br, image)); });
    write_or_undo("raw-outputs", [&](const std::string& p) { write_npy_atomic(p, "<i4", shape, br.raw_outputs); });
    write_or_undo("per-input", [&](const std::string& p) { write_file_atomic(p, per_input_csv(br, labels)); });
    write_or_undo("stats", [&](const std::string& p) {
        nlohmann::json j = stats_json(sim, info);
        j["batch"] = batch_json(br, inputs, image, acc, opt("labels"));
        write_json_atomic(p, j);
    });
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
          "Exit status: 0 bit-exact, 1 mismatch, 2 bad input or usage, 3 does not fit, 4 internal error.\n\n"
       << visible << "\nSee docs/eie-sim.md, docs/statistics.md and docs/waveforms.md.\n";
}

int run(int argc, char** argv) {
    const auto t0 = std::chrono::steady_clock::now();

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
        ("stall", po::value<std::string>()->value_name("P"), "random bubble probability in every PE front end and the broadcast, 0 <= P < 1")
        ("stall-seed", po::value<std::string>()->value_name("S"), "seed of the bubbles (default 1)");
    po::options_description hidden;
    hidden.add_options()("image", po::value<std::vector<std::string>>(), "");
    po::options_description visible;
    visible.add(archo).add(batcho).add(outo).add(testo);
    po::options_description all;
    all.add(visible).add(hidden);
    po::positional_options_description pos;
    pos.add("image", -1);

    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw UsageError(fmt::format("{} (see eie-sim --help)", e.what()));
    }
    if (vm.count("help")) {
        usage(std::cout, visible);
        return kExitExact;
    }
    if (vm.count("version")) {
        std::cout << "eie-sim " << kEieVersion << "\n";
        return kExitExact;
    }
    auto has = [&](const char* k) { return vm.count(k) > 0; };
    auto opt = [&](const char* k) { return vm[k].as<std::string>(); };
    if (!has("image")) throw UsageError("missing IMAGE_DIR (an image directory made by eie-compress; see eie-sim --help)");
    const auto images = vm["image"].as<std::vector<std::string>>();
    if (images.size() != 1)
        throw UsageError(fmt::format("one IMAGE_DIR expected, {} given ('{}', '{}'{})", images.size(), images[0],
                                     images[1], images.size() > 2 ? ", ..." : ""));
    const std::string image_dir = images[0];
    if (image_dir.empty()) throw UsageError("IMAGE_DIR is empty (give an image directory made by eie-compress)");

    // --- everything that can be checked before reading the image
    std::string stats_path, vcd_path;
    if (has("stats")) check_output_path(stats_path = opt("stats"), "--stats");
    if (has("vcd")) check_output_path(vcd_path = opt("vcd"), "--vcd");
    if (!has("vcd"))
        for (const char* k : {"vcd-pes", "vcd-from", "vcd-to"})
            if (has(k)) throw UsageError(fmt::format("--{} needs --vcd FILE", k));
    const bool batch = has("inputs");
    if (!batch)
        for (const char* k : {"labels", "outputs", "raw-outputs", "per-input", "first", "count", "every", "jobs"})
            if (has(k)) throw UsageError(fmt::format("--{} needs --inputs X (the inputs to run)", k));
    if (batch && has("vcd"))
        throw UsageError("--vcd traces the image's own input, not a batch: leave out --inputs, or make an image of the "
                         "input to trace with eie-compress --input");
    // Every output file, checked before the run and distinct from the others.
    std::vector<std::pair<std::string, std::string>> outputs;  // option, path
    for (const char* k : {"stats", "vcd", "outputs", "raw-outputs", "per-input"})
        if (has(k)) {
            const std::string opt_name = std::string("--") + k;
            if (k != std::string("stats") && k != std::string("vcd")) check_output_path(opt(k), opt_name);
            for (const auto& [o, p] : outputs)
                if (fs::absolute(p) == fs::absolute(opt(k)))
                    throw UsageError(fmt::format("{} and {} name the same file '{}'", o, opt_name, p));
            outputs.emplace_back(opt_name, opt(k));
        }
    InputSelection selection;
    if (has("first")) selection.first = parse_uint(opt("first"), "--first");
    if (has("count")) {
        selection.count = parse_uint(opt("count"), "--count");
        if (*selection.count == 0) throw UsageError("--count: 0 selects no input (allowed: 1 or more)");
    }
    if (has("every")) {
        selection.every = parse_uint(opt("every"), "--every");
        if (selection.every == 0) throw UsageError("--every: 0 is not a step (allowed: 1 or more)");
    }
    unsigned jobs = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    if (has("jobs")) {
        const uint64_t j = parse_uint(opt("jobs"), "--jobs");
        if (j < 1 || j > 1024) throw UsageError(fmt::format("--jobs: {} (allowed: 1 .. 1024)", j));
        jobs = static_cast<unsigned>(j);
    }
    VcdOptions vo;
    if (has("vcd-from")) vo.from = parse_uint(opt("vcd-from"), "--vcd-from");
    if (has("vcd-to")) vo.to = parse_uint(opt("vcd-to"), "--vcd-to");
    if (vo.from > vo.to)
        throw UsageError(fmt::format("--vcd-from {} is after --vcd-to {} (the window [from, to] would be empty)", vo.from,
                                     vo.to));
    SimOptions so;
    if (has("stall")) so.stall_probability = parse_probability(opt("stall"), "--stall");
    if (has("stall-seed")) so.stall_seed = parse_uint(opt("stall-seed"), "--stall-seed");

    SimRunInfo info;
    info.image_path = image_dir;
    for (int i = 0; i < argc; ++i) info.command_line += (i ? " " : "") + std::string(argv[i]);
    info.stall_probability = so.stall_probability;
    info.stall_seed = so.stall_seed;
    if (has("energy-table")) {
        try {
            info.energy_table = EnergyTable::from_json_file(opt("energy-table"));
        } catch (const EnergyError& e) {
            throw UsageError(fmt::format("--energy-table: {}", e.what()));
        }
        info.energy_table_source = opt("energy-table");
    }

    // --- the image
    Image image;
    try {
        image = read_image_dir(image_dir);
    } catch (const ImageError& e) {
        throw UsageError(e.what());
    }
    info.image_arch = image.arch;

    // --- the architecture: the image's, then --config, shortcuts, --set
    ArchConfig arch = image.arch;
    try {
        if (has("config")) arch = arch_from_json_file(opt("config"), arch);
        if (has("pes")) apply_override(arch, "num_pes=" + opt("pes"), "--pes");
        if (has("queue-depth")) apply_override(arch, "queue_depth=" + opt("queue-depth"), "--queue-depth");
        if (has("clock-mhz")) apply_override(arch, "clock_mhz=" + opt("clock-mhz"), "--clock-mhz");
        if (has("set"))
            for (const auto& s : vm["set"].as<std::vector<std::string>>()) apply_override(arch, s, "--set " + s);
        arch.validate("architecture (image, --config, --set and shortcuts)");
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
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

    if (has("vcd-pes")) {
        try {
            vo.pes = parse_pe_list(opt("vcd-pes"), image.arch.num_pes);
        } catch (const std::invalid_argument& e) {
            throw UsageError(fmt::format("--vcd-pes: {}", e.what()));
        }
    }
    vo.comment = fmt::format("image {}", image_dir);

    if (batch)
        return run_batch_mode(image, info, so, selection, jobs, [&](const char* k) {
            return has(k) ? opt(k) : std::string();
        }, has("quiet"));

    // --- the run
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
    // The model is checked against the golden model by simulate(); the
    // image also ships the compressor's expected outputs (what an RTL
    // testbench would compare against): they must agree too.
    info.image_expected_layers = image.expected.size();
    if (result.bit_exact) {
        for (std::size_t k = 0; k < image.expected.size() && k < result.outputs.size() && !result.first_mismatch; ++k) {
            const auto& want = image.expected[k];
            const auto& got = result.outputs[k];
            for (std::size_t i = 0; i < want.size() && i < got.size(); ++i)
                if (want[i] != got[i]) {
                    result.first_mismatch = Mismatch{uint32_t(k), image.layers[k].name, uint32_t(i), want[i], got[i]};
                    info.mismatch_reference = fmt::format("the image's expected_L{}.npy", k);
                    break;
                }
            if (!result.first_mismatch && want.size() != got.size()) {
                result.first_mismatch = Mismatch{uint32_t(k), image.layers[k].name, uint32_t(std::min(want.size(), got.size())), 0, 0};
                info.mismatch_reference = fmt::format("the image's expected_L{}.npy ({} values, the layer has {})", k,
                                                      want.size(), got.size());
            }
        }
        result.bit_exact = !result.first_mismatch;
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
    info.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (!has("quiet")) {
        std::cout << format_summary(result, info);
        std::cout.flush();
    }
    if (!stats_path.empty()) {
        try {
            write_json_atomic(stats_path, stats_json(result, info));
        } catch (const std::runtime_error& e) {
            throw UsageError(fmt::format("--stats {}", e.what()));
        }
    }
    if (!result.bit_exact) {
        std::cerr << "eie-sim: " << verdict_line(result, info) << "\n";
        return kExitMismatch;
    }
    return kExitExact;
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
