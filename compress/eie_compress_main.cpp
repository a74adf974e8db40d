// eie-compress: Deep Compression of fully-connected layers into an EIE image
// directory (docs/compression.md). Exit codes: 0 ok, 2 bad input or usage,
// 3 a layer does not fit the memories, 4 internal error (as eie-sim). On any error
// nothing is written: no image directory, no JSON report.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "eie/compress/compressor.hpp"
#include "eie/hw/cli_values.hpp"
#include "eie/hw/file_io.hpp"
#include "eie/hw/image_io.hpp"
#include "eie/hw/layer_label.hpp"
#include "eie/hw/npy.hpp"
#include "eie/compress/import/model_file.hpp"
#include "eie/compress/synthetic.hpp"
#include "eie/hw/version.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace eie;

namespace {

std::string shape_text(const std::vector<uint64_t>& s) {
    if (s.size() == 1) return fmt::format("({},)", s[0]);
    return fmt::format("({})", fmt::join(s, ", "));
}

// Vectors of length `len` from a .npy: one 1-D vector or the rows of a 2-D array.
std::vector<std::vector<double>> read_vectors(const std::string& path, uint32_t len, const char* what,
                                              bool single) {
    NpyArray a = read_npy(path);
    std::vector<std::vector<double>> out;
    bool ok_shape = (a.shape.size() == 1 && a.shape[0] == len) ||
                    (a.shape.size() == 2 && a.shape[1] == len && a.shape[0] >= 1 && (!single || a.shape[0] == 1));
    if (!ok_shape)
        throw UsageError(fmt::format("{}: {} shape {} does not match the first layer's in_len = {} (allowed: ({},){})",
                                     path, what, shape_text(a.shape), len, len,
                                     single ? fmt::format(" or (1, {})", len) : fmt::format(" or (k, {})", len)));
    const uint64_t rows = a.shape.size() == 1 ? 1 : a.shape[0];
    for (uint64_t r = 0; r < rows; ++r) {
        out.emplace_back(a.data.begin() + r * len, a.data.begin() + (r + 1) * len);
        for (uint32_t k = 0; k < len; ++k)
            if (!std::isfinite(out.back()[k]))
                throw UsageError(fmt::format("{}: {} {}element {} is {} (values must be finite)", path, what,
                                             rows > 1 ? fmt::format("row {}, ", r) : std::string(), k, out.back()[k]));
    }
    return out;
}

// Fails early (before any work) when -o or --json cannot be written.
void check_output_paths(const std::string& dir, const std::string& json_path) {
    check_image_dir_target(dir, "-o");
    if (!json_path.empty()) check_output_file(json_path, "--json");
}

// The path of `file` relative to directory `dir` when it lies inside it
// (after resolving "..", symbolic links and relative spellings), else "".
std::string path_inside(const std::string& file, const std::string& dir) {
    std::error_code ec;
    const fs::path f = fs::weakly_canonical(fs::absolute(file), ec);
    if (ec) return "";
    const fs::path d = fs::weakly_canonical(fs::absolute(dir), ec);
    if (ec) return "";
    auto fi = f.begin();
    for (auto di = d.begin(); di != d.end(); ++di, ++fi) {
        if (di->empty()) continue;  // a trailing separator
        if (fi == f.end() || *fi != *di) return "";
    }
    fs::path rel;
    for (; fi != f.end(); ++fi) rel /= *fi;
    return rel.string();
}

// Writes the image and the JSON report so that a failure or a kill at any
// moment leaves the previous image and report, or both new ones:
// - a report inside the image directory is written with the image (one
//   rename replaces both);
// - a report elsewhere goes to a temporary first, and is renamed into place
//   only after the image is complete.
void write_outputs(const Image& image, const std::string& out_dir, const nlohmann::json& report,
                   const std::string& json_path) {
    const std::string text = json_path.empty() ? std::string() : report.dump(2) + "\n";
    const std::string inside = json_path.empty() ? std::string() : path_inside(json_path, out_dir);
    if (!json_path.empty() && !inside.empty()) {
        write_image_dir(image, out_dir, report, {{inside, text}});
        return;
    }
    std::optional<AtomicFileWriter> json_out;
    try {
        if (!json_path.empty()) {
            json_out.emplace(json_path);
            json_out->write(text);
        }
    } catch (const FileError& e) {
        throw UsageError(fmt::format("--json {}", e.what()));
    }
    write_image_dir(image, out_dir, report);  // a throw here discards the report's temporary
    if (!json_out) return;
    try {
        json_out->commit();
    } catch (const FileError& e) {
        throw UsageError(fmt::format("--json {} (the image at '{}' was written)", e.what(), out_dir));
    }
}

// A bare "--bias" (no file after it) is the synthetic-layer flag.
std::vector<std::string> rewrite_bias_flag(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--bias" && (i + 1 >= argc || argv[i + 1][0] == '-' || argv[i + 1][0] == '\0'))
            args.push_back("--synthetic-bias");
        else
            args.push_back(a);
    }
    return args;
}

// The command line, parsed: what was given (not defaulted) and its text.
struct Args {
    po::variables_map vm;
    std::string opt(const char* name) const { return vm.count(name) ? vm[name].as<std::string>() : std::string(); }
    bool has(const char* name) const { return vm.count(name) > 0 && !vm[name].defaulted(); }
};

// The options --help shows, and the hidden synthetic-bias flag.
struct OptionSets {
    po::options_description visible{"eie-compress: compress fully-connected layers into an EIE image directory"};
    po::options_description all;
};

OptionSets describe_options() {
    po::options_description src("Source of the layers (exactly one)");
    src.add_options()
        ("preset", po::value<std::string>(), "synthetic benchmark layer: alex6 alex7 alex8 vgg6 vgg7 vgg8 ntwe ntwd ntlstm")
        ("synthetic", po::value<std::string>(), "synthetic layer IN,OUT (input length, output length)")
        ("weights", po::value<std::string>(), "one layer from W.npy, shape (out_len, in_len)")
        ("npz", po::value<std::string>(), "several layers from NET.npz or NET.safetensors (with --layers), or a TorchScript NET.pt or ONNX NET.onnx model");
    po::options_description srcopt("Source options");
    srcopt.add_options()
        ("layers", po::value<std::string>(), "with --npz NET.npz / .safetensors: w6[:b6],w7[:b7],... array names in order (bias optional)")
        ("bias", po::value<std::string>(), "with --weights: bias vector B.npy, shape (out_len,); alone (no file): give "
                                           "the synthetic layer a bias")
        ("placement", po::value<std::string>(), "synthetic non-zero placement: uniform | skewed")
        ("name", po::value<std::string>(), "--synthetic: the layer's name in the image and in messages (default: synthetic)")
        ("seed", po::value<std::string>()->default_value("1"), "seed of the synthetic data, the random input and random k-means init")
        ("weight-density", po::value<std::string>()->default_value("0.1"), "--synthetic: weight density")
        ("act-density", po::value<std::string>()->default_value("0.35"), "density of the synthetic or random input")
        ("input", po::value<std::string>(), "input vector X.npy, shape (in_len,) or (1, in_len); default: the synthetic "
                                            "input, or a deterministic random input with --act-density")
        ("calibration", po::value<std::string>(), "C.npy: one vector (in_len,) or several (k, in_len) used with the "
                                                  "input to choose the activation formats");
    po::options_description comp("Compression");
    comp.add_options()
        ("density", po::value<std::string>(), "prune to this weight density: D, or D1,D2,... per layer (default: keep)")
        ("threshold", po::value<std::string>(), "prune weights with |w| < T: T, or T1,T2,... per layer")
        ("init", po::value<std::string>()->default_value("linear"), "k-means initialisation: linear | density | random")
        ("kmeans-iterations", po::value<std::string>()->default_value("1000"), "k-means iteration limit")
        ("activation", po::value<std::string>(), "relu | identity, or one per layer (default: relu, identity on the last "
                                                 "layer of --weights/--npz; synthetic layers: relu)")
        ("in-frac", po::value<std::string>(), "fractional bits of the input (default: from the data)")
        ("w-frac", po::value<std::string>(), "fractional bits of the codebook, F or F1,F2,... (default: from the data)")
        ("out-frac", po::value<std::string>(), "fractional bits of each layer's output, F or F1,F2,... (default: from the data)");
    po::options_description archo("Architecture");
    archo.add_options()
        ("config", po::value<std::string>(), "architecture JSON (or a manifest / statistics file with an \"arch\" object)")
        ("set", po::value<std::vector<std::string>>()->composing(), "name=value, repeatable (docs/configuration.md)")
        ("pes", po::value<std::string>(), "shortcut for --set num_pes=N")
        ("weight-bits", po::value<std::string>(), "shortcut for --set weight_bits=B")
        ("index-bits", po::value<std::string>(), "shortcut for --set index_bits=B");
    po::options_description outo("Output");
    outo.add_options()
        ("output,o", po::value<std::string>(), "image directory to write (required)")
        ("json", po::value<std::string>(), "also write the report as JSON to FILE")
        ("quiet,q", "do not print the report")
        ("help,h", "show this help")
        ("version", "print the version and exit");
    po::options_description hidden;
    hidden.add_options()("synthetic-bias", "");
    OptionSets o;
    o.visible.add(src).add(srcopt).add(comp).add(archo).add(outo);
    o.all.add(o.visible).add(hidden);
    return o;
}

Args parse_command_line(int argc, char** argv, const OptionSets& options) {
    Args a;
    try {
        auto args = rewrite_bias_flag(argc, argv);
        po::store(po::command_line_parser(args).options(options.all).run(), a.vm);
        po::notify(a.vm);
    } catch (const po::error& e) {
        throw UsageError(fmt::format("{} (see --help)", e.what()));
    }
    return a;
}

// The options that go together, checked before any file is read.
void check_option_combinations(const Args& a) {
    int nsrc = a.has("preset") + a.has("synthetic") + a.has("weights") + a.has("npz");
    if (nsrc != 1)
        throw UsageError(fmt::format("give exactly one source of layers: --preset, --synthetic, --weights or --npz ({} "
                                     "given; see --help)",
                                     nsrc));
    if (!a.has("output")) throw UsageError("-o DIR (the image directory to write) is required");
    check_output_paths(a.opt("output"), a.opt("json"));
    if (a.has("layers") && !a.has("npz")) throw UsageError("--layers goes with --npz");
    if (a.has("bias") && !a.has("weights"))
        throw UsageError(fmt::format("--bias {}: a bias file goes with --weights (synthetic layers take --bias alone)",
                                     a.opt("bias")));
    if (a.has("synthetic-bias") && !(a.has("preset") || a.has("synthetic")))
        throw UsageError("--bias without a file: only synthetic layers (--preset, --synthetic) take --bias alone; "
                         "give --bias B.npy with --weights");
    if (a.has("name") && !a.has("synthetic")) throw UsageError("--name goes with --synthetic");
    if (a.has("placement") && !(a.has("preset") || a.has("synthetic")))
        throw UsageError("--placement goes with --preset or --synthetic");
}

// What the layers come from, and what they bring with them.
struct LayerSource {
    std::vector<FloatLayer> layers;
    std::vector<double> input;
    bool have_input = false;
    std::string name;                      // "preset alex7", "synthetic 64x48", a file path
    std::vector<std::string> preset_arch;  // what the preset needs of the architecture
};

// --preset or --synthetic: the spec, with the user's seed, density, bias and placement.
SyntheticSpec synthetic_spec(const Args& a, uint64_t seed, double act_density, LayerSource& src) {
    SyntheticSpec spec;
    if (a.has("preset")) {
        try {
            spec = preset(a.opt("preset"));
        } catch (const std::invalid_argument& e) {
            throw UsageError(fmt::format("--preset: {}", e.what()));
        }
        src.name = "preset " + a.opt("preset");
        src.preset_arch = spec.arch_overrides;
        if (a.has("weight-density")) throw UsageError("--weight-density goes with --synthetic (a preset fixes it)");
        if (a.has("act-density")) spec.act_density = act_density;
    } else {
        auto dims = split(a.opt("synthetic"), ',');
        if (dims.size() != 2)
            throw UsageError(fmt::format("--synthetic: '{}' must be IN,OUT (input length, output length)",
                                         a.opt("synthetic")));
        spec.in_len = static_cast<uint32_t>(parse_int_option(dims[0], "--synthetic IN", 1, 1 << 26));
        spec.out_len = static_cast<uint32_t>(parse_int_option(dims[1], "--synthetic OUT", 1, 1 << 26));
        spec.weight_density = parse_number_option(a.opt("weight-density"), "--weight-density", NumberRange(0, 1));
        spec.act_density = act_density;
        src.name = fmt::format("synthetic {}x{}", spec.in_len, spec.out_len);
        if (a.has("name")) {
            if (a.opt("name").empty()) throw UsageError("--name: the layer name must not be empty");
            spec.name = a.opt("name");
        }
    }
    if (a.has("seed")) spec.seed = seed;
    if (a.has("synthetic-bias")) spec.bias = true;
    if (a.has("placement")) {
        try {
            spec.placement = parse_placement(a.opt("placement"));
        } catch (const std::invalid_argument& e) {
            throw UsageError(fmt::format("--placement: {}", e.what()));
        }
    }
    return spec;
}

// The layers from the one source given, with their activations; a synthetic
// source brings its input too.
LayerSource read_layers(const Args& a, uint64_t seed, double act_density) {
    LayerSource src;
    if (a.has("preset") || a.has("synthetic")) {
        const SyntheticSpec spec = synthetic_spec(a, seed, act_density, src);
        src.layers.push_back(make_synthetic_layer(spec));
        auto x = make_synthetic_input(spec);
        src.input.assign(x.begin(), x.end());
        src.have_input = true;
    } else if (a.has("weights")) {
        const std::string wpath = a.opt("weights");
        FloatLayer L = layer_from_array(read_npy(wpath), wpath, fs::path(wpath).stem().string());
        if (a.has("bias")) add_bias(L, read_npy(a.opt("bias")), a.opt("bias"));
        L.act = Activation::identity;
        src.layers.push_back(std::move(L));
        src.name = wpath;
    } else {
        const std::string path = a.opt("npz");  // .npz / .safetensors with --layers; .pt / .onnx in the model's order
        src.layers = read_model_layers(path, a.has("layers") ? a.opt("layers") : "");
        src.name = path;
    }
    if (a.has("activation")) {
        auto acts = per_layer_values(a.opt("activation"), src.layers.size(), "--activation");
        for (std::size_t l = 0; l < src.layers.size(); ++l) {
            try {
                src.layers[l].act = parse_activation(acts[l]);
            } catch (const CompressError& e) {
                throw UsageError(fmt::format("--activation: {}", e.what()));
            }
        }
    }
    return src;
}

// The input: --input, else the synthetic layer's, else a deterministic random
// post-ReLU input with the requested density.
void choose_input(const Args& a, uint64_t seed, double act_density, LayerSource& src) {
    if (a.has("input")) {
        src.input = read_vectors(a.opt("input"), src.layers[0].in_len, "input", true)[0];
        src.have_input = true;
    }
    if (src.have_input) return;
    SyntheticSpec spec;
    spec.in_len = src.layers[0].in_len;
    spec.out_len = 1;
    spec.act_density = act_density;
    spec.seed = seed;
    auto x = make_synthetic_input(spec);
    src.input.assign(x.begin(), x.end());
}

// The preset's own needs first, so the user's settings (--config, shortcuts,
// --set, in that order) override them.
ArchConfig architecture(const Args& a, const LayerSource& src) {
    ArchConfig arch;
    try {
        for (const std::string& o : src.preset_arch) apply_override(arch, o, src.name);
        ArchOptions o;
        if (a.has("config")) o.config = a.opt("config");
        for (const auto& [option, param] : {std::pair{"pes", "num_pes"}, {"weight-bits", "weight_bits"},
                                            {"index-bits", "index_bits"}})
            if (a.has(option)) o.shortcuts.emplace_back(fmt::format("--{}", option), param + ("=" + a.opt(option)));
        if (a.vm.count("set")) o.sets = a.vm["set"].as<std::vector<std::string>>();
        arch = apply_arch_options(arch, o,
                                  src.preset_arch.empty() ? "architecture (--config, --set and shortcuts)"
                                                          : "architecture (the preset's, --config, --set and shortcuts)");
    } catch (const ConfigError& e) {
        throw UsageError(e.what());
    }
    return arch;
}

// --density or --threshold, one value for all layers or one per layer.
void pruning_options(const Args& a, const std::vector<FloatLayer>& layers, std::vector<LayerOptions>& opts) {
    if (a.has("density") && a.has("threshold")) throw UsageError("give --density or --threshold, not both");
    const std::size_t n = layers.size();
    if (a.has("density")) {
        auto v = per_layer_values(a.opt("density"), n, "--density");
        for (std::size_t l = 0; l < n; ++l) {
            const double d = parse_number_option(v[l], fmt::format("--density for {}", layer_label(l, layers[l].name)),
                                                 NumberRange(0, 1, true, false, "D"));
            opts[l].prune = PruneMode::density;
            opts[l].prune_value = d;
        }
    }
    if (a.has("threshold")) {
        auto v = per_layer_values(a.opt("threshold"), n, "--threshold");
        for (std::size_t l = 0; l < n; ++l) {
            const NumberRange non_negative(0, std::numeric_limits<double>::infinity(), false, false, "T");
            const double t =
                parse_number_option(v[l], fmt::format("--threshold for {}", layer_label(l, layers[l].name)), non_negative);
            opts[l].prune = PruneMode::threshold;
            opts[l].prune_value = t;
        }
    }
}

// --in-frac, --w-frac, --out-frac: the fixed-point formats the user fixes.
void format_options(const Args& a, std::size_t n, CompressOptions& co) {
    if (a.has("in-frac")) co.in_frac = int(parse_int_option(a.opt("in-frac"), "--in-frac", kMinFracBits, kMaxFracBits));
    if (a.has("w-frac")) {
        auto v = per_layer_values(a.opt("w-frac"), n, "--w-frac");
        for (std::size_t l = 0; l < n; ++l)
            co.layers[l].w_frac = int(parse_int_option(v[l], "--w-frac", kMinFracBits, kMaxFracBits));
    }
    if (a.has("out-frac")) {
        auto v = per_layer_values(a.opt("out-frac"), n, "--out-frac");
        for (std::size_t l = 0; l < n; ++l)
            co.layers[l].out_frac = int(parse_int_option(v[l], "--out-frac", kMinFracBits, kMaxFracBits));
    }
}

CompressOptions compression_options(const Args& a, const LayerSource& src, uint64_t seed) {
    CompressOptions co;
    co.arch = architecture(a, src);
    try {
        co.init = parse_kmeans_init(a.opt("init"));
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("--init: {}", e.what()));
    }
    co.kmeans_seed = seed;
    co.kmeans_max_iterations =
        static_cast<uint32_t>(parse_int_option(a.opt("kmeans-iterations"), "--kmeans-iterations", 1, 1000000));
    co.layers.assign(src.layers.size(), LayerOptions{});
    pruning_options(a, src.layers, co.layers);
    format_options(a, src.layers.size(), co);
    return co;
}

// The compressor's report with where it came from: the source, the command
// line and the architecture of the image.
nlohmann::json full_report(const CompressResult& res, const std::string& source, int argc, char** argv) {
    nlohmann::json report = res.report;
    report["source"] = source;
    report["command_line"] = command_line_text(argc, argv);
    report["arch"] = to_json(res.image.arch);
    return report;
}

int run(int argc, char** argv) {
    const OptionSets options = describe_options();
    const Args a = parse_command_line(argc, argv, options);
    if (a.vm.count("help")) {
        std::cout << options.visible << "\nExit codes: 0 ok, 2 bad input or usage, 3 a layer does not fit the memories, "
                                        "4 internal error.\n";
        return 0;
    }
    if (a.vm.count("version")) {
        std::cout << "eie-compress " << kEieVersion << "\n";
        return 0;
    }
    check_option_combinations(a);
    const uint64_t seed = parse_uint_option(a.opt("seed"), "--seed", 0, std::numeric_limits<long long>::max());
    const double act_density = parse_number_option(a.opt("act-density"), "--act-density", NumberRange(0, 1));

    LayerSource src = read_layers(a, seed, act_density);
    choose_input(a, seed, act_density, src);
    std::vector<std::vector<double>> calibration;
    if (a.has("calibration")) calibration = read_vectors(a.opt("calibration"), src.layers[0].in_len, "calibration", false);
    const CompressOptions co = compression_options(a, src, seed);

    // Nothing is written until everything has succeeded.
    CompressResult res;
    try {
        res = compress_network(src.layers, src.input, calibration, co);
    } catch (const CompressError& e) {
        throw UsageError(fmt::format("{}: {}", src.name, e.what()));
    }
    const std::string out_dir = a.opt("output");
    write_outputs(res.image, out_dir, full_report(res, src.name, argc, argv), a.opt("json"));
    if (!a.vm.count("quiet")) {
        std::cout << "eie-compress: " << src.name << " -> " << out_dir << "\n\n" << format_report(res);
        std::cout.flush();
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const CapacityError& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 3;
    } catch (const UsageError& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 2;
    } catch (const NpyError& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 2;
    } catch (const ConfigError& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 2;
    } catch (const ImageError& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 2;
    } catch (const CompressError& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << "eie-compress: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "eie-compress: internal error: " << e.what() << "\n";
        return 4;
    }
}
