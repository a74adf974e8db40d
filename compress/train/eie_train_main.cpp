// eie-train: Deep Compression with retraining (docs/training.md). Exit codes:
// 0 ok, 2 bad input or usage, 3 a layer does not fit the memories, 4 the
// training diverged (the last good checkpoint is kept), 1 internal error.
// On any error no image directory and no JSON report are written.

#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "eie/hw/model/quiet_systemc.hpp"
#include "eie/hw/version.hpp"
#include "eie/hw/cli_values.hpp"
#include "eie/hw/file_io.hpp"
#include "eie/compress/idx.hpp"
#include "eie/hw/image_io.hpp"
#include "eie/hw/npy.hpp"
#include "eie/compress/import/model_file.hpp"
#include "eie/compress/train/pipeline.hpp"
#include "eie/hw/model/batch_inference.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace eie;

namespace {

// The fully-connected layers of a trained MLP (model_file.hpp), with names
// that can be file names (the checkpoints store NAME.weight.npy). eie-train
// trains ReLU between layers and identity on the last, so a model with
// other activations is refused rather than silently changed.
std::vector<FloatLayer> import_layers(const std::string& path, const std::string& spec) {
    std::vector<FloatLayer> out = read_model_layers(path, spec);
    for (std::size_t l = 0; l < out.size(); ++l) {
        const Activation want = l + 1 < out.size() ? Activation::relu : Activation::identity;
        if (out[l].act != want)
            throw UsageError(fmt::format("--import {}: layer '{}' is followed by {} but eie-train trains ReLU between "
                                         "layers and identity on the last (use eie-compress for this network)",
                                         path, out[l].name, out[l].act == Activation::relu ? "a ReLU" : "no ReLU"));
        for (char& c : out[l].name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') c = '_';
    }
    return out;
}

// The options --help shows.
po::options_description describe_options() {
    po::options_description net("Network");
    net.add_options()
        ("sizes", po::value<std::string>()->default_value("784,300,100,10"),
         "layer sizes of the MLP, input first (ReLU between layers, identity on the last)")
        ("import", po::value<std::string>(), "start from the trained layers of NET.npz or NET.safetensors (with --layers), NET.pt (TorchScript) or NET.onnx; "
                                             "the dense step is skipped unless --epochs is given")
        ("layers", po::value<std::string>(), "with --import NET.npz / .safetensors: w1[:b1],w2[:b2],... array names in order (bias optional)");
    po::options_description data("Data (IDX, plain or .gz, or .npy; default: Debian's Fashion-MNIST)");
    const DataOptions fm = fashion_mnist_defaults();
    data.add_options()
        ("train-images", po::value<std::string>()->default_value(fm.train_images), "training images")
        ("train-labels", po::value<std::string>()->default_value(fm.train_labels), "training labels")
        ("test-images", po::value<std::string>()->default_value(fm.test_images), "test images (reporting only)")
        ("test-labels", po::value<std::string>()->default_value(fm.test_labels), "test labels")
        ("train-limit", po::value<std::string>()->default_value("0"), "use the first N training examples (0: all)")
        ("test-limit", po::value<std::string>()->default_value("0"), "use the first N test examples (0: all)")
        ("val-count", po::value<std::string>()->default_value("0"),
         "validation examples taken from the training set (0: one twelfth)");
    po::options_description sched("Schedule");
    sched.add_options()
        ("density", po::value<std::string>(),
         "target weight density per layer: D or D1,D2,... in (0, 1] (default: 0.08,0.09,0.26, Deep Compression's "
         "LeNet-300-100, for three layers; 0.1 otherwise)")
        ("prune-steps", po::value<std::string>()->default_value("3"), "iterative pruning steps (density d^(k/steps))")
        ("epochs", po::value<std::string>()->default_value("10"), "dense training epochs")
        ("retrain-epochs", po::value<std::string>()->default_value("3"), "retraining epochs after each pruning step")
        ("share-epochs", po::value<std::string>()->default_value("3"), "trained-quantisation epochs")
        ("optimizer", po::value<std::string>()->default_value("adam"), "adam | sgd (momentum 0.9)")
        ("lr", po::value<std::string>()->default_value("0.001"), "learning rate of dense training")
        ("retrain-lr", po::value<std::string>()->default_value("0.0005"), "learning rate of masked retraining")
        ("share-lr", po::value<std::string>()->default_value("0.0001"), "learning rate of the shared weights")
        ("batch", po::value<std::string>()->default_value("128"), "mini-batch size")
        ("seed", po::value<std::string>()->default_value("1"), "seed of initialisation, split and shuffling")
        ("threads", po::value<std::string>(), "libtorch threads (default: libtorch's choice)")
        ("calibration", po::value<std::string>()->default_value("256"),
         "training examples used to choose the fixed-point formats");
    po::options_description comp("Compression and architecture (as eie-compress)");
    comp.add_options()
        ("init", po::value<std::string>()->default_value("linear"), "k-means initialisation: linear | density | random")
        ("config", po::value<std::string>(), "architecture JSON")
        ("set", po::value<std::vector<std::string>>()->composing(), "name=value, repeatable")
        ("pes", po::value<std::string>(), "shortcut for --set num_pes=N")
        ("weight-bits", po::value<std::string>(), "shortcut for --set weight_bits=B")
        ("index-bits", po::value<std::string>(), "shortcut for --set index_bits=B")
        ("no-easy", "skip the easy version (prune and share without retraining)")
        ("no-cycle-model", "skip the accuracy through the cycle model (the golden model's is always measured)")
        ("jobs", po::value<std::string>()->default_value("2"), "worker processes of the cycle model");
    po::options_description outo("Output");
    outo.add_options()
        ("output,o", po::value<std::string>(), "image directory to write (required unless --stop-after)")
        ("easy-output", po::value<std::string>(), "also write the easy version's image here")
        ("json", po::value<std::string>(), "write the report as JSON to FILE")
        ("checkpoints", po::value<std::string>(), "checkpoint directory (one subdirectory per step)")
        ("resume", "continue from the checkpoints in --checkpoints")
        ("stop-after", po::value<std::string>(), "stop after this step: dense, prune-K or share")
        ("quiet,q", "no progress and no report on the terminal")
        ("help,h", "show this help")
        ("version", "print the version and exit");
    po::options_description visible("eie-train: Deep Compression with retraining into an EIE image directory");
    visible.add(net).add(data).add(sched).add(comp).add(outo);
    return visible;
}

// The command line, parsed: what was given (not defaulted) and its text.
struct Args {
    po::variables_map vm;
    std::string opt(const char* name) const { return vm.count(name) ? vm[name].as<std::string>() : std::string(); }
    bool has(const char* name) const { return vm.count(name) > 0 && !vm[name].defaulted(); }
    bool flag(const char* name) const { return vm.count(name) > 0; }
};

// Empty when the command is answered already (--help, --version).
std::optional<Args> parse_command_line(int argc, char** argv) {
    const po::options_description visible = describe_options();
    Args a;
    try {
        po::store(po::parse_command_line(argc, argv, visible), a.vm);
        po::notify(a.vm);
    } catch (const po::error& e) {
        throw UsageError(fmt::format("{} (see --help)", e.what()));
    }
    if (a.flag("help")) {
        std::cout << visible
                  << "\nExit codes: 0 ok, 2 bad input or usage, 3 a layer does not fit the memories, 4 training "
                     "diverged.\n";
        return std::nullopt;
    }
    if (a.flag("version")) {
        std::cout << "eie-train " << kEieVersion << "\n";
        return std::nullopt;
    }
    return a;
}

// The outputs first, so that nothing runs for minutes to fail at the end.
void check_outputs(const Args& a) {
    if (!a.has("output") && !a.has("stop-after")) throw UsageError("-o DIR (the image directory to write) is required");
    if (a.has("output")) check_image_dir_target(a.opt("output"), "-o");
    if (a.has("easy-output")) check_image_dir_target(a.opt("easy-output"), "--easy-output");
    if (a.has("json")) check_output_file(a.opt("json"), "--json");
    if (a.has("resume") && !a.has("checkpoints")) throw UsageError("--resume needs --checkpoints DIR");
    if (a.has("stop-after") && !a.has("checkpoints"))
        throw UsageError("--stop-after needs --checkpoints DIR (to resume from later)");
    if (a.has("checkpoints")) {
        const std::string c = a.opt("checkpoints");
        std::error_code ec;
        if (fs::exists(c, ec) && !fs::is_directory(c, ec))
            throw UsageError(fmt::format("--checkpoints '{}': exists and is not a directory", c));
        if (!fs::exists(c, ec)) check_output_parent(c, "--checkpoints");
    }
}

// The network to train: layer sizes, and the imported layers with --import.
struct Network {
    std::vector<uint32_t> sizes;      // input first
    std::vector<FloatLayer> imported;  // empty: a fresh MLP of `sizes`
    std::string name;                  // in messages and the report
};

Network network(const Args& a) {
    Network n;
    if (a.has("import")) {
        if (a.has("sizes")) throw UsageError("--sizes goes without --import (an imported network has its own sizes)");
        n.imported = import_layers(a.opt("import"), a.has("layers") ? a.opt("layers") : "");
        n.sizes.push_back(n.imported.front().in_len);
        for (const auto& L : n.imported) n.sizes.push_back(L.out_len);
        n.name = a.opt("import");
    } else {
        if (a.has("layers")) throw UsageError("--layers goes with --import");
        for (const auto& t : split(a.opt("sizes"), ','))
            n.sizes.push_back(uint32_t(parse_int_option(t, "--sizes", 1, 1 << 24)));
        n.name = a.opt("sizes");
    }
    if (n.sizes.size() < 2)
        throw UsageError(fmt::format("--sizes: '{}' needs at least two sizes (inputs, outputs)", a.opt("sizes")));
    return n;
}

ArchConfig architecture(const Args& a) {
    ArchOptions o;
    if (a.has("config")) o.config = a.opt("config");
    for (const auto& [option, param] : {std::pair{"pes", "num_pes"}, {"weight-bits", "weight_bits"},
                                        {"index-bits", "index_bits"}})
        if (a.has(option)) o.shortcuts.emplace_back(fmt::format("--{}", option), param + ("=" + a.opt(option)));
    if (a.vm.count("set")) o.sets = a.vm["set"].as<std::vector<std::string>>();
    return apply_arch_options(ArchConfig{}, o, "architecture (--config, --set and shortcuts)");
}

// The schedule, the compression and the architecture (the network and its
// start are set once the data are loaded).
PipelineOptions pipeline_options(const Args& a, const Network& net) {
    const std::size_t nl = net.sizes.size() - 1;
    PipelineOptions po;
    for (const auto& t : per_layer_values(a.has("density") ? a.opt("density") : nl == 3 ? "0.08,0.09,0.26" : "0.1", nl,
                                          "--density"))
        po.densities.push_back(parse_number_option(t, "--density", NumberRange(0, 1, true, false, "D")));
    po.prune_steps = uint32_t(parse_int_option(a.opt("prune-steps"), "--prune-steps", 1, 100));
    po.dense.epochs = uint32_t(parse_int_option(a.opt("epochs"), "--epochs", 0, 10000));
    po.retrain.epochs = uint32_t(parse_int_option(a.opt("retrain-epochs"), "--retrain-epochs", 0, 10000));
    po.share.epochs = uint32_t(parse_int_option(a.opt("share-epochs"), "--share-epochs", 0, 10000));
    Optimizer optimizer;
    try {
        optimizer = parse_optimizer(a.opt("optimizer"));
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("--optimizer: {}", e.what()));
    }
    const uint32_t batch = uint32_t(parse_int_option(a.opt("batch"), "--batch", 1, 1 << 20));
    for (auto [s, name] : {std::pair{&po.dense, "lr"}, {&po.retrain, "retrain-lr"}, {&po.share, "share-lr"}}) {
        s->opt.optimizer = optimizer;
        s->opt.batch = batch;
        s->opt.lr = parse_number_option(a.opt(name), fmt::format("--{}", name), NumberRange(0, 1e12, true));
    }
    po.seed = parse_uint_option(a.opt("seed"), "--seed", 0, uint64_t(1) << 53);
    po.calibration_count = uint32_t(parse_int_option(a.opt("calibration"), "--calibration", 1, 1 << 24));
    po.checkpoint_dir = a.opt("checkpoints");
    po.resume = a.flag("resume");
    po.stop_after = a.opt("stop-after");
    po.easy_version = !a.flag("no-easy");
    try {
        po.compress.init = parse_kmeans_init(a.opt("init"));
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("--init: {}", e.what()));
    }
    po.compress.kmeans_seed = po.seed;
    po.compress.arch = architecture(a);
    po.skip_dense = !net.imported.empty() && !a.has("epochs");
    return po;
}

DataOptions data_options(const Args& a, uint64_t seed) {
    DataOptions d;
    d.train_images = a.opt("train-images");
    d.train_labels = a.opt("train-labels");
    d.test_images = a.opt("test-images");
    d.test_labels = a.opt("test-labels");
    d.train_limit = uint64_t(parse_int_option(a.opt("train-limit"), "--train-limit", 0, 1ll << 40));
    d.test_limit = uint64_t(parse_int_option(a.opt("test-limit"), "--test-limit", 0, 1ll << 40));
    d.val_count = uint64_t(parse_int_option(a.opt("val-count"), "--val-count", 0, 1ll << 40));
    d.seed = seed;
    return d;
}

using Progress = std::function<void(const std::string&)>;

// Every test image through the cycle model (eie-sim's batch inference),
// checked bit for bit; its accuracy, cycles and energy go into the result.
void check_with_cycle_model(PipelineResult& res, const DataOptions& dopt, unsigned jobs, const Progress& progress) {
    const Image& image = res.compressed->image;
    InputSelection sel;
    if (dopt.test_limit) sel.count = dopt.test_limit;
    InputSet inputs = load_inputs(dopt.test_images, image, sel);
    std::vector<int64_t> labels = load_labels(dopt.test_labels, inputs, image.layers.back().out_len);
    BatchOptions bo;
    bo.jobs = jobs;
    progress(fmt::format("cycle model: {} test images ({} jobs)", inputs.size(), bo.jobs));
    BatchResult br = run_batch(image, inputs, bo);
    AccuracyReport acc = accuracy(br, labels);
    PipelineResult::CycleModel c;
    c.inputs = acc.count;
    c.top1 = acc.top1();
    c.bit_exact = br.bit_exact;
    for (const auto& x : br.records) c.mean_cycles += double(x.cycles), c.mean_energy_pj += x.energy_pj;
    if (!br.records.empty()) c.mean_cycles /= double(br.records.size()), c.mean_energy_pj /= double(br.records.size());
    set_cycle_model(res, c);
    if (!br.bit_exact)
        throw std::runtime_error(fmt::format("the cycle model is not bit-exact with the golden model on test input "
                                             "{} (layer {}, row {})",
                                             br.first_mismatch->file_row, br.first_mismatch->where.layer,
                                             br.first_mismatch->where.row));
}

// The images (unless stopped early) and the JSON report.
void write_outputs(const Args& a, const PipelineResult& res, const nlohmann::json& report) {
    if (!res.stopped_early) {
        write_image_dir(res.compressed->image, a.opt("output"), report);
        if (res.easy && a.has("easy-output"))
            write_image_dir(res.easy->image, a.opt("easy-output"), report["easy_version"]);
    }
    if (a.has("json")) write_output_file(a.opt("json"), report.dump(2) + "\n", "--json");
}

void print_result(const Args& a, const PipelineResult& res, const PipelineOptions& po, const Network& net) {
    if (res.stopped_early)
        std::cout << fmt::format("eie-train: stopped after {} (resume with --resume --checkpoints {})\n\n",
                                 po.stop_after, po.checkpoint_dir);
    else
        std::cout << "eie-train: " << net.name << " -> " << a.opt("output") << "\n\n";
    std::cout << format_pipeline_report(res);
}

int run(int argc, char** argv) {
    const std::optional<Args> parsed = parse_command_line(argc, argv);
    if (!parsed) return 0;
    const Args& a = *parsed;
    const bool quiet = a.flag("quiet");
    check_outputs(a);
    const Network net = network(a);
    PipelineOptions po = pipeline_options(a, net);
    if (a.has("threads")) set_torch_threads(uint32_t(parse_int_option(a.opt("threads"), "--threads", 1, 256)));
    const DataOptions dopt = data_options(a, po.seed);
    const unsigned jobs = unsigned(parse_int_option(a.opt("jobs"), "--jobs", 1, 256));

    TrainData td = load_data(dopt);
    if (net.sizes.front() != td.train.dim)
        throw UsageError(fmt::format("--sizes: layer sizes do not fit the data: the first size is {} but the images of "
                                     "{} have {} values each",
                                     net.sizes.front(), dopt.train_images, td.train.dim));
    po.start = net.imported.empty() ? init_mlp(net.sizes, po.seed) : net.imported;

    const Progress progress = [&](const std::string& line) {
        if (!quiet) std::cerr << "eie-train: " << line << std::endl;
    };
    progress(fmt::format("{} on {}; BLAS: {}", net.name, td.source, blas_in_use()));
    PipelineResult res = run_pipeline(td, po, progress);
    if (!res.stopped_early && !a.flag("no-cycle-model")) check_with_cycle_model(res, dopt, jobs, progress);

    nlohmann::json report = res.report;
    report["command_line"] = command_line_text(argc, argv);
    report["sizes"] = net.sizes;
    report["blas"] = blas_in_use();
    write_outputs(a, res, report);
    if (!quiet) print_result(a, res, po, net);
    return 0;
}

}  // namespace

// SystemC's main() calls it (declared extern "C" by SystemC).
extern "C" int sc_main(int argc, char** argv);
int sc_main(int argc, char** argv) {
    auto fail = [](const std::exception& e, int code) {
        std::cerr << "eie-train: " << e.what() << "\n";
        return code;
    };
    try {
        return run(argc, argv);
    } catch (const CapacityError& e) {
        return fail(e, 3);
    } catch (const DivergedError& e) {
        return fail(e, 4);
    } catch (const TrainError& e) {
        return fail(e, 2);
    } catch (const UsageError& e) {
        return fail(e, 2);
    } catch (const IdxError& e) {
        return fail(e, 2);
    } catch (const NpyError& e) {
        return fail(e, 2);
    } catch (const ConfigError& e) {
        return fail(e, 2);
    } catch (const ImageError& e) {
        return fail(e, 2);
    } catch (const CompressError& e) {
        return fail(e, 2);
    } catch (const BatchInputError& e) {
        return fail(e, 2);
    } catch (const std::invalid_argument& e) {
        return fail(e, 2);
    } catch (const std::exception& e) {
        std::cerr << "eie-train: internal error: " << e.what() << "\n";
        return 1;
    }
}
