// The only translation unit of eie-train that includes libtorch's headers.
#include "eie/compress/train/mlp_trainer.hpp"

#include <link.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <torch/torch.h>

#include "eie/hw/rng.hpp"

namespace eie {

Optimizer parse_optimizer(const std::string& text) {
    if (text == "adam") return Optimizer::adam;
    if (text == "sgd") return Optimizer::sgd;
    throw std::invalid_argument(fmt::format("optimizer '{}' is not known (allowed: adam, sgd)", text));
}

const char* to_string(Optimizer o) { return o == Optimizer::adam ? "adam" : "sgd"; }

namespace {

enum class Mode { dense, masked, shared };

torch::Tensor to_tensor(const std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

std::vector<float> to_vector(const torch::Tensor& t) {
    torch::Tensor c = t.detach().contiguous().to(torch::kFloat32);
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

struct MlpTrainer::Impl {
    std::vector<FloatLayer> shape;  // names, sizes, activations (values not kept up to date)
    std::vector<torch::Tensor> w, b;            // dense and masked modes: the parameters
    std::vector<torch::Tensor> mask;            // masked mode: float 0/1, out x in
    std::vector<torch::Tensor> codebook;        // shared mode: the parameters, [0] fixed at 0
    std::vector<torch::Tensor> assign_w, assign_b;  // shared mode: int64 indices into the codebook
    Mode mode = Mode::dense;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    Optimizer optimizer_kind = Optimizer::adam;
    double optimizer_lr = -1, optimizer_momentum = -1;

    bool has_bias(std::size_t l) const { return !shape[l].bias.empty(); }

    torch::Tensor weight(std::size_t l) const {
        if (mode != Mode::shared) return w[l];
        return codebook[l].index_select(0, assign_w[l]).view({shape[l].out_len, shape[l].in_len});
    }
    torch::Tensor bias(std::size_t l) const {
        if (!has_bias(l)) return {};
        if (mode != Mode::shared) return b[l];
        return codebook[l].index_select(0, assign_b[l]);
    }

    torch::Tensor forward(const torch::Tensor& x) const {
        torch::Tensor h = x;
        for (std::size_t l = 0; l < shape.size(); ++l) {
            h = has_bias(l) ? torch::addmm(bias(l), h, weight(l).t()) : h.mm(weight(l).t());
            if (shape[l].act == Activation::relu) h = torch::relu(h);
        }
        return h;
    }

    std::vector<torch::Tensor> parameters() const {
        std::vector<torch::Tensor> p;
        if (mode == Mode::shared) return codebook;
        for (std::size_t l = 0; l < shape.size(); ++l) {
            p.push_back(w[l]);
            if (has_bias(l)) p.push_back(b[l]);
        }
        return p;
    }

    void make_optimizer(const EpochOptions& opt) {
        if (optimizer && optimizer_kind == opt.optimizer && optimizer_lr == opt.lr && optimizer_momentum == opt.momentum)
            return;
        if (opt.optimizer == Optimizer::adam)
            optimizer = std::make_unique<torch::optim::Adam>(parameters(), torch::optim::AdamOptions(opt.lr));
        else
            optimizer = std::make_unique<torch::optim::SGD>(parameters(),
                                                            torch::optim::SGDOptions(opt.lr).momentum(opt.momentum));
        optimizer_kind = opt.optimizer;
        optimizer_lr = opt.lr;
        optimizer_momentum = opt.momentum;
    }

    // Values that must stay fixed are put back after every step: masked
    // weights at zero, the zero entry of every codebook at zero.
    void hold_fixed() {
        torch::NoGradGuard ng;
        if (mode == Mode::masked)
            for (std::size_t l = 0; l < w.size(); ++l) w[l].mul_(mask[l]);
        if (mode == Mode::shared)
            for (auto& c : codebook) c[0].zero_();
    }
};

MlpTrainer::MlpTrainer(const std::vector<FloatLayer>& layers) : impl_(std::make_unique<Impl>()) {
    if (layers.empty()) throw TrainError("a network needs at least one layer");
    impl_->shape = layers;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const FloatLayer& L = layers[l];
        if (l > 0 && L.in_len != layers[l - 1].out_len)
            throw TrainError(fmt::format("layer '{}' has in_len {} but the previous layer has {} outputs", L.name,
                                         L.in_len, layers[l - 1].out_len));
        if (L.weights.size() != uint64_t(L.in_len) * L.out_len)
            throw TrainError(fmt::format("layer '{}': {} weights for {} x {}", L.name, L.weights.size(), L.out_len,
                                         L.in_len));
        impl_->w.push_back(to_tensor(L.weights, {L.out_len, L.in_len}).set_requires_grad(true));
        impl_->b.push_back(L.bias.empty() ? torch::Tensor()
                                          : to_tensor(L.bias, {L.out_len}).set_requires_grad(true));
    }
}

MlpTrainer::~MlpTrainer() = default;

std::vector<FloatLayer> MlpTrainer::layers() const {
    std::vector<FloatLayer> out = impl_->shape;
    for (std::size_t l = 0; l < out.size(); ++l) {
        out[l].weights = to_vector(impl_->weight(l));
        if (impl_->has_bias(l)) out[l].bias = to_vector(impl_->bias(l));
    }
    return out;
}

void MlpTrainer::set_dense() {
    auto cur = layers();
    impl_->mode = Mode::dense;
    impl_->mask.clear();
    impl_->codebook.clear();
    for (std::size_t l = 0; l < cur.size(); ++l) {
        impl_->w[l] = to_tensor(cur[l].weights, {cur[l].out_len, cur[l].in_len}).set_requires_grad(true);
        if (impl_->has_bias(l)) impl_->b[l] = to_tensor(cur[l].bias, {cur[l].out_len}).set_requires_grad(true);
    }
    reset_optimizer();
}

void MlpTrainer::set_masks(const std::vector<std::vector<uint8_t>>& masks) {
    if (masks.size() != impl_->shape.size())
        throw TrainError(fmt::format("{} masks for {} layers", masks.size(), impl_->shape.size()));
    set_dense();
    impl_->mode = Mode::masked;
    for (std::size_t l = 0; l < masks.size(); ++l) {
        const FloatLayer& L = impl_->shape[l];
        if (masks[l].size() != uint64_t(L.in_len) * L.out_len)
            throw TrainError(fmt::format("layer '{}': mask of {} for {} weights", L.name, masks[l].size(),
                                         uint64_t(L.in_len) * L.out_len));
        std::vector<float> m(masks[l].begin(), masks[l].end());
        for (float& v : m) v = v != 0 ? 1.0f : 0.0f;
        impl_->mask.push_back(to_tensor(m, {L.out_len, L.in_len}));
    }
    impl_->hold_fixed();
}

void MlpTrainer::set_sharing(const std::vector<SharingLayer>& sharing) {
    if (sharing.size() != impl_->shape.size())
        throw TrainError(fmt::format("{} codebooks for {} layers", sharing.size(), impl_->shape.size()));
    impl_->mode = Mode::shared;
    impl_->mask.clear();
    impl_->codebook.clear();
    impl_->assign_w.assign(sharing.size(), {});
    impl_->assign_b.assign(sharing.size(), {});
    for (std::size_t l = 0; l < sharing.size(); ++l) {
        const FloatLayer& L = impl_->shape[l];
        const uint64_t nw = uint64_t(L.in_len) * L.out_len, nb = L.bias.empty() ? 0 : L.out_len;
        const SharingLayer& s = sharing[l];
        if (s.assignment.size() != nw + nb)
            throw TrainError(fmt::format("layer '{}': {} assignments for {} values", L.name, s.assignment.size(), nw + nb));
        if (s.codebook.empty() || s.codebook[0] != 0.0f)
            throw TrainError(fmt::format("layer '{}': codebook entry 0 must be 0", L.name));
        std::vector<int64_t> a(s.assignment.begin(), s.assignment.end());
        for (int64_t v : a)
            if (v < 0 || uint64_t(v) >= s.codebook.size())
                throw TrainError(fmt::format("layer '{}': assignment {} outside the {}-entry codebook", L.name, v,
                                             s.codebook.size()));
        torch::Tensor at = torch::from_blob(a.data(), {int64_t(a.size())}, torch::kInt64).clone();
        impl_->assign_w[l] = at.slice(0, 0, int64_t(nw)).contiguous();
        if (nb) impl_->assign_b[l] = at.slice(0, int64_t(nw)).contiguous();
        impl_->codebook.push_back(to_tensor(s.codebook, {int64_t(s.codebook.size())}).set_requires_grad(true));
    }
    reset_optimizer();
}

std::vector<SharingLayer> MlpTrainer::sharing() const {
    std::vector<SharingLayer> out;
    if (impl_->mode != Mode::shared) return out;
    for (std::size_t l = 0; l < impl_->shape.size(); ++l) {
        SharingLayer s;
        s.codebook = to_vector(impl_->codebook[l]);
        auto push = [&](const torch::Tensor& t) {
            if (!t.defined()) return;
            const int64_t* p = t.data_ptr<int64_t>();
            for (int64_t k = 0; k < t.numel(); ++k) s.assignment.push_back(static_cast<uint32_t>(p[k]));
        };
        push(impl_->assign_w[l]);
        push(impl_->assign_b[l]);
        out.push_back(std::move(s));
    }
    return out;
}

void MlpTrainer::reset_optimizer() { impl_->optimizer.reset(); }

EpochResult MlpTrainer::train_epoch(const Dataset& train, const EpochOptions& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    if (train.dim != impl_->shape.front().in_len)
        throw TrainError(fmt::format("the data have {} values per example but the first layer takes {}", train.dim,
                                     impl_->shape.front().in_len));
    if (train.size() == 0) throw TrainError("no training examples");
    impl_->make_optimizer(opt);
    // The order comes from the project's generator (Fisher-Yates), so a
    // resumed run sees exactly the batches an uninterrupted one would.
    std::vector<int64_t> order(train.size());
    std::iota(order.begin(), order.end(), 0);
    Rng rng(opt.shuffle_seed);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    torch::Tensor X = torch::from_blob(const_cast<float*>(train.x.data()),
                                       {int64_t(train.size()), int64_t(train.dim)}, torch::kFloat32);
    torch::Tensor Y = torch::from_blob(const_cast<int64_t*>(train.y.data()), {int64_t(train.size())}, torch::kInt64);
    torch::Tensor idx = torch::from_blob(order.data(), {int64_t(order.size())}, torch::kInt64);
    double loss_sum = 0;
    const int64_t n = int64_t(train.size()), bs = std::max<int64_t>(1, opt.batch);
    for (int64_t s = 0; s < n; s += bs) {
        torch::Tensor bi = idx.slice(0, s, std::min(n, s + bs));
        torch::Tensor xb = X.index_select(0, bi), yb = Y.index_select(0, bi);
        impl_->optimizer->zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(impl_->forward(xb), yb);
        const double lv = loss.item<double>();
        if (!std::isfinite(lv))
            throw DivergedError(fmt::format("the loss is {} at example {} of {} (training diverged: lower the learning rate)",
                                            std::isnan(lv) ? "NaN" : "infinite", s, n));
        loss.backward();
        {
            torch::NoGradGuard ng;
            if (impl_->mode == Mode::masked)
                for (std::size_t l = 0; l < impl_->w.size(); ++l) impl_->w[l].mutable_grad().mul_(impl_->mask[l]);
            if (impl_->mode == Mode::shared)
                for (auto& c : impl_->codebook) c.mutable_grad()[0].zero_();
        }
        impl_->optimizer->step();
        impl_->hold_fixed();
        loss_sum += lv * double(bi.size(0));
    }
    for (const auto& p : impl_->parameters())
        if (!torch::isfinite(p).all().item<bool>())
            throw DivergedError("a parameter became NaN or infinite (training diverged: lower the learning rate)");
    EpochResult r;
    r.loss = loss_sum / double(n);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

double MlpTrainer::accuracy(const Dataset& data) const {
    if (data.size() == 0) return 0;
    torch::NoGradGuard ng;
    torch::Tensor X = torch::from_blob(const_cast<float*>(data.x.data()), {int64_t(data.size()), int64_t(data.dim)},
                                       torch::kFloat32);
    torch::Tensor Y = torch::from_blob(const_cast<int64_t*>(data.y.data()), {int64_t(data.size())}, torch::kInt64);
    int64_t correct = 0;
    for (int64_t s = 0; s < X.size(0); s += 4096) {
        torch::Tensor out = impl_->forward(X.slice(0, s, std::min(X.size(0), s + 4096)));
        correct += out.argmax(1).eq(Y.slice(0, s, std::min(X.size(0), s + 4096))).sum().item<int64_t>();
    }
    return double(correct) / double(data.size());
}

std::vector<FloatLayer> init_mlp(const std::vector<uint32_t>& sizes, uint64_t seed) {
    std::vector<FloatLayer> out;
    Rng rng(seed);
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        FloatLayer L;
        L.name = fmt::format("fc{}", l + 1);
        L.in_len = sizes[l];
        L.out_len = sizes[l + 1];
        L.act = l + 2 == sizes.size() ? Activation::identity : Activation::relu;
        const double bound = 1.0 / std::sqrt(double(L.in_len));
        L.weights.resize(uint64_t(L.in_len) * L.out_len);
        for (float& v : L.weights) v = float((2 * rng.uniform() - 1) * bound);
        L.bias.resize(L.out_len);
        for (float& v : L.bias) v = float((2 * rng.uniform() - 1) * bound);
        out.push_back(std::move(L));
    }
    return out;
}

std::string blas_in_use() {
    std::string found;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            std::string name = info->dlpi_name ? info->dlpi_name : "";
            auto* f = static_cast<std::string*>(data);
            if (name.find("blas") != std::string::npos && f->empty()) {
                char buf[4096];
                const char* real = ::realpath(name.c_str(), buf);
                *f = real ? real : name;
            }
            return 0;
        },
        &found);
    return found.empty() ? "unknown" : found;
}

}  // namespace eie

namespace eie {
void set_torch_threads(uint32_t threads) { torch::set_num_threads(int(threads)); }
}  // namespace eie
