// eie_model: the EIE model from Python (docs/python.md). Compress layers
// from numpy arrays, simulate an image with eie-sim's parameter overrides,
// run batches of inputs with labels; statistics come back as the dicts of
// eie-sim's statistics JSON and outputs as numpy arrays. Every check is the
// C++ one (the same code as the tools); its message becomes the exception's.
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "eie/compress/compressor.hpp"
#include "eie/compress/encode.hpp"
#include "eie/hw/file_io.hpp"
#include "eie/hw/golden.hpp"
#include "eie/hw/image_io.hpp"
#include "eie/hw/npy.hpp"
#include "eie/compress/synthetic.hpp"
#include "eie/hw/arch_config.hpp"
#include "eie/hw/cli_values.hpp"
#include "eie/hw/param_table.hpp"
#include "eie/hw/model/batch_inference.hpp"
#include "eie/hw/model/energy_model.hpp"
#include "eie/hw/model/host_driver.hpp"
#include "eie/compress/image_arch.hpp"
#include "eie/hw/model/quiet_systemc.hpp"
#include "eie/hw/model/sim_report.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/version.hpp"

namespace py = pybind11;
using namespace eie;

// libsystemc refers to sc_main (its main() calls it); a Python process never
// runs that main, but the symbol must resolve when the module is loaded
// (Python loads extensions with RTLD_NOW), hence exported from here.
extern "C" __attribute__((visibility("default"))) int sc_main(int, char**) { return 1; }

namespace {

// --------------------------------------------------------------- conversions

// Any JSON record of the C++ writers (statistics, reports, the image's
// manifest records, the parameter table) as the Python object of the same
// shape: the field names live only in those writers.
template <class Json>
py::object to_python(const Json& j) {
    switch (j.type()) {
        case nlohmann::json::value_t::null: return py::none();
        case nlohmann::json::value_t::boolean: return py::bool_(j.template get<bool>());
        case nlohmann::json::value_t::number_integer: return py::int_(j.template get<int64_t>());
        case nlohmann::json::value_t::number_unsigned: return py::int_(j.template get<uint64_t>());
        case nlohmann::json::value_t::number_float: return py::float_(j.template get<double>());
        case nlohmann::json::value_t::string: return py::str(j.template get<std::string>());
        case nlohmann::json::value_t::binary:
        case nlohmann::json::value_t::discarded: break;
        case nlohmann::json::value_t::array: {
            py::list l;
            for (const auto& v : j) l.append(to_python(v));
            return std::move(l);
        }
        case nlohmann::json::value_t::object: {
            py::dict d;
            for (auto it = j.begin(); it != j.end(); ++it) d[py::str(it.key())] = to_python(it.value());
            return std::move(d);
        }
    }
    return py::none();
}

template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
    py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
    if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
    return a;
}

template <class T>
py::list to_numpy_list(const std::vector<std::vector<T>>& vs) {
    py::list l;
    for (const auto& v : vs) l.append(to_numpy(v));
    return l;
}

// A numpy array as the project's NpyArray (values as doubles, numpy's
// dtype string as the .npy descr), so the C++ readers' checks apply.
NpyArray to_npy_array(const py::array& in) {
    NpyArray a;
    for (py::ssize_t k = 0; k < in.ndim(); ++k) a.shape.push_back(static_cast<uint64_t>(in.shape(k)));
    a.dtype = py::str(in.dtype().attr("str")).cast<std::string>();
    auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(in);
    if (!d) throw CompressError(fmt::format("dtype '{}' cannot be read as numbers", a.dtype));
    a.data.assign(d.data(), d.data() + d.size());
    return a;
}

std::vector<double> to_doubles(const py::array& in, const char* what, bool allow_2d_single) {
    NpyArray a = to_npy_array(in);
    if (!(a.shape.size() == 1 || (allow_2d_single && a.shape.size() == 2 && a.shape[0] == 1)))
        throw CompressError(fmt::format("{}: shape must be (in_len,){} (got {} dimensions)", what,
                                        allow_2d_single ? " or (1, in_len)" : "", a.shape.size()));
    return a.data;
}

// The architecture: `base`, then a config file, then the assignments (a
// list of "name=value" or a dict), validated as eie-sim does.
ArchConfig arch_with(const ArchConfig& base, const py::object& set, const py::object& config, const std::string& what) {
    ArchOptions o;
    o.set_source = "set";
    if (!config.is_none()) o.config = config.cast<std::string>();
    if (py::isinstance<py::dict>(set)) {
        for (auto kv : set.cast<py::dict>()) {
            std::string value = py::str(kv.second).cast<std::string>();
            if (py::isinstance<py::bool_>(kv.second)) value = kv.second.cast<bool>() ? "1" : "0";
            o.sets.push_back(py::str(kv.first).cast<std::string>() + "=" + value);
        }
    } else if (py::isinstance<py::str>(set)) {
        o.sets.push_back(set.cast<std::string>());
    } else if (!set.is_none()) {
        o.sets = set.cast<std::vector<std::string>>();
    }
    return apply_arch_options(base, o, what);
}

// --------------------------------------------------------------- the image

struct PyImage {
    std::shared_ptr<Image> image;
    std::string source = "<in memory>";
    nlohmann::json report = nlohmann::json::object();  // the compression report, when made here
};

PyImage image_arg(const py::object& o) {
    if (py::isinstance<PyImage>(o)) return o.cast<PyImage>();
    const std::string dir = py::str(o).cast<std::string>();
    PyImage p;
    p.image = std::make_shared<Image>(read_image_dir(dir));
    p.source = dir;
    return p;
}

// --------------------------------------------------------------- compress

FloatLayer float_layer(const py::handle& item, std::size_t k, std::size_t count) {
    py::object weight, bias = py::none();
    std::string name = fmt::format("fc{}", k);
    Activation act = k + 1 == count ? Activation::identity : Activation::relu;
    if (py::isinstance<py::dict>(item)) {
        py::dict d = item.cast<py::dict>();
        for (auto kv : d) {
            const std::string key = py::str(kv.first).cast<std::string>();
            if (key != "weight" && key != "bias" && key != "name" && key != "activation")
                throw CompressError(fmt::format("layer {}: key '{}' is not known (allowed: weight, bias, name, activation)",
                                                k, key));
        }
        if (!d.contains("weight")) throw CompressError(fmt::format("layer {}: 'weight' (out_len, in_len) is missing", k));
        weight = d["weight"];
        if (d.contains("bias")) bias = d["bias"];
        if (d.contains("name")) name = d["name"].cast<std::string>();
        if (d.contains("activation")) act = parse_activation(d["activation"].cast<std::string>());
    } else if (py::isinstance<py::tuple>(item)) {
        py::tuple t = item.cast<py::tuple>();
        if (t.size() < 1 || t.size() > 2) throw CompressError(fmt::format("layer {}: a tuple must be (weight[, bias])", k));
        weight = t[0];
        if (t.size() == 2) bias = t[1];
    } else {
        weight = py::reinterpret_borrow<py::object>(item);
    }
    NpyArray w = to_npy_array(py::array::ensure(weight));
    if (w.shape.size() != 2)
        throw CompressError(fmt::format("layer {} ('{}'): weight must be 2-D (out_len, in_len), got {} dimensions", k,
                                        name, w.shape.size()));
    FloatLayer L;
    L.name = name;
    L.out_len = static_cast<uint32_t>(w.shape[0]);
    L.in_len = static_cast<uint32_t>(w.shape[1]);
    L.act = act;
    L.weights.assign(w.data.begin(), w.data.end());
    if (!bias.is_none()) {
        std::vector<double> b = to_doubles(py::array::ensure(bias), "bias", false);
        L.bias.assign(b.begin(), b.end());
    }
    return L;
}

std::vector<LayerOptions> per_layer_options(std::size_t n, const py::object& density, const py::object& threshold,
                                            const py::object& w_frac, const py::object& out_frac) {
    if (!density.is_none() && !threshold.is_none()) throw CompressError("give density or threshold, not both");
    auto values = [&](const py::object& o, const char* what) {
        std::vector<py::object> v;
        if (o.is_none()) return v;
        if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
            for (auto x : o) v.push_back(py::reinterpret_borrow<py::object>(x));
            if (v.size() != n)
                throw CompressError(fmt::format("{}: {} values for {} layers (give one, or one per layer)", what,
                                                v.size(), n));
        } else {
            v.assign(n, o);
        }
        return v;
    };
    std::vector<LayerOptions> out(n);
    auto d = values(density, "density"), t = values(threshold, "threshold");
    auto wf = values(w_frac, "w_frac"), of = values(out_frac, "out_frac");
    for (std::size_t l = 0; l < n; ++l) {
        if (!d.empty()) out[l].prune = PruneMode::density, out[l].prune_value = d[l].cast<double>();
        if (!t.empty()) out[l].prune = PruneMode::threshold, out[l].prune_value = t[l].cast<double>();
        if (!wf.empty() && !wf[l].is_none()) out[l].w_frac = wf[l].cast<int>();
        if (!of.empty() && !of[l].is_none()) out[l].out_frac = of[l].cast<int>();
    }
    return out;
}

PyImage compress(const py::object& layers, const py::object& input, const py::object& calibration,
                 const py::object& set, const py::object& config, const py::object& density,
                 const py::object& threshold, const std::string& init, uint64_t seed, uint32_t kmeans_iterations,
                 const py::object& in_frac, const py::object& w_frac, const py::object& out_frac, double act_density,
                 const py::object& output) {
    std::vector<FloatLayer> fl;
    if (py::isinstance<py::list>(layers) || (py::isinstance<py::tuple>(layers) && !py::isinstance<py::array>(layers))) {
        py::sequence seq = layers.cast<py::sequence>();
        // A (weight, bias) tuple of arrays is one layer, not two.
        const bool one_pair = py::isinstance<py::tuple>(layers) && seq.size() == 2 &&
                              py::array::ensure(seq[0]).ndim() == 2 && py::array::ensure(seq[1]).ndim() == 1;
        if (one_pair) {
            fl.push_back(float_layer(layers, 0, 1));
        } else {
            for (std::size_t k = 0; k < seq.size(); ++k) fl.push_back(float_layer(seq[k], k, seq.size()));
        }
    } else {
        fl.push_back(float_layer(layers, 0, 1));
    }
    if (fl.empty()) throw CompressError("no layers to compress (at least one is needed)");
    std::vector<double> x;
    if (!input.is_none()) {
        x = to_doubles(py::array::ensure(input), "input", true);
    } else {
        // eie-compress's default: a deterministic random post-ReLU input.
        check_number_value(act_density, "act_density", NumberRange(0, 1));
        SyntheticSpec spec;
        spec.in_len = fl[0].in_len;
        spec.out_len = 1;
        spec.act_density = act_density;
        spec.seed = seed;
        auto v = make_synthetic_input(spec);
        x.assign(v.begin(), v.end());
    }
    std::vector<std::vector<double>> cal;
    if (!calibration.is_none()) {
        NpyArray c = to_npy_array(py::array::ensure(calibration));
        if (c.shape.size() == 1) {
            cal.push_back(c.data);
        } else if (c.shape.size() == 2) {
            for (uint64_t r = 0; r < c.shape[0]; ++r)
                cal.emplace_back(c.data.begin() + r * c.shape[1], c.data.begin() + (r + 1) * c.shape[1]);
        } else {
            throw CompressError(fmt::format("calibration: shape must be (in_len,) or (k, in_len) (got {} dimensions)",
                                            c.shape.size()));
        }
    }
    check_uint_value(kmeans_iterations, "kmeans_iterations", 1, 1000000);
    CompressOptions co;
    co.arch = arch_with(ArchConfig{}, set, config, "architecture (config and set)");
    try {
        co.init = parse_kmeans_init(init);
    } catch (const std::invalid_argument& e) {
        throw CompressError(fmt::format("init: {}", e.what()));
    }
    co.kmeans_seed = seed;
    co.kmeans_max_iterations = kmeans_iterations;
    if (!in_frac.is_none()) co.in_frac = in_frac.cast<int>();
    co.layers = per_layer_options(fl.size(), density, threshold, w_frac, out_frac);
    CompressResult res = compress_network(fl, x, cal, co);
    PyImage p;
    p.report = res.report;
    p.report["source"] = "the Python module";
    p.report["arch"] = to_json(res.image.arch);
    p.image = std::make_shared<Image>(std::move(res.image));
    if (!output.is_none()) {
        const std::string dir = py::str(output).cast<std::string>();
        write_image_dir(*p.image, dir, p.report);
        p.source = dir;
    }
    return p;
}

// --------------------------------------------------------------- simulate

struct RunSetup {
    Image image;
    SimRunInfo info;
};

RunSetup setup_run(const py::object& image_or_dir, const py::object& set, const py::object& config, double stall,
                   uint64_t stall_seed, const py::object& energy_table) {
    check_number_value(stall, "stall", NumberRange(0, 1, false, true, "P"));
    const PyImage src = image_arg(image_or_dir);
    RunSetup r;
    r.info.image_path = src.source;
    r.info.command_line = "eie_model.simulate";
    r.info.image_arch = src.image->arch;
    r.info.stall_probability = stall;
    r.info.stall_seed = stall_seed;
    if (!energy_table.is_none()) {
        r.info.energy_table_source = py::str(energy_table).cast<std::string>();
        r.info.energy_table = EnergyTable::from_json_file(r.info.energy_table_source);
    }
    const ArchConfig arch =
        arch_with(src.image->arch, set, config, "architecture (image, config and set)");
    const std::vector<ParamDiff> layout = check_arch_change(src.image->arch, arch);
    r.image = image_for_arch(*src.image, arch, src.source, r.info.reencoded);
    if (r.info.reencoded)
        r.info.reencode_reason =
            fmt::format("layout parameter{} changed: {}", layout.size() == 1 ? "" : "s", describe_changes(layout));
    r.info.changes = diff(r.info.image_arch, r.image.arch);
    return r;
}

// The SystemC kernel is one per process: simulations from several Python
// threads (the GIL is released while simulating) take turns.
std::mutex& kernel_mutex() {
    static std::mutex m;
    return m;
}

struct PySimRun {
    SimResult result;
    py::dict stats;
    PyImage image;
    std::string verdict;
};

PySimRun simulate_py(const py::object& image_or_dir, const py::object& set, const py::object& config, double stall,
                     uint64_t stall_seed, const py::object& energy_table) {
    RunSetup s = setup_run(image_or_dir, set, config, stall, stall_seed, energy_table);
    SimOptions so;
    so.stall_probability = stall;
    so.stall_seed = stall_seed;
    PySimRun out;
    {
        py::gil_scoped_release release;
        std::lock_guard<std::mutex> one_kernel(kernel_mutex());
        out.result = simulate(s.image, so);
    }
    s.info.wall_seconds = out.result.wall_seconds;
    out.stats = to_python(stats_json(out.result, s.info)).cast<py::dict>();
    out.verdict = verdict_line(out.result, s.info);
    out.image.image = std::make_shared<Image>(std::move(s.image));
    out.image.source = s.info.image_path;
    return out;
}

// --------------------------------------------------------------- batch

struct PyBatch {
    BatchResult result;
    py::dict stats;
    py::array_t<float> outputs;
    py::array_t<int32_t> raw_outputs;
    py::object accuracy = py::none();
};

PyBatch batch_py(const py::object& image_or_dir, const py::object& inputs, const py::object& labels,
                 const py::object& set, const py::object& config, uint64_t first, const py::object& count,
                 uint64_t every, unsigned jobs, double stall, uint64_t stall_seed, const py::object& energy_table) {
    RunSetup s = setup_run(image_or_dir, set, config, stall, stall_seed, energy_table);
    s.info.command_line = "eie_model.run_batch";
    InputSelection sel;
    sel.first = first;
    sel.every = every;
    check_uint_value(every, "every", 1);
    if (!count.is_none()) sel.count = check_uint_value(count.cast<uint64_t>(), "count", 1);
    check_uint_value(jobs, "jobs", 1, 1024);
    InputSet in = py::isinstance<py::array>(inputs)
                      ? inputs_from_array(to_npy_array(inputs.cast<py::array>()), "inputs (numpy array)", s.image, sel)
                      : load_inputs(py::str(inputs).cast<std::string>(), s.image, sel);
    std::vector<int64_t> lab;
    std::string labels_source;
    if (!labels.is_none()) {
        const uint32_t classes = s.image.layers.back().out_len;
        if (py::isinstance<py::array>(labels)) {
            labels_source = "labels (numpy array)";
            lab = labels_from_array(to_npy_array(labels.cast<py::array>()), labels_source, in, classes);
        } else {
            labels_source = py::str(labels).cast<std::string>();
            lab = load_labels(labels_source, in, classes);
        }
    }
    BatchOptions bo;
    bo.stall_probability = stall;
    bo.stall_seed = stall_seed;
    bo.jobs = jobs;
    bo.energy_table = s.info.energy_table;
    PyBatch out;
    {
        py::gil_scoped_release release;
        std::lock_guard<std::mutex> one_kernel(kernel_mutex());
        out.result = run_batch(s.image, in, bo);
    }
    std::optional<AccuracyReport> acc;
    if (!lab.empty()) acc = accuracy(out.result, lab);
    // The statistics exactly as eie-sim --inputs --stats writes them.
    SimResult sim;
    sim.arch = out.result.arch;
    sim.stats = out.result.stats;
    sim.bit_exact = out.result.bit_exact;
    sim.wall_seconds = out.result.times.total;
    sim.output_frac = s.image.layers.back().fmt.out_frac;
    if (out.result.first_mismatch) {
        sim.first_mismatch = out.result.first_mismatch->where;
        s.info.mismatch_reference = fmt::format("the golden model; input {} of the selection, row {} of {}",
                                                out.result.first_mismatch->input,
                                                out.result.first_mismatch->file_row, in.source);
    }
    s.info.batch_inputs = out.result.records.size();
    s.info.wall_seconds = out.result.times.total;
    nlohmann::json j = stats_json(sim, s.info);
    j["batch"] = batch_json(out.result, in, s.image, acc, labels_source);
    out.stats = to_python(j).cast<py::dict>();
    const auto n = static_cast<py::ssize_t>(out.result.records.size()), m = static_cast<py::ssize_t>(out.result.out_len);
    const std::vector<float> deq = dequantised_outputs(out.result, s.image);
    out.outputs = py::array_t<float>({n, m});
    out.raw_outputs = py::array_t<int32_t>({n, m});
    if (n * m > 0) {
        std::memcpy(out.outputs.mutable_data(), deq.data(), deq.size() * sizeof(float));
        std::memcpy(out.raw_outputs.mutable_data(), out.result.raw_outputs.data(),
                    out.result.raw_outputs.size() * sizeof(int32_t));
    }
    if (j["batch"].contains("accuracy")) out.accuracy = to_python(j["batch"]["accuracy"]);
    return out;
}

}  // namespace

PYBIND11_MODULE(eie_model, m) {
    m.doc() = "The EIE model (Efficient Inference Engine, ISCA 2016) from Python: Deep Compression, the cycle-accurate "
              "SystemC model and batch inference (docs/python.md)";
    m.attr("__version__") = kEieVersion;

    static py::exception<std::runtime_error> input_error(m, "InputError", PyExc_ValueError);
    static py::exception<std::runtime_error> capacity_error(m, "CapacityError", input_error.ptr());
    static py::exception<std::runtime_error> simulation_error(m, "SimulationError", PyExc_RuntimeError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const CapacityError& e) {
            capacity_error(e.what());
        } catch (const ConfigError& e) {
            input_error(e.what());
        } catch (const UsageError& e) {
            input_error(e.what());
        } catch (const CompressError& e) {
            input_error(e.what());
        } catch (const ImageError& e) {
            input_error(e.what());
        } catch (const BatchInputError& e) {
            input_error(e.what());
        } catch (const EnergyError& e) {
            input_error(e.what());
        } catch (const NpyError& e) {
            input_error(e.what());
        } catch (const FileError& e) {
            input_error(e.what());
        } catch (const HostError& e) {
            simulation_error(e.what());
        }
    });

    m.def("param_specs", [] { return to_python(param_table_json().at("params")); },
          "Every architectural parameter, as eie-sim --list-params --json lists it: name, type, default, min, max, "
          "unit, doc, class (timing, layout, quantisation).");
    m.def("default_arch", [] { return to_python(to_json(ArchConfig{})); }, "The default architecture, as a dict.");

    py::class_<PyImage>(m, "Image", "A compressed network: per-PE memories, layer descriptors and the input")
        .def_property_readonly("arch", [](const PyImage& p) { return to_python(to_json(p.image->arch)); })
        .def_property_readonly("num_pes", [](const PyImage& p) { return p.image->arch.num_pes; })
        .def_property_readonly("layers", [](const PyImage& p) {
            py::list l;
            for (const LayerDesc& d : p.image->layers) l.append(to_python(layer_json(d)));
            return l;
        }, "per layer its record of manifest.json (docs/image-format.md)")
        .def_property_readonly("input", [](const PyImage& p) { return to_numpy(p.image->input); },
                               "the input vector, fixed point (int32, the first layer's in_frac)")
        .def_property_readonly("expected", [](const PyImage& p) { return to_numpy_list(p.image->expected); },
                               "the golden fixed-point output of every layer")
        .def_property_readonly("report", [](const PyImage& p) { return to_python(p.report); },
                               "the compression report (as eie-compress --json), when compressed here")
        .def_property_readonly("source", [](const PyImage& p) { return p.source; })
        .def("golden", [](const PyImage& p, const py::object& input) {
                 std::vector<int32_t> x = p.image->input;
                 if (!input.is_none()) {
                     auto a = py::array_t<int32_t, py::array::c_style | py::array::forcecast>::ensure(input);
                     if (!a || a.ndim() != 1) throw ConfigError("golden: input must be a 1-D integer array (fixed point)");
                     x.assign(a.data(), a.data() + a.size());
                 }
                 if (p.image->layers.empty() || x.size() != p.image->layers[0].in_len)
                     throw ConfigError(fmt::format("golden: input has {} values, the first layer takes {}", x.size(),
                                                   p.image->layers.empty() ? 0u : p.image->layers[0].in_len));
                 return to_numpy_list(golden_run(*p.image, x));
             }, py::arg("input") = py::none(),
             "Every layer's output from the golden fixed-point model (default input: the image's)")
        .def("write", [](const PyImage& p, const std::string& dir) { write_image_dir(*p.image, dir, p.report); },
             py::arg("dir"), "Writes the image directory (atomically; replaces an existing image directory only)")
        .def("__repr__", [](const PyImage& p) {
            return fmt::format("<eie_model.Image {} layer(s), {} PEs, from {}>", p.image->layers.size(),
                               p.image->arch.num_pes, p.source);
        });

    m.def("read_image", [](const std::string& dir) { return image_arg(py::str(dir)); }, py::arg("dir"),
          "Reads an image directory made by eie-compress (validated as eie-sim does).");

    m.def("layout_changes", [](const py::object& image_or_dir, const py::object& set, const py::object& config) {
              const PyImage src = image_arg(image_or_dir);
              const ArchConfig arch = arch_with(src.image->arch, set, config, "architecture (image, config and set)");
              py::list l;
              for (const ParamDiff& d : check_arch_change(src.image->arch, arch))
                  l.append(py::make_tuple(d.name, d.from, d.to));
              return l;
          }, py::arg("image"), py::kw_only(), py::arg("set") = py::none(), py::arg("config") = py::none(),
          "The layout parameters that `set`/`config` change from the image's architecture, as (name, from, to) "
          "text: a non-empty list means simulate() re-encodes the image (eie-sim says 're-encoding the image for "
          "name=to, ...'). Quantisation changes raise InputError, as in simulate().");

    m.def("compress", &compress, py::arg("layers"), py::kw_only(), py::arg("input") = py::none(),
          py::arg("calibration") = py::none(), py::arg("set") = py::none(), py::arg("config") = py::none(),
          py::arg("density") = py::none(), py::arg("threshold") = py::none(), py::arg("init") = "linear",
          py::arg("seed") = 1, py::arg("kmeans_iterations") = 1000, py::arg("in_frac") = py::none(),
          py::arg("w_frac") = py::none(), py::arg("out_frac") = py::none(), py::arg("act_density") = 0.35,
          py::arg("output") = py::none(),
          "Deep Compression of fully-connected layers (as eie-compress): `layers` is a weight array (out_len, "
          "in_len), a (weight, bias) tuple, or a list of those or of dicts {weight, bias, name, activation}. "
          "Returns an Image; with output=DIR it is also written there.");

    py::class_<PySimRun>(m, "SimRun", "One image through the cycle model, checked against the golden model")
        .def_readonly("stats", &PySimRun::stats, "the statistics, as eie-sim --stats writes them (docs/statistics.md)")
        .def_property_readonly("bit_exact", [](const PySimRun& r) { return r.result.bit_exact; })
        .def_readonly("verdict", &PySimRun::verdict,
                      "BIT-EXACT, or the first mismatch as eie-sim prints it ('MISMATCH at layer ...')")
        .def_property_readonly("outputs", [](const PySimRun& r) { return to_numpy_list(r.result.outputs); },
                               "every layer's output from the model (int32, fixed point)")
        .def_property_readonly("golden", [](const PySimRun& r) { return to_numpy_list(r.result.golden); })
        .def_property_readonly("read_back", [](const PySimRun& r) { return to_numpy(r.result.read_back); },
                               "the last layer's output as the host read it over TLM")
        .def_property_readonly("output", [](const PySimRun& r) {
            const std::vector<int32_t>& o = r.result.read_back;
            std::vector<float> f(o.size());
            for (std::size_t i = 0; i < o.size(); ++i) f[i] = float(std::ldexp(double(o[i]), -r.result.output_frac));
            return to_numpy(f);
        }, "the last layer's output, dequantised (float32)")
        .def_property_readonly("cycles", [](const PySimRun& r) { return r.result.stats.compute_cycles(); })
        .def_property_readonly("first_mismatch",
                               [](const PySimRun& r) { return py::object(r.stats["first_mismatch"]); },
                               "None, or the statistics' first_mismatch (layer, layer_name, row, expected, got, "
                               "reference)")
        .def_readonly("image", &PySimRun::image, "the image as run (re-encoded when a layout parameter changed)");

    m.def("simulate", &simulate_py, py::arg("image"), py::kw_only(), py::arg("set") = py::none(),
          py::arg("config") = py::none(), py::arg("stall") = 0.0, py::arg("stall_seed") = 1,
          py::arg("energy_table") = py::none(),
          "Runs an Image (or an image directory) through the cycle model, as eie-sim: `set` takes eie-sim's --set "
          "assignments (a list of 'name=value' or a dict), `config` an architecture JSON file.");

    py::class_<PyBatch>(m, "BatchRun", "Many inputs through one loaded image (eie-sim --inputs)")
        .def_readonly("stats", &PyBatch::stats, "as eie-sim --inputs --stats writes them, with the 'batch' object")
        .def_readonly("outputs", &PyBatch::outputs, "the last layer's outputs, dequantised (inputs, out_len) float32")
        .def_readonly("raw_outputs", &PyBatch::raw_outputs, "the same in raw fixed point, int32")
        .def_readonly("accuracy", &PyBatch::accuracy, "top-1/top-5 and the confusion matrix, with labels; else None")
        .def_property_readonly("bit_exact", [](const PyBatch& b) { return b.result.bit_exact; })
        .def_property_readonly("predicted", [](const PyBatch& b) {
            std::vector<int32_t> p;
            for (const auto& r : b.result.records) p.push_back(r.predicted);
            return to_numpy(p);
        })
        .def_property_readonly("cycles", [](const PyBatch& b) {
            std::vector<uint64_t> c;
            for (const auto& r : b.result.records) c.push_back(r.cycles);
            return to_numpy(c);
        }, "computing cycles of every inference")
        .def_property_readonly("records", [](const PyBatch& b) {
            py::list l;
            for (const auto& r : b.result.records) l.append(to_python(to_json(r)));
            return l;
        }, "per input: the figures of eie-sim --per-input");

    m.def("run_batch", &batch_py, py::arg("image"), py::arg("inputs"), py::kw_only(), py::arg("labels") = py::none(),
          py::arg("set") = py::none(), py::arg("config") = py::none(), py::arg("first") = 0,
          py::arg("count") = py::none(), py::arg("every") = 1, py::arg("jobs") = 1, py::arg("stall") = 0.0,
          py::arg("stall_seed") = 1, py::arg("energy_table") = py::none(),
          "Runs every input (a numpy array (N, in_len) or (in_len,), float or raw fixed-point integers, or a file "
          "as eie-sim --inputs takes) through the loaded image; labels (an integer array or file) give accuracy.");
}
