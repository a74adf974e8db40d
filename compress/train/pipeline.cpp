#include "eie/compress/train/pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "eie/hw/file_io.hpp"
#include "eie/hw/fixed_point.hpp"
#include "eie/hw/golden.hpp"
#include "eie/compress/idx.hpp"
#include "eie/compress/kmeans.hpp"
#include "eie/hw/npy.hpp"
#include "eie/compress/prune.hpp"
#include "eie/hw/rng.hpp"

namespace fs = std::filesystem;

namespace eie {

// ---------------------------------------------------------------- data

DataOptions fashion_mnist_defaults() {
    const std::string d = "/usr/share/datasets/fashion-mnist/";
    DataOptions o;
    o.train_images = d + "train-images-idx3-ubyte.gz";
    o.train_labels = d + "train-labels-idx1-ubyte.gz";
    o.test_images = d + "t10k-images-idx3-ubyte.gz";
    o.test_labels = d + "t10k-labels-idx1-ubyte.gz";
    return o;
}

namespace {

NpyArray read_images(const std::string& path) {
    if (looks_like_idx(path)) return read_idx_images(path);
    NpyArray a = read_npy(path);
    if (a.shape.size() < 2)
        throw TrainError(fmt::format("{}: images of shape ({}) must have at least 2 dimensions (N, features...)", path,
                                     fmt::join(a.shape, ", ")));
    uint64_t dim = 1;
    for (std::size_t k = 1; k < a.shape.size(); ++k) dim *= a.shape[k];
    a.shape = {a.shape[0], dim};
    for (std::size_t k = 0; k < a.data.size(); ++k)
        if (!std::isfinite(a.data[k]))
            throw TrainError(fmt::format("{}: image {} element {} is {} (values must be finite)", path, k / dim, k % dim,
                                         a.data[k]));
    return a;
}

std::vector<int64_t> read_labels(const std::string& path) {
    if (looks_like_idx(path)) return read_idx_labels(path);
    NpyArray a = read_npy(path);
    if (a.shape.size() != 1)
        throw TrainError(fmt::format("{}: labels of shape ({}) must be 1-D (N,)", path, fmt::join(a.shape, ", ")));
    std::vector<int64_t> out;
    for (std::size_t k = 0; k < a.data.size(); ++k) {
        double v = a.data[k];
        if (!(v == std::floor(v)) || v < 0 || v > 1e9)
            throw TrainError(fmt::format("{}: label {} is {} (labels are integers >= 0)", path, k, v));
        out.push_back(int64_t(v));
    }
    return out;
}

Dataset make_dataset(const NpyArray& images, const std::vector<int64_t>& labels, const std::vector<uint64_t>& rows) {
    Dataset d;
    d.dim = static_cast<uint32_t>(images.shape[1]);
    d.x.reserve(rows.size() * d.dim);
    for (uint64_t r : rows) {
        for (uint32_t k = 0; k < d.dim; ++k) d.x.push_back(float(images.data[r * d.dim + k]));
        d.y.push_back(labels[r]);
    }
    return d;
}

void check_pair(const NpyArray& images, const std::vector<int64_t>& labels, const std::string& ipath,
                const std::string& lpath) {
    if (images.shape[0] != labels.size())
        throw TrainError(fmt::format("{}: {} labels for the {} images of {} (the counts must be equal)", lpath,
                                     labels.size(), images.shape[0], ipath));
    if (images.shape[0] == 0) throw TrainError(fmt::format("{}: no images", ipath));
}

}  // namespace

TrainData load_data(const DataOptions& opt) {
    TrainData td;
    NpyArray tri = read_images(opt.train_images);
    auto trl = read_labels(opt.train_labels);
    check_pair(tri, trl, opt.train_images, opt.train_labels);
    NpyArray tei = read_images(opt.test_images);
    auto tel = read_labels(opt.test_labels);
    check_pair(tei, tel, opt.test_images, opt.test_labels);
    if (tei.shape[1] != tri.shape[1])
        throw TrainError(fmt::format("{}: test images have {} values each but the training images of {} have {}",
                                     opt.test_images, tei.shape[1], opt.train_images, tri.shape[1]));
    uint64_t ntrain = tri.shape[0];
    if (opt.train_limit && opt.train_limit < ntrain) ntrain = opt.train_limit;
    uint64_t ntest = tei.shape[0];
    if (opt.test_limit && opt.test_limit < ntest) ntest = opt.test_limit;
    const uint64_t val_count = opt.val_count ? opt.val_count : std::max<uint64_t>(1, ntrain / 12);
    if (val_count >= ntrain)
        throw TrainError(fmt::format("validation split of {} examples leaves none of the {} training examples for "
                                     "training (allowed: 0 .. {})",
                                     val_count, ntrain, ntrain - 1));
    // A seeded random validation split of the (limited) training set.
    std::vector<uint64_t> order(ntrain);
    std::iota(order.begin(), order.end(), 0);
    Rng rng(opt.seed ^ 0x5eedda7aull);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    std::vector<uint64_t> tr(order.begin(), order.end() - val_count), va(order.end() - val_count, order.end());
    std::sort(tr.begin(), tr.end());
    std::sort(va.begin(), va.end());
    std::vector<uint64_t> te(ntest);
    std::iota(te.begin(), te.end(), 0);
    td.train = make_dataset(tri, trl, tr);
    td.val = make_dataset(tri, trl, va);
    td.test = make_dataset(tei, tel, te);
    td.source = fmt::format("{} ({} training, {} validation), {} ({} test)", opt.train_images, tr.size(), va.size(),
                            opt.test_images, te.size());
    return td;
}

// ---------------------------------------------------------------- accuracy

namespace {

std::size_t argmax(const std::vector<int32_t>& v) {
    return std::size_t(std::max_element(v.begin(), v.end()) - v.begin());
}
std::size_t argmax(const std::vector<double>& v) {
    return std::size_t(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

double golden_accuracy(const Image& image, const Dataset& data) {
    const int in_frac = image.layers.at(0).fmt.in_frac;
    const unsigned ab = image.arch.act_bits;
    uint64_t correct = 0;
    std::vector<int32_t> x(data.dim);
    for (std::size_t i = 0; i < data.size(); ++i) {
        for (uint32_t k = 0; k < data.dim; ++k) x[k] = fx::quantize(data.x[i * data.dim + k], in_frac, ab);
        auto out = golden_run(image, x);
        correct += int64_t(argmax(out.back())) == data.y[i];
    }
    return data.size() ? double(correct) / double(data.size()) : 0.0;
}

double float_image_accuracy(const Image& image, const Dataset& data) {
    uint64_t correct = 0;
    std::vector<double> x(data.dim);
    for (std::size_t i = 0; i < data.size(); ++i) {
        for (uint32_t k = 0; k < data.dim; ++k) x[k] = data.x[i * data.dim + k];
        auto out = float_run(image, x);
        correct += int64_t(argmax(out.back())) == data.y[i];
    }
    return data.size() ? double(correct) / double(data.size()) : 0.0;
}

std::vector<double> prune_schedule(double target, uint32_t steps) {
    std::vector<double> d;
    for (uint32_t k = 1; k <= steps; ++k) d.push_back(k == steps ? target : std::pow(target, double(k) / steps));
    return d;
}

// ---------------------------------------------------------------- checkpoints

namespace {

constexpr const char* kStateFile = "state.json";

std::vector<uint8_t> mask_of(const FloatLayer& L) {
    std::vector<uint8_t> m(L.weights.size());
    for (std::size_t k = 0; k < m.size(); ++k) m[k] = L.weights[k] != 0.0f;
    return m;
}

double density_of(const FloatLayer& L) {
    uint64_t nz = 0;
    for (float w : L.weights) nz += w != 0.0f;
    return L.weights.empty() ? 0.0 : double(nz) / double(L.weights.size());
}

// The values of [W | b] in one vector, row-major W then b.
std::vector<float> augmented(const FloatLayer& L) {
    std::vector<float> v = L.weights;
    v.insert(v.end(), L.bias.begin(), L.bias.end());
    return v;
}

nlohmann::json layer_json(const FloatLayer& L) {
    return {{"name", L.name}, {"in_len", L.in_len}, {"out_len", L.out_len}, {"bias", !L.bias.empty()},
            {"activation", activation_name(L.act)}};
}

void write_checkpoint(const std::string& dir, const StepRecord& rec, const std::vector<FloatLayer>& layers,
                      const std::vector<SharingLayer>* sharing, const std::vector<std::vector<float>>* kmeans_values) {
    const fs::path final_dir = fs::path(dir) / rec.name;
    fs::create_directories(dir);
    nlohmann::json st = {{"step", rec.name},
                         {"epochs", rec.epochs},
                         {"density", rec.density},
                         {"val_accuracy", rec.val_accuracy},
                         {"test_accuracy", rec.test_accuracy},
                         {"last_loss", rec.last_loss},
                         {"seconds", rec.seconds},
                         {"layers", nlohmann::json::array()}};
    // One directory replaced as a whole, so a kill mid-write never leaves a half checkpoint to resume from.
    auto fill = [&](const std::string& tmp_dir) {
        const fs::path tmp(tmp_dir);
        for (std::size_t l = 0; l < layers.size(); ++l) {
            const FloatLayer& L = layers[l];
            st["layers"].push_back(layer_json(L));
            write_npy((tmp / fmt::format("{}.weight.npy", L.name)).string(), {L.out_len, L.in_len}, L.weights);
            if (!L.bias.empty()) write_npy((tmp / fmt::format("{}.bias.npy", L.name)).string(), {L.out_len}, L.bias);
            if (sharing) {
                const SharingLayer& s = (*sharing)[l];
                std::vector<int32_t> a(s.assignment.begin(), s.assignment.end());
                write_npy((tmp / fmt::format("{}.assignment.npy", L.name)).string(), {a.size()}, a);
                write_npy((tmp / fmt::format("{}.codebook.npy", L.name)).string(), {s.codebook.size()}, s.codebook);
            }
            if (kmeans_values)
                write_npy((tmp / fmt::format("{}.kmeans.npy", L.name)).string(), {(*kmeans_values)[l].size()},
                          (*kmeans_values)[l]);
        }
        {
            std::ofstream out(tmp / kStateFile);
            out << st.dump(2) << "\n";
            if (!out) throw TrainError(fmt::format("checkpoint '{}': cannot write {}", final_dir.string(), kStateFile));
        }
    };
    try {
        replace_directory_atomic(final_dir.string(), fill);
    } catch (const FileError& e) {
        throw TrainError(fmt::format("checkpoint {}", e.what()));
    }
}

bool read_checkpoint(const std::string& dir, const std::string& step, const std::vector<FloatLayer>& shape,
                     StepRecord& rec, std::vector<FloatLayer>& layers) {
    const fs::path d = fs::path(dir) / step;
    std::ifstream in(d / kStateFile);
    if (!in) return false;
    nlohmann::json st;
    try {
        in >> st;
        rec.name = step;
        rec.epochs = st.at("epochs").get<uint32_t>();
        rec.density = st.at("density").get<std::vector<double>>();
        rec.val_accuracy = st.at("val_accuracy").get<double>();
        rec.test_accuracy = st.at("test_accuracy").get<double>();
        rec.last_loss = st.at("last_loss").get<double>();
        rec.seconds = st.at("seconds").get<double>();
    } catch (const std::exception& e) {
        throw TrainError(fmt::format("checkpoint '{}': {} is not valid: {}", d.string(), kStateFile, e.what()));
    }
    layers = shape;
    for (auto& L : layers) {
        NpyArray w = read_npy((d / fmt::format("{}.weight.npy", L.name)).string());
        if (w.shape != std::vector<uint64_t>{L.out_len, L.in_len})
            throw TrainError(fmt::format("checkpoint '{}': {}.weight.npy has shape ({}) but the network needs ({}, {})",
                                         d.string(), L.name, fmt::join(w.shape, ", "), L.out_len, L.in_len));
        L.weights.assign(w.data.begin(), w.data.end());
        if (!L.bias.empty()) {
            NpyArray b = read_npy((d / fmt::format("{}.bias.npy", L.name)).string());
            if (b.shape != std::vector<uint64_t>{L.out_len})
                throw TrainError(fmt::format("checkpoint '{}': {}.bias.npy has shape ({}) but the network needs ({},)",
                                             d.string(), L.name, fmt::join(b.shape, ", "), L.out_len));
            L.bias.assign(b.data.begin(), b.data.end());
        }
    }
    rec.resumed = true;
    return true;
}

// What a checkpoint directory was made with: resuming with anything else
// would mix two runs, so it is refused, naming the field.
nlohmann::json run_fingerprint(const TrainData& data, const PipelineOptions& opt) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& L : opt.start) layers.push_back(layer_json(L));
    auto sched = [](const StepSchedule& s) {
        return nlohmann::json{{"epochs", s.epochs}, {"optimizer", to_string(s.opt.optimizer)}, {"lr", s.opt.lr},
                              {"momentum", s.opt.momentum}, {"batch", s.opt.batch}};
    };
    return {{"layers", layers},
            {"data", data.source},
            {"densities", opt.densities},
            {"prune_steps", opt.prune_steps},
            {"dense", sched(opt.dense)},
            {"retrain", sched(opt.retrain)},
            {"share", sched(opt.share)},
            {"skip_dense", opt.skip_dense},
            {"weight_bits", opt.compress.arch.weight_bits},
            {"init", to_string(opt.compress.init)},
            {"seed", opt.seed}};
}

void check_fingerprint(const std::string& dir, const nlohmann::json& fp, bool resume) {
    fs::create_directories(dir);
    const fs::path path = fs::path(dir) / "run.json";
    std::ifstream in(path);
    if (in && resume) {
        nlohmann::json old;
        try {
            in >> old;
        } catch (const std::exception& e) {
            throw TrainError(fmt::format("--resume: '{}' is not valid JSON: {}", path.string(), e.what()));
        }
        for (auto it = fp.begin(); it != fp.end(); ++it)
            if (!old.contains(it.key()) || old[it.key()] != it.value())
                throw TrainError(fmt::format("--resume: the checkpoints in '{}' were made with {} = {}, this run has {} "
                                             "(resume with the same settings, or use another --checkpoints directory)",
                                             dir, it.key(), old.contains(it.key()) ? old[it.key()].dump() : "nothing",
                                             it.value().dump()));
        return;
    }
    if (!resume) {
        // A fresh run: checkpoints of an earlier run in this directory must not be resumed by mistake later.
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(dir, ec))
            if (fs::exists(e.path() / kStateFile)) fs::remove_all(e.path(), ec);
    }
    try {
        write_file_atomic(path.string(), fp.dump(2) + "\n");
    } catch (const FileError& e) {
        throw TrainError(fmt::format("--checkpoints: {}", e.what()));
    }
}

// Weight sharing of one trained, pruned layer: k-means (the compressor's
// implementation and options) over the non-zeros of [W | b].
SharingLayer share_layer(const FloatLayer& L, const CompressOptions& co) {
    const std::vector<float> v = augmented(L);
    std::vector<double> nz;
    for (float x : v)
        if (x != 0.0f) nz.push_back(x);
    SharingLayer s;
    s.codebook.assign(co.arch.codebook_entries(), 0.0f);
    s.assignment.assign(v.size(), 0);
    if (nz.empty()) return s;
    Codebook cb = kmeans_1d(nz, co.arch.weight_bits, co.init, co.kmeans_seed, co.kmeans_max_iterations);
    for (std::size_t c = 1; c < cb.centroids.size() && c < s.codebook.size(); ++c) s.codebook[c] = float(cb.centroids[c]);
    std::size_t k = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] != 0.0f) s.assignment[i] = cb.assignment[k++];
    return s;
}

std::string format_seconds(double s) {
    if (s < 60) return fmt::format("{:.0f} s", s);
    return fmt::format("{:.0f} min {:02.0f} s", std::floor(s / 60), std::fmod(s, 60));
}

}  // namespace

// ---------------------------------------------------------------- the pipeline

void finish_report(PipelineResult& res, const PipelineOptions& opt);

PipelineResult run_pipeline(const TrainData& data, const PipelineOptions& opt, const ProgressFn& progress) {
    const std::size_t n = opt.start.size();
    if (n == 0) throw TrainError("no layers to train");
    if (opt.densities.size() != n)
        throw TrainError(fmt::format("{} densities for {} layers", opt.densities.size(), n));
    if (opt.start.front().in_len != data.train.dim)
        throw TrainError(fmt::format("layer sizes do not fit the data: the first layer takes {} inputs but the images "
                                     "have {} values",
                                     opt.start.front().in_len, data.train.dim));
    int64_t max_label = 0;
    for (const Dataset* d : {&data.train, &data.val, &data.test})
        for (int64_t y : d->y) max_label = std::max(max_label, y);
    if (uint64_t(max_label) >= opt.start.back().out_len)
        throw TrainError(fmt::format("layer sizes do not fit the data: label {} needs at least {} outputs but the last "
                                     "layer has {}",
                                     max_label, max_label + 1, opt.start.back().out_len));
    opt.compress.arch.validate("architecture");
    const bool ckpt = !opt.checkpoint_dir.empty();
    if (ckpt) check_fingerprint(opt.checkpoint_dir, run_fingerprint(data, opt), opt.resume);

    // The steps and their epochs, for the progress display's time estimate.
    struct Step {
        std::string name;
        StepSchedule sched;
        std::vector<double> density;  // per layer target after the step (pruning steps)
    };
    std::vector<Step> steps;
    if (!opt.skip_dense) steps.push_back({"dense", opt.dense, {}});
    std::vector<std::vector<double>> per_layer;
    for (double d : opt.densities) per_layer.push_back(prune_schedule(d, opt.prune_steps));
    for (uint32_t k = 0; k < opt.prune_steps; ++k) {
        Step s{fmt::format("prune-{}", k + 1), opt.retrain, {}};
        for (std::size_t l = 0; l < n; ++l) s.density.push_back(per_layer[l][k]);
        steps.push_back(s);
    }
    steps.push_back({"share", opt.share, {}});
    if (!opt.stop_after.empty() && std::none_of(steps.begin(), steps.end(), [&](const Step& s) {
            return s.name == opt.stop_after;
        })) {
        std::string names;
        for (const auto& s : steps) names += (names.empty() ? "" : ", ") + s.name;
        throw TrainError(fmt::format("--stop-after: step '{}' is not one of this run's steps ({})", opt.stop_after, names));
    }
    uint64_t total_epochs = 0;  // up to --stop-after, for the time-left estimate
    for (const auto& s : steps) {
        total_epochs += s.sched.epochs;
        if (s.name == opt.stop_after) break;
    }

    PipelineResult res;
    res.test_count = data.test.size();
    std::vector<FloatLayer> cur = opt.start;
    std::vector<SharingLayer> sharing;
    std::vector<std::vector<float>> kmeans_values;
    uint64_t epochs_done = 0;
    double seconds_per_epoch = 0;
    uint64_t timed_epochs = 0;
    std::string last_good = "the start";

    for (std::size_t si = 0; si < steps.size(); ++si) {
        const Step& step = steps[si];
        StepRecord rec;
        std::vector<FloatLayer> loaded;
        if (ckpt && opt.resume && read_checkpoint(opt.checkpoint_dir, step.name, opt.start, rec, loaded)) {
            cur = loaded;
            epochs_done += step.sched.epochs;
            if (progress)
                progress(fmt::format("{}: resumed from checkpoint (test accuracy {:.2f}%)", step.name,
                                     100 * rec.test_accuracy));
            if (step.name == "share") {
                sharing.clear();
                // Recover the codebook from the distinct values (assignments are fixed, so equal values share a code).
                for (const auto& L : cur) {
                    SharingLayer s;
                    auto v = augmented(L);
                    std::set<float> distinct;
                    for (float x : v)
                        if (x != 0.0f) distinct.insert(x);
                    s.codebook.push_back(0.0f);
                    s.codebook.insert(s.codebook.end(), distinct.begin(), distinct.end());
                    for (float x : v)
                        s.assignment.push_back(x == 0.0f ? 0u
                                                         : uint32_t(std::lower_bound(s.codebook.begin() + 1,
                                                                                     s.codebook.end(), x) -
                                                                    s.codebook.begin()));
                    sharing.push_back(std::move(s));
                }
            }
        } else {
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<std::vector<uint8_t>> masks;
            if (step.name.rfind("prune-", 0) == 0)
                for (std::size_t l = 0; l < n; ++l) {
                    prune_to_density(cur[l], step.density[l]);
                    masks.push_back(mask_of(cur[l]));
                }
            MlpTrainer trainer(cur);
            if (!masks.empty()) trainer.set_masks(masks);
            if (step.name == "share") {
                sharing.clear();
                kmeans_values.clear();
                for (const auto& L : cur) sharing.push_back(share_layer(L, opt.compress));
                trainer.set_sharing(sharing);
                for (const auto& L : trainer.layers()) kmeans_values.push_back(augmented(L));
                if (progress)
                    progress(fmt::format("share: k-means ({} init, {} shared weights per layer): test accuracy before "
                                         "fine-tuning {:.2f}%",
                                         to_string(opt.compress.init), (1u << opt.compress.arch.weight_bits) - 1,
                                         100 * trainer.accuracy(data.test)));
            }
            for (uint32_t e = 0; e < step.sched.epochs; ++e) {
                EpochOptions eo = step.sched.opt;
                eo.shuffle_seed = opt.seed * 1000003ull + si * 1009ull + e + 1;
                EpochResult er;
                try {
                    er = trainer.train_epoch(data.train, eo);
                } catch (const DivergedError& err) {
                    throw DivergedError(fmt::format("step {}, epoch {}/{}: {}; last good checkpoint: {}", step.name, e + 1,
                                                 step.sched.epochs, err.what(), last_good));
                }
                rec.last_loss = er.loss;
                ++epochs_done;
                seconds_per_epoch = (seconds_per_epoch * double(timed_epochs) + er.seconds) / double(timed_epochs + 1);
                ++timed_epochs;
                if (progress) {
                    double val = trainer.accuracy(data.val);
                    progress(fmt::format("{}: epoch {}/{}  loss {:.4f}  validation {:.2f}%  {:.1f} s/epoch  about {} left",
                                         step.name, e + 1, step.sched.epochs, er.loss, 100 * val, er.seconds,
                                         format_seconds(seconds_per_epoch * double(total_epochs - epochs_done))));
                }
            }
            cur = trainer.layers();
            if (step.name == "share") sharing = trainer.sharing();
            rec.name = step.name;
            rec.epochs = step.sched.epochs;
            rec.val_accuracy = trainer.accuracy(data.val);
            rec.test_accuracy = trainer.accuracy(data.test);
            rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            for (const auto& L : cur) rec.density.push_back(density_of(L));
            if (ckpt) {
                write_checkpoint(opt.checkpoint_dir, rec, cur, step.name == "share" ? &sharing : nullptr,
                                 step.name == "share" ? &kmeans_values : nullptr);
                last_good = (fs::path(opt.checkpoint_dir) / step.name).string();
            }
            if (progress)
                progress(fmt::format("{}: done in {}, test accuracy {:.2f}%, density {}", step.name,
                                     format_seconds(rec.seconds), 100 * rec.test_accuracy,
                                     fmt::join(rec.density, " ")));
        }
        if (rec.density.empty())
            for (const auto& L : cur) rec.density.push_back(density_of(L));
        if (ckpt) last_good = (fs::path(opt.checkpoint_dir) / step.name).string();
        if (step.name == "dense") {
            res.dense_float = rec.test_accuracy;
            res.dense_layers = cur;
        }
        if (step.name.rfind("prune-", 0) == 0) res.pruned_float = rec.test_accuracy;
        if (step.name == "share") res.quantised_float = rec.test_accuracy;
        res.steps.push_back(rec);
        if (step.name == opt.stop_after && si + 1 < steps.size()) {
            res.stopped_early = true;
            break;
        }
    }
    if (opt.skip_dense) {
        // An imported, trained network is the dense reference.
        res.dense_layers = opt.start;
        res.dense_float = MlpTrainer(opt.start).accuracy(data.test);
    }
    res.trained = cur;

    nlohmann::json steps_json = nlohmann::json::array();
    for (const auto& s : res.steps)
        steps_json.push_back({{"step", s.name},
                              {"epochs", s.epochs},
                              {"density", s.density},
                              {"validation_accuracy", s.val_accuracy},
                              {"test_accuracy", s.test_accuracy},
                              {"last_loss", s.last_loss},
                              {"seconds", s.seconds},
                              {"resumed", s.resumed}});
    res.report = {{"format", "eie-train-report"}, {"version", 1}, {"data", data.source}, {"steps", steps_json}};
    if (res.stopped_early) {
        res.report["stopped_after"] = opt.stop_after;
        return res;
    }

    // Fixed point and the image, through the compressor (one code path with
    // eie-compress): the trained values already take at most 2^b - 1 distinct
    // non-zero values per layer, so its k-means keeps them exactly.
    std::vector<std::vector<double>> calibration;
    for (std::size_t i = 0; i < std::min<std::size_t>(opt.calibration_count, data.train.size()); ++i)
        calibration.emplace_back(data.train.x.begin() + i * data.train.dim,
                                 data.train.x.begin() + (i + 1) * data.train.dim);
    std::vector<double> input(data.test.x.begin(), data.test.x.begin() + data.test.dim);
    CompressOptions co = opt.compress;
    co.layers.assign(n, LayerOptions{});
    res.compressed = compress_network(cur, input, calibration, co);
    for (const auto& lr : res.compressed->layers)
        if (!lr.kmeans_exact)
            throw TrainError(fmt::format("layer '{}': the trained layer has more than {} distinct non-zero values (the "
                                         "compressor had to re-cluster it)",
                                         lr.name, (1u << co.arch.weight_bits) - 1));
    if (progress) progress(fmt::format("fixed point: golden model on {} test images", data.test.size()));
    res.golden = golden_accuracy(res.compressed->image, data.test);

    if (opt.easy_version) {
        // The easy version: the dense network pruned and shared by the compressor alone.
        CompressOptions eco = opt.compress;
        eco.layers.assign(n, LayerOptions{});
        for (std::size_t l = 0; l < n; ++l) {
            eco.layers[l].prune = PruneMode::density;
            eco.layers[l].prune_value = opt.densities[l];
        }
        res.easy = compress_network(res.dense_layers, input, calibration, eco);
        if (progress) progress("easy version: golden model and float reference on the test images");
        res.easy_golden = golden_accuracy(res.easy->image, data.test);
        res.easy_float = float_image_accuracy(res.easy->image, data.test);
    }
    finish_report(res, opt);
    return res;
}

namespace {

double per_entry(uint64_t bits, uint64_t entries) { return entries ? double(bits) / double(entries) : 0.0; }

nlohmann::json storage_row(const LayerStorage& s, const StorageReport& r) {
    return {{"layer", s.name},
            {"weights", s.dense_weights},
            {"density", s.dense_weights ? double(s.nonzeros) / double(s.dense_weights) : 0.0},
            {"weight_bits", r.weight_bits},
            {"weight_bits_huffman", per_entry(s.huffman_weight_bits, s.entries)},
            {"index_bits", r.index_bits},
            {"index_bits_huffman", per_entry(s.huffman_index_bits, s.entries)},
            {"ratio_quantised", s.quantised_ratio(false)},
            {"ratio_huffman", s.huffman_ratio(false)},
            {"ratio_huffman_with_pointers", s.huffman_ratio(true)}};
}

}  // namespace

void finish_report(PipelineResult& res, const PipelineOptions& opt) {
    nlohmann::json& j = res.report;
    const StorageReport& st = res.compressed->storage;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& s : st.layers) rows.push_back(storage_row(s, st));
    j["layers"] = rows;
    j["total"] = storage_row(st.total, st);
    j["accuracy"] = {{"test_images", res.test_count},
                     {"dense_float", res.dense_float},
                     {"pruned_float", res.pruned_float},
                     {"quantised_float", res.quantised_float},
                     {"golden_fixed_point", res.golden},
                     {"cycle_model", nullptr}};
    if (res.easy) {
        const StorageReport& es = res.easy->storage;
        j["easy_version"] = {{"float_shared", res.easy_float},
                             {"golden_fixed_point", res.easy_golden},
                             {"total", storage_row(es.total, es)}};
    }
    j["densities"] = opt.densities;
    j["arch"] = to_json(res.compressed->image.arch);
    j["compress"] = res.compressed->report;
}

void set_cycle_model(PipelineResult& r, const PipelineResult::CycleModel& c) {
    r.cycle_model = c;
    r.report["accuracy"]["cycle_model"] = c.top1;
    r.report["cycle_model"] = {{"inputs", c.inputs},
                               {"top1", c.top1},
                               {"bit_exact", c.bit_exact},
                               {"equal_to_golden", c.top1 == r.golden},
                               {"mean_cycles", c.mean_cycles},
                               {"mean_energy_pj", c.mean_energy_pj}};
}

std::string format_pipeline_report(const PipelineResult& r) {
    std::string out;
    out += "Steps\n";
    out += fmt::format("  {:<10} {:>6} {:>10} {:>10}  {}\n", "step", "epochs", "val %", "test %", "density per layer");
    for (const auto& s : r.steps)
        out += fmt::format("  {:<10} {:>6} {:>10.2f} {:>10.2f}  {:.4f}{}\n", s.name, s.epochs, 100 * s.val_accuracy,
                           100 * s.test_accuracy, fmt::join(s.density, " "), s.resumed ? "  (checkpoint)" : "");
    if (!r.compressed) return out;
    const StorageReport& st = r.compressed->storage;
    out += "\nCompression (Deep Compression Table 1/2 shape; P = pruning, Q = quantisation, H = Huffman coding;\n"
           "ratios against dense fp32, without column pointers as the paper counts, and with them)\n";
    out += fmt::format("  {:<8} {:>9} {:>8} {:>7} {:>9} {:>7} {:>9} {:>9} {:>9} {:>11}\n", "layer", "weights",
                       "weight%", "w bits", "w bits+H", "i bits", "i bits+H", "ratio P+Q", "P+Q+H", "P+Q+H+ptr");
    auto row = [&](const LayerStorage& s) {
        out += fmt::format("  {:<8} {:>9} {:>7.2f}% {:>7} {:>9.2f} {:>7} {:>9.2f} {:>8.1f}x {:>8.1f}x {:>10.1f}x\n",
                           s.name.empty() ? "total" : s.name, s.dense_weights,
                           s.dense_weights ? 100.0 * double(s.nonzeros) / double(s.dense_weights) : 0.0, st.weight_bits,
                           per_entry(s.huffman_weight_bits, s.entries), st.index_bits,
                           per_entry(s.huffman_index_bits, s.entries), s.quantised_ratio(false), s.huffman_ratio(false),
                           s.huffman_ratio(true));
    };
    for (const auto& s : st.layers) row(s);
    LayerStorage total = st.total;
    total.name = "total";
    row(total);
    out += fmt::format("\nTop-1 accuracy on {} test images\n", r.test_count);
    out += fmt::format("  dense, float                         {:6.2f}%\n", 100 * r.dense_float);
    out += fmt::format("  pruned and retrained, float          {:6.2f}%\n", 100 * r.pruned_float);
    out += fmt::format("  trained quantisation, float          {:6.2f}%\n", 100 * r.quantised_float);
    out += fmt::format("  fixed point, golden model            {:6.2f}%  ({:+.2f} points vs dense float)\n",
                       100 * r.golden, 100 * (r.golden - r.dense_float));
    if (r.cycle_model) {
        const auto& c = *r.cycle_model;
        out += fmt::format("  fixed point, cycle model             {:6.2f}%  (on {} test images, {}{}; {:.0f} cycles and "
                           "{:.1f} nJ per inference)\n",
                           100 * c.top1, c.inputs, c.bit_exact ? "bit-exact with the golden model" : "NOT BIT-EXACT",
                           c.bit_exact && c.inputs == r.test_count && c.top1 == r.golden ? ", equal to the golden figure"
                                                                                         : "",
                           c.mean_cycles, c.mean_energy_pj / 1000);
    }
    if (r.easy) {
        out += fmt::format("  easy version (no retraining), float  {:6.2f}%\n", 100 * r.easy_float);
        out += fmt::format("  easy version, golden model           {:6.2f}%  ({:+.2f} points vs dense float; total "
                           "{:.1f}x)\n",
                           100 * r.easy_golden, 100 * (r.easy_golden - r.dense_float),
                           r.easy->storage.total.huffman_ratio(false));
    }
    return out;
}

}  // namespace eie
