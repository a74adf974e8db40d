#include "eie/hw/model/batch_inference.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <numeric>
#include <type_traits>

#include <fmt/format.h>
#include <systemc>

#include "eie/hw/fixed_point.hpp"
#include "eie/hw/golden.hpp"
#include "eie/compress/idx.hpp"
#include "eie/hw/npy.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/host_driver.hpp"
#include "eie/hw/model/systemc_run.hpp"
#include "eie/hw/model/sim_report.hpp"

namespace eie {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool integer_dtype(const std::string& dtype) {
    // .npy descr "<i4", "|u1", "|b1"; the IDX reader's "idx:u1" is scaled to floats.
    return dtype.size() >= 2 && (dtype[1] == 'i' || dtype[1] == 'u' || dtype[1] == 'b');
}

std::string shape_text(const std::vector<uint64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

// The rows of a file a selection takes, checked.
std::vector<uint64_t> select_rows(const std::string& source, uint64_t rows, const InputSelection& sel) {
    if (sel.every == 0) throw BatchInputError(fmt::format("{}: --every 0 (allowed: 1 or more)", source));
    if (sel.count && *sel.count == 0) throw BatchInputError(fmt::format("{}: --count 0 selects nothing (allowed: 1 or more)", source));
    if (sel.first >= rows)
        throw BatchInputError(fmt::format("{}: --first {} but the file holds {} input{} (allowed: 0 .. {})", source,
                                          sel.first, rows, rows == 1 ? "" : "s", rows - 1));
    std::vector<uint64_t> out;
    for (uint64_t r = sel.first; r < rows && (!sel.count || out.size() < *sel.count); r += sel.every) out.push_back(r);
    return out;
}

// Top-k membership with ties resolved as documented in the header.
bool in_top_k(const int32_t* out, uint32_t n, uint32_t cls, uint32_t k) {
    uint32_t greater = 0;
    for (uint32_t i = 0; i < n; ++i) greater += out[i] > out[cls];
    return greater < k;
}

int32_t arg_max(const int32_t* out, uint32_t n) {
    if (n == 0) return -1;
    return static_cast<int32_t>(std::max_element(out, out + n) - out);
}

double nonzero_share(const int32_t* v, std::size_t n) {
    if (n == 0) return 0.0;
    std::size_t nz = 0;
    for (std::size_t i = 0; i < n; ++i) nz += v[i] != 0;
    return double(nz) / double(n);
}

// Sums per-input statistics into the whole-run figures.
void add_run(RunStats& into, const RunStats& run) {
    if (into.layers.empty()) {
        into.layers = run.layers;
    } else {
        for (std::size_t k = 0; k < run.layers.size() && k < into.layers.size(); ++k) {
            LayerStats& a = into.layers[k];
            const LayerStats& b = run.layers[k];
            a.cycles += b.cycles;
            a.writeback_cycles += b.writeback_cycles;
            a.closed_form_cycles += b.closed_form_cycles;
            a.useful_macs += b.useful_macs;
            for (std::size_t p = 0; p < a.pe.size() && p < b.pe.size(); ++p) a.pe[p].add(b.pe[p]);
            a.ccu.add(b.ccu);
        }
    }
    into.compute_wall_seconds += run.compute_wall_seconds;
}

// The stall bubbles of one inference depend only on (seed, input row), so a
// split over workers reproduces the --jobs 1 run exactly.
uint64_t input_seed(uint64_t seed, uint64_t row) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (row + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// ---------------------------------------------------------------- one process

// Runs inputs [begin, end) in this process's own simulation. `done` (if
// given) counts finished inputs for a progress display elsewhere.
BatchResult run_range(const Image& image, const InputSet& in, uint64_t begin, uint64_t end, const BatchOptions& opt,
                      std::atomic<uint64_t>* done) {
    const auto t_all = Clock::now();
    BatchResult r;
    r.arch = image.arch;
    const uint32_t L = static_cast<uint32_t>(image.layers.size());
    r.out_len = image.layers.back().out_len;
    r.records.reserve(end - begin);
    r.raw_outputs.reserve((end - begin) * r.out_len);
    const double clock_mhz = image.arch.clock_mhz;
    const uint32_t N = image.arch.num_pes;

    new_simulation_context();
    Eie eie("eie", image.arch);
    std::string error;
    auto last_progress = Clock::now();
    HostDriver host("host", eie.irq, [&](HostDriver& h) {
        try {
            auto t = Clock::now();
            h.load_image(image);
            r.times.load += seconds_since(t);
            r.image_load_io_cycles = eie.stats().io_cycles;
            r.image_load_bytes = eie.stats().io_bytes;
            for (uint64_t i = begin; i < end; ++i) {
                const std::vector<int32_t> x = in.row(i);
                if (opt.stall_probability > 0) eie.set_stall(opt.stall_probability, input_seed(opt.stall_seed, in.index[i]));
                t = Clock::now();
                h.load_input(image, x, 0);
                r.times.input_io += seconds_since(t);
                t = Clock::now();
                h.run(0, L);
                r.times.compute += seconds_since(t);
                t = Clock::now();
                const std::vector<int32_t> out = h.read_output(image, L - 1);
                r.times.input_io += seconds_since(t);

                const RunStats& st = eie.stats();
                t = Clock::now();
                const auto golden = golden_run(image, x);
                const auto& model = eie.layer_outputs();
                std::vector<std::vector<int32_t>> got(model.begin(), model.begin() + std::min<std::size_t>(model.size(), L));
                got.resize(L);
                got[L - 1] = out;  // the last layer as the host read it back
                std::optional<Mismatch> mm = first_mismatch(image, golden, got);
                // The debug tap must agree with what the host read back.
                if (!mm) {
                    static const std::vector<int32_t> none;
                    mm = first_mismatch(image, L - 1, out, model.size() == L ? model.back() : none);
                }
                if (mm) {
                    r.bit_exact = false;
                    if (!r.first_mismatch) r.first_mismatch = BatchMismatch{i, in.index[i], *mm};
                }
                InferenceRecord rec;
                rec.index = in.index[i];
                const RunTotals tot = run_totals(st, N, clock_mhz);
                rec.cycles = tot.cycles;
                rec.time_us = tot.derived.time_us;
                rec.load_balance_efficiency = tot.derived.load_balance_efficiency;
                rec.energy_pj = estimate_energy(st.layers, image.arch, opt.energy_table).total_pj;
                rec.input_density.push_back(nonzero_share(x.data(), x.size()));
                for (uint32_t k = 0; k + 1 < L; ++k)
                    rec.input_density.push_back(nonzero_share(golden[k].data(), golden[k].size()));
                rec.saturations = in.saturations[i];
                rec.predicted = arg_max(out.data(), r.out_len);
                r.times.golden += seconds_since(t);
                add_run(r.stats, st);
                r.records.push_back(std::move(rec));
                r.raw_outputs.insert(r.raw_outputs.end(), out.begin(), out.end());
                if (done) done->fetch_add(1, std::memory_order_relaxed);
                if (opt.progress && seconds_since(last_progress) > 0.25) {
                    opt.progress(i + 1 - begin, end - begin);
                    last_progress = Clock::now();
                }
            }
        } catch (const std::exception& e) {
            error = e.what();
        }
        sc_core::sc_stop();  // the host program is the whole simulation
    });
    host.socket.bind(eie.socket);
    run_systemc();  // sc_start(), keeping AddressSanitizer in step with the main stack
    if (!error.empty()) throw std::runtime_error(error);
    r.input_io_cycles = eie.stats().io_cycles - r.image_load_io_cycles;
    r.io_bytes = eie.stats().io_bytes;
    r.times.total = seconds_since(t_all);
    return r;
}

// ---------------------------------------------------------------- workers
// A worker sends its BatchResult through a pipe in this byte format (same
// binary, same machine: plain copies of trivially copyable values).

struct Bytes {
    std::string buf;
    template <class T>
    void put(const T& v) {
        static_assert(std::is_trivially_copyable_v<T>);
        buf.append(reinterpret_cast<const char*>(&v), sizeof v);
    }
    template <class T>
    void put_vec(const std::vector<T>& v) {
        put<uint64_t>(v.size());
        buf.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    }
    void put_str(const std::string& s) {
        put<uint64_t>(s.size());
        buf += s;
    }
};

struct Reader {
    const std::string& buf;
    std::size_t at = 0;
    void need(std::size_t n) {
        if (at + n > buf.size()) throw std::runtime_error("batch worker: truncated result");
    }
    template <class T>
    T get() {
        T v;
        need(sizeof v);
        std::memcpy(&v, buf.data() + at, sizeof v);
        at += sizeof v;
        return v;
    }
    template <class T>
    std::vector<T> get_vec() {
        const uint64_t n = get<uint64_t>();
        need(n * sizeof(T));
        std::vector<T> v(n);
        std::memcpy(v.data(), buf.data() + at, n * sizeof(T));
        at += n * sizeof(T);
        return v;
    }
    std::string get_str() {
        const uint64_t n = get<uint64_t>();
        need(n);
        std::string s = buf.substr(at, n);
        at += n;
        return s;
    }
};

std::string serialise(const BatchResult& r) {
    Bytes b;
    b.put<uint64_t>(r.records.size());
    for (const InferenceRecord& x : r.records) {
        b.put(x.index);
        b.put(x.cycles);
        b.put(x.time_us);
        b.put(x.energy_pj);
        b.put(x.load_balance_efficiency);
        b.put_vec(x.input_density);
        b.put(x.saturations);
        b.put(x.predicted);
    }
    b.put_vec(r.raw_outputs);
    b.put<uint64_t>(r.stats.layers.size());
    for (const LayerStats& l : r.stats.layers) {
        b.put_str(l.name);
        b.put(l.in_len);
        b.put(l.out_len);
        b.put(l.batches);
        b.put(l.cycles);
        b.put(l.writeback_cycles);
        b.put(l.closed_form_cycles);
        b.put(l.useful_macs);
        b.put_vec(l.pe);
        b.put(l.ccu);
    }
    b.put(r.stats.compute_wall_seconds);
    b.put(r.image_load_io_cycles);
    b.put(r.input_io_cycles);
    b.put(r.io_bytes);
    b.put(r.image_load_bytes);
    b.put<uint8_t>(r.bit_exact);
    b.put<uint8_t>(r.first_mismatch.has_value());
    if (r.first_mismatch) {
        const BatchMismatch& m = *r.first_mismatch;
        b.put(m.input);
        b.put(m.file_row);
        b.put(m.where.layer);
        b.put_str(m.where.layer_name);
        b.put(m.where.row);
        b.put(m.where.expected);
        b.put(m.where.got);
    }
    b.put(r.times);
    return b.buf;
}

BatchResult deserialise(const std::string& buf) {
    Reader in{buf};
    BatchResult r;
    r.records.resize(in.get<uint64_t>());
    for (InferenceRecord& x : r.records) {
        x.index = in.get<uint64_t>();
        x.cycles = in.get<uint64_t>();
        x.time_us = in.get<double>();
        x.energy_pj = in.get<double>();
        x.load_balance_efficiency = in.get<double>();
        x.input_density = in.get_vec<double>();
        x.saturations = in.get<uint32_t>();
        x.predicted = in.get<int32_t>();
    }
    r.raw_outputs = in.get_vec<int32_t>();
    r.stats.layers.resize(in.get<uint64_t>());
    for (LayerStats& l : r.stats.layers) {
        l.name = in.get_str();
        l.in_len = in.get<uint32_t>();
        l.out_len = in.get<uint32_t>();
        l.batches = in.get<uint32_t>();
        l.cycles = in.get<uint64_t>();
        l.writeback_cycles = in.get<uint64_t>();
        l.closed_form_cycles = in.get<uint64_t>();
        l.useful_macs = in.get<uint64_t>();
        l.pe = in.get_vec<PeStats>();
        l.ccu = in.get<CcuStats>();
    }
    r.stats.compute_wall_seconds = in.get<double>();
    r.image_load_io_cycles = in.get<uint64_t>();
    r.input_io_cycles = in.get<uint64_t>();
    r.io_bytes = in.get<uint64_t>();
    r.image_load_bytes = in.get<uint64_t>();
    r.bit_exact = in.get<uint8_t>() != 0;
    if (in.get<uint8_t>()) {
        BatchMismatch m;
        m.input = in.get<uint64_t>();
        m.file_row = in.get<uint64_t>();
        m.where.layer = in.get<uint32_t>();
        m.where.layer_name = in.get_str();
        m.where.row = in.get<uint32_t>();
        m.where.expected = in.get<int32_t>();
        m.where.got = in.get<int32_t>();
        r.first_mismatch = m;
    }
    r.times = in.get<BatchTimes>();
    return r;
}

bool write_all(int fd, const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
        const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += std::size_t(n);
    }
    return true;
}

// Merges worker results (in input order) into one, as a single process would
// have produced it. The image is loaded once per worker; the figures report
// one load, as a --jobs 1 run does.
BatchResult merge(std::vector<BatchResult>& parts) {
    BatchResult r = std::move(parts.front());
    for (std::size_t w = 1; w < parts.size(); ++w) {
        BatchResult& p = parts[w];
        r.records.insert(r.records.end(), p.records.begin(), p.records.end());
        r.raw_outputs.insert(r.raw_outputs.end(), p.raw_outputs.begin(), p.raw_outputs.end());
        add_run(r.stats, p.stats);
        r.input_io_cycles += p.input_io_cycles;
        r.io_bytes += p.io_bytes - p.image_load_bytes;
        if (!p.bit_exact) r.bit_exact = false;
        if (!r.first_mismatch && p.first_mismatch) r.first_mismatch = p.first_mismatch;
        r.times.load += p.times.load;
        r.times.input_io += p.times.input_io;
        r.times.compute += p.times.compute;
        r.times.golden += p.times.golden;
    }
    return r;
}

BatchResult run_workers(const Image& image, const InputSet& in, const BatchOptions& opt, unsigned jobs) {
    const uint64_t n = in.size();
    // One shared counter per worker, for the progress display.
    void* shm = ::mmap(nullptr, sizeof(std::atomic<uint64_t>) * jobs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
    if (shm == MAP_FAILED) throw std::runtime_error(fmt::format("batch: mmap failed: {}", std::strerror(errno)));
    auto* counters = static_cast<std::atomic<uint64_t>*>(shm);
    for (unsigned w = 0; w < jobs; ++w) new (&counters[w]) std::atomic<uint64_t>(0);

    struct Worker {
        pid_t pid = -1;
        int fd = -1;
        std::string data;
        bool open = true;
    };
    std::vector<Worker> workers(jobs);
    std::cout.flush();
    std::cerr.flush();
    const pid_t parent = ::getpid();
    for (unsigned w = 0; w < jobs; ++w) {
        const uint64_t begin = n * w / jobs, end = n * (w + 1) / jobs;
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("batch: pipe failed: {}", std::strerror(errno)));
        const pid_t pid = ::fork();
        if (pid < 0) throw std::runtime_error(fmt::format("batch: fork failed: {}", std::strerror(errno)));
        if (pid == 0) {
            ::close(fds[0]);
            for (unsigned v = 0; v < w; ++v) ::close(workers[v].fd);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a killed eie-sim leaves no workers behind
            if (::getppid() != parent) ::_exit(3);
            std::string msg;
            try {
                BatchOptions o = opt;
                o.progress = nullptr;
                msg = "R" + serialise(run_range(image, in, begin, end, o, &counters[w]));
            } catch (const std::exception& e) {
                msg = std::string("E") + e.what();
            }
            ::_exit(write_all(fds[1], msg) ? 0 : 3);
        }
        ::close(fds[1]);
        workers[w].pid = pid;
        workers[w].fd = fds[0];
    }
    std::vector<pollfd> pfd;
    char chunk[1 << 16];
    for (;;) {
        pfd.clear();
        for (auto& w : workers)
            if (w.open) pfd.push_back({w.fd, POLLIN, 0});
        if (pfd.empty()) break;
        const int k = ::poll(pfd.data(), pfd.size(), 250);
        if (k < 0 && errno != EINTR) throw std::runtime_error(fmt::format("batch: poll failed: {}", std::strerror(errno)));
        for (auto& w : workers) {
            if (!w.open) continue;
            auto it = std::find_if(pfd.begin(), pfd.end(), [&](const pollfd& p) { return p.fd == w.fd; });
            if (it == pfd.end() || !(it->revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t got = ::read(w.fd, chunk, sizeof chunk);
            if (got > 0) {
                w.data.append(chunk, std::size_t(got));
            } else if (got == 0 || errno != EINTR) {
                ::close(w.fd);
                w.open = false;
            }
        }
        if (opt.progress) {
            uint64_t done = 0;
            for (unsigned w = 0; w < jobs; ++w) done += counters[w].load(std::memory_order_relaxed);
            opt.progress(done, n);
        }
    }
    std::string failure;
    std::vector<BatchResult> parts;
    for (unsigned w = 0; w < jobs; ++w) {
        int status = 0;
        while (::waitpid(workers[w].pid, &status, 0) < 0 && errno == EINTR) {
        }
        const std::string& d = workers[w].data;
        if (!failure.empty()) continue;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || d.empty())
            failure = fmt::format("batch worker {} (pid {}) {}", w, workers[w].pid,
                                  WIFSIGNALED(status) ? fmt::format("was killed by signal {}", WTERMSIG(status))
                                                      : "ended without a result");
        else if (d[0] == 'E')
            failure = d.substr(1);
        else
            parts.push_back(deserialise(d.substr(1)));
    }
    ::munmap(shm, sizeof(std::atomic<uint64_t>) * jobs);
    if (!failure.empty()) throw std::runtime_error(failure);
    return merge(parts);
}

nlohmann::json distribution_json(const Distribution& d) {
    return {{"min", d.min}, {"mean", d.mean}, {"median", d.median}, {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
}

template <class F>
std::vector<double> column(const BatchResult& r, F f) {
    std::vector<double> v;
    v.reserve(r.records.size());
    for (const InferenceRecord& x : r.records) v.push_back(double(f(x)));
    return v;
}

uint32_t density_layers(const BatchResult& r) {
    return r.records.empty() ? 0u : static_cast<uint32_t>(r.records.front().input_density.size());
}

}  // namespace

// ---------------------------------------------------------------- inputs

std::vector<int32_t> InputSet::row(uint64_t i) const {
    return std::vector<int32_t>(values.begin() + i * in_len, values.begin() + (i + 1) * in_len);
}

InputSet load_inputs(const std::string& path, const Image& image, const InputSelection& selection) {
    if (image.layers.empty()) throw BatchInputError("the image has no layers");
    NpyArray a;
    const bool idx = looks_like_idx(path);
    try {
        a = idx ? read_idx_images(path) : read_npy(path);
    } catch (const IdxError& e) {
        throw BatchInputError(e.what());
    } catch (const NpyError& e) {
        throw BatchInputError(e.what());
    }
    return inputs_from_array(a, path, image, selection, idx);
}

InputSet inputs_from_array(const NpyArray& a, const std::string& path, const Image& image,
                           const InputSelection& selection, bool idx) {
    if (image.layers.empty()) throw BatchInputError("the image has no layers");
    const LayerDesc& first = image.layers.front();
    InputSet s;
    s.source = path;
    s.selection = selection;
    s.in_len = first.in_len;
    const bool raw = !idx && integer_dtype(a.dtype);
    s.kind = idx ? "idx images" : raw ? "raw fixed point" : "float";
    uint64_t rows = 0, cols = 0;
    if (a.shape.size() == 1) {
        rows = 1;
        cols = a.shape[0];
    } else if (a.shape.size() == 2) {
        rows = a.shape[0];
        cols = a.shape[1];
    } else {
        throw BatchInputError(fmt::format("{}: shape {}: inputs must be (N, {}) or ({},) for the first layer '{}'", path,
                                          shape_text(a.shape), first.in_len, first.in_len, first.name));
    }
    if (cols != first.in_len)
        throw BatchInputError(fmt::format("{}: shape {}: {} values per input, but the first layer '{}' takes {} "
                                          "(allowed: (N, {}) or ({},))",
                                          path, shape_text(a.shape), cols, first.name, first.in_len, first.in_len,
                                          first.in_len));
    if (rows == 0) throw BatchInputError(fmt::format("{}: shape {}: no inputs", path, shape_text(a.shape)));
    s.file_rows = rows;
    s.index = select_rows(path, rows, selection);
    const unsigned bits = image.arch.act_bits;
    const int frac = first.fmt.in_frac;
    s.values.resize(s.index.size() * cols);
    s.saturations.assign(s.index.size(), 0);
    for (uint64_t i = 0; i < s.index.size(); ++i) {
        const double* src = a.data.data() + s.index[i] * cols;
        int32_t* dst = s.values.data() + i * cols;
        for (uint64_t c = 0; c < cols; ++c) {
            const double x = src[c];
            if (!std::isfinite(x))
                throw BatchInputError(fmt::format("{}: input {} value {} is {} (allowed: finite numbers)", path,
                                                  s.index[i], c, std::isnan(x) ? "NaN" : (x > 0 ? "+Inf" : "-Inf")));
            if (raw) {
                if (x < double(fx::min_value(bits)) || x > double(fx::max_value(bits)))
                    throw BatchInputError(fmt::format(
                        "{}: input {} value {} is {}, outside the {}-bit fixed-point range (allowed for an integer "
                        "array, taken as raw fixed point: {} .. {})",
                        path, s.index[i], c, int64_t(x), bits, fx::min_value(bits), fx::max_value(bits)));
                dst[c] = static_cast<int32_t>(x);
            } else {
                dst[c] = fx::quantize(x, frac, bits);
                const double scaled = std::round(std::ldexp(x, frac));
                s.saturations[i] += scaled > double(fx::max_value(bits)) || scaled < double(fx::min_value(bits));
            }
        }
    }
    return s;
}

namespace {
std::vector<int64_t> select_labels(const std::vector<int64_t>& all, const std::string& path, const InputSet& inputs,
                                   uint32_t num_classes);
}  // namespace

std::vector<int64_t> load_labels(const std::string& path, const InputSet& inputs, uint32_t num_classes) {
    std::vector<int64_t> all;
    if (looks_like_idx(path)) {
        try {
            all = read_idx_labels(path);
        } catch (const IdxError& e) {
            throw BatchInputError(e.what());
        }
    } else {
        NpyArray a;
        try {
            a = read_npy(path);
        } catch (const NpyError& e) {
            throw BatchInputError(e.what());
        }
        return labels_from_array(a, path, inputs, num_classes);
    }
    return select_labels(all, path, inputs, num_classes);
}

std::vector<int64_t> labels_from_array(const NpyArray& a, const std::string& path, const InputSet& inputs,
                                       uint32_t num_classes) {
    if (!integer_dtype(a.dtype))
        throw BatchInputError(fmt::format("{}: dtype '{}': labels must be integers (allowed: an integer .npy or an "
                                          "IDX idx1 file)",
                                          path, a.dtype));
    if (a.shape.size() != 1)
        throw BatchInputError(fmt::format("{}: shape {}: labels must be one-dimensional (N,)", path, shape_text(a.shape)));
    std::vector<int64_t> all;
    all.reserve(a.data.size());
    for (double v : a.data) all.push_back(static_cast<int64_t>(v));
    return select_labels(all, path, inputs, num_classes);
}

namespace {

std::vector<int64_t> select_labels(const std::vector<int64_t>& all, const std::string& path, const InputSet& inputs,
                                   uint32_t num_classes) {
    if (all.size() != inputs.file_rows)
        throw BatchInputError(fmt::format("{}: {} label{} but {} holds {} input{} (allowed: one label per input)", path,
                                          all.size(), all.size() == 1 ? "" : "s", inputs.source, inputs.file_rows,
                                          inputs.file_rows == 1 ? "" : "s"));
    std::vector<int64_t> out;
    out.reserve(inputs.size());
    for (uint64_t row : inputs.index) {
        const int64_t l = all[row];
        if (l < 0 || l >= int64_t(num_classes))
            throw BatchInputError(fmt::format("{}: label {} is {}, out of range for the last layer's {} outputs "
                                              "(allowed: 0 .. {})",
                                              path, row, l, num_classes, num_classes - 1));
        out.push_back(l);
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------- the run

BatchResult run_batch(const Image& image, const InputSet& inputs, const BatchOptions& options) {
    if (image.layers.empty()) throw BatchInputError("the image has no layers");
    if (inputs.in_len != image.layers.front().in_len)
        throw BatchInputError(fmt::format("{}: {} values per input, the first layer takes {}", inputs.source,
                                          inputs.in_len, image.layers.front().in_len));
    if (inputs.size() == 0) throw BatchInputError(fmt::format("{}: no inputs selected", inputs.source));
    const auto t0 = Clock::now();
    const unsigned jobs = static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(options.jobs, inputs.size())));
    BatchResult r = jobs == 1 ? run_range(image, inputs, 0, inputs.size(), options, nullptr)
                              : run_workers(image, inputs, options, jobs);
    if (options.progress) options.progress(inputs.size(), inputs.size());
    r.jobs = jobs;
    r.arch = image.arch;
    r.out_len = image.layers.back().out_len;
    for (std::size_t k = 0; k < r.stats.layers.size() && k < image.layers.size(); ++k)
        r.stats.layers[k].name = image.layers[k].name;
    r.stats.io_cycles = r.image_load_io_cycles + r.input_io_cycles;
    r.stats.io_bytes = r.io_bytes;
    r.times.total = seconds_since(t0);
    return r;
}

std::vector<float> dequantised_outputs(const BatchResult& result, const Image& image) {
    const int frac = image.layers.back().fmt.out_frac;
    std::vector<float> v(result.raw_outputs.size());
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(fx::dequantize(result.raw_outputs[i], frac));
    return v;
}

// ---------------------------------------------------------------- figures

Distribution distribution(std::vector<double> v) {
    Distribution d;
    if (v.empty()) return d;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) {
        const double pos = p / 100.0 * double(v.size() - 1);
        const std::size_t lo = static_cast<std::size_t>(std::floor(pos));
        const std::size_t hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
    };
    d.min = v.front();
    d.max = v.back();
    d.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    d.median = pct(50);
    d.p90 = pct(90);
    d.p99 = pct(99);
    return d;
}

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
    const std::size_t n = std::min(x.size(), y.size());
    if (n < 2) return 0.0;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
    mx /= double(n);
    my /= double(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : 0.0;
}

std::optional<double> AccuracyReport::top5() const {
    if (!top5_correct) return std::nullopt;
    return count ? double(*top5_correct) / double(count) : 0.0;
}

AccuracyReport accuracy(const BatchResult& r, const std::vector<int64_t>& labels) {
    AccuracyReport a;
    a.classes = r.out_len;
    a.count = r.records.size();
    a.confusion.assign(a.classes, std::vector<uint64_t>(a.classes, 0));
    if (a.classes >= 5) a.top5_correct = 0;
    for (std::size_t i = 0; i < r.records.size() && i < labels.size(); ++i) {
        const int32_t* out = r.raw_outputs.data() + i * r.out_len;
        const uint32_t label = static_cast<uint32_t>(labels[i]);
        const int32_t pred = r.records[i].predicted;
        a.top1_correct += pred == int32_t(label);
        if (label < a.classes && pred >= 0) ++a.confusion[label][uint32_t(pred)];
        if (a.top5_correct) *a.top5_correct += in_top_k(out, r.out_len, label, 5);
    }
    return a;
}

nlohmann::json batch_json(const BatchResult& r, const InputSet& in, const Image& image,
                          const std::optional<AccuracyReport>& acc, const std::string& labels_path) {
    nlohmann::json j;
    j["inputs"] = {{"source", in.source},
                   {"kind", in.kind},
                   {"in_len", in.in_len},
                   {"file_rows", in.file_rows},
                   {"first", in.selection.first},
                   {"count", in.selection.count ? nlohmann::json(*in.selection.count) : nlohmann::json(nullptr)},
                   {"every", in.selection.every},
                   {"in_frac", image.layers.front().fmt.in_frac}};
    j["count"] = r.records.size();
    j["jobs"] = r.jobs;
    j["out_len"] = r.out_len;
    j["out_frac"] = image.layers.back().fmt.out_frac;
    j["bit_exact"] = r.bit_exact;
    if (r.first_mismatch) {
        const BatchMismatch& m = *r.first_mismatch;
        j["first_mismatch"] = {{"input", m.input},           {"file_row", m.file_row},
                               {"layer", m.where.layer},     {"layer_name", m.where.layer_name},
                               {"row", m.where.row},         {"expected", m.where.expected},
                               {"got", m.where.got},         {"reference", "the golden model"}};
    } else {
        j["first_mismatch"] = nullptr;
    }
    const auto cycles = column(r, [](const InferenceRecord& x) { return x.cycles; });
    nlohmann::json per;
    per["cycles"] = distribution_json(distribution(cycles));
    per["time_us"] = distribution_json(distribution(column(r, [](const InferenceRecord& x) { return x.time_us; })));
    per["energy_pj"] = distribution_json(distribution(column(r, [](const InferenceRecord& x) { return x.energy_pj; })));
    per["load_balance_efficiency"] = distribution_json(
        distribution(column(r, [](const InferenceRecord& x) { return x.load_balance_efficiency; })));
    nlohmann::json dens = nlohmann::json::array(), corr = nlohmann::json::array();
    for (uint32_t k = 0; k < density_layers(r); ++k) {
        const auto d = column(r, [k](const InferenceRecord& x) { return x.input_density[k]; });
        dens.push_back({{"layer", k}, {"layer_name", image.layers[k].name}, {"distribution", distribution_json(distribution(d))}});
        corr.push_back({{"layer", k}, {"layer_name", image.layers[k].name}, {"pearson_r", correlation(d, cycles)}});
    }
    per["input_density"] = dens;
    uint64_t sat = 0, sat_inputs = 0;
    for (const InferenceRecord& x : r.records) sat += x.saturations, sat_inputs += x.saturations > 0;
    per["saturations"] = {{"values", sat}, {"inputs", sat_inputs}};
    j["per_inference"] = per;
    j["cycles_vs_input_density"] = corr;
    if (acc) {
        nlohmann::json a = {{"labels", labels_path},
                            {"count", acc->count},
                            {"classes", acc->classes},
                            {"top1", acc->top1()},
                            {"top1_correct", acc->top1_correct},
                            {"top5", acc->top5() ? nlohmann::json(*acc->top5()) : nlohmann::json(nullptr)},
                            {"top5_correct", acc->top5_correct ? nlohmann::json(*acc->top5_correct) : nlohmann::json(nullptr)},
                            {"confusion", acc->confusion}};
        j["accuracy"] = a;
    } else {
        j["accuracy"] = nullptr;
    }
    const double mhz = r.arch.clock_mhz;
    j["io"] = {{"image_load_cycles", r.image_load_io_cycles},
               {"image_load_us", double(r.image_load_io_cycles) / mhz},
               {"input_io_cycles", r.input_io_cycles},
               {"input_io_us", double(r.input_io_cycles) / mhz},
               {"bytes", r.io_bytes}};
    j["host_seconds"] = {{"image_load", r.times.load},  {"input_io", r.times.input_io}, {"compute", r.times.compute},
                         {"golden_check", r.times.golden}, {"total", r.times.total}};
    j["inferences_per_second"] = r.times.total > 0 ? double(r.records.size()) / r.times.total : 0.0;
    return j;
}

std::string format_batch_summary(const BatchResult& r, const InputSet& in, const Image& image,
                                 const std::optional<AccuracyReport>& acc) {
    std::string s;
    s += fmt::format("\nInputs: {} ({}), {} of {} (first {}, every {}), {} job{}\n", in.source, in.kind,
                     r.records.size(), in.file_rows, in.selection.first, in.selection.every, r.jobs,
                     r.jobs == 1 ? "" : "s");
    const auto row = [&](const char* name, const Distribution& d, const char* f) {
        return fmt::format(fmt::runtime(std::string("  {:<22}") + f + f + f + f + f + f + "\n"), name, d.min, d.mean,
                           d.median, d.p90, d.p99, d.max);
    };
    s += fmt::format("  {:<22}{:>12}{:>12}{:>12}{:>12}{:>12}{:>12}\n", "per inference", "min", "mean", "median", "p90",
                     "p99", "max");
    const auto cycles = column(r, [](const InferenceRecord& x) { return x.cycles; });
    s += row("cycles", distribution(cycles), "{:>12.0f}");
    s += row("time us", distribution(column(r, [](const InferenceRecord& x) { return x.time_us; })), "{:>12.3f}");
    s += row("energy nJ", distribution(column(r, [](const InferenceRecord& x) { return x.energy_pj * 1e-3; })),
             "{:>12.3f}");
    s += row("load balance", distribution(column(r, [](const InferenceRecord& x) { return x.load_balance_efficiency; })),
             "{:>12.3f}");
    for (uint32_t k = 0; k < density_layers(r); ++k) {
        const auto d = column(r, [k](const InferenceRecord& x) { return x.input_density[k]; });
        s += row(fmt::format("input density {}", image.layers[k].name).substr(0, 22).c_str(), distribution(d),
                 "{:>12.3f}");
        s += fmt::format("    cycles vs input density of {}: Pearson r = {:.3f}\n", image.layers[k].name,
                         correlation(d, cycles));
    }
    uint64_t sat = 0, sat_inputs = 0;
    for (const InferenceRecord& x : r.records) sat += x.saturations, sat_inputs += x.saturations > 0;
    if (in.kind != "raw fixed point")
        s += fmt::format("  input saturations: {} value{} in {} input{} (input format: {} fractional bits)\n", sat,
                         sat == 1 ? "" : "s", sat_inputs, sat_inputs == 1 ? "" : "s", image.layers.front().fmt.in_frac);
    const double mhz = r.arch.clock_mhz;
    s += fmt::format("  host I/O: image load {:.1f} us once, inputs and outputs {:.1f} us ({:.2f} us per inference)\n",
                     double(r.image_load_io_cycles) / mhz, double(r.input_io_cycles) / mhz,
                     r.records.empty() ? 0.0 : double(r.input_io_cycles) / mhz / double(r.records.size()));
    s += fmt::format("  host time: {:.2f} s ({:.0f} inferences/s); load {:.2f} s, input I/O {:.2f} s, computing {:.2f} s, "
                     "golden check {:.2f} s (workers' times summed)\n",
                     r.times.total, r.times.total > 0 ? double(r.records.size()) / r.times.total : 0.0, r.times.load,
                     r.times.input_io, r.times.compute, r.times.golden);
    if (acc) {
        s += fmt::format("\nAccuracy over {} labelled input{}: top-1 {:.2f} % ({} of {})", acc->count,
                         acc->count == 1 ? "" : "s", 100.0 * acc->top1(), acc->top1_correct, acc->count);
        if (acc->top5()) s += fmt::format(", top-5 {:.2f} % ({} of {})", 100.0 * *acc->top5(), *acc->top5_correct, acc->count);
        s += "\n";
        if (acc->classes <= 20) {
            s += "  confusion (rows: label, columns: predicted)\n       ";
            for (uint32_t c = 0; c < acc->classes; ++c) s += fmt::format("{:>6}", c);
            s += "\n";
            for (uint32_t l = 0; l < acc->classes; ++l) {
                s += fmt::format("  {:>5}", l);
                for (uint32_t c = 0; c < acc->classes; ++c) s += fmt::format("{:>6}", acc->confusion[l][c]);
                s += "\n";
            }
        } else {
            s += fmt::format("  confusion matrix: {} x {} classes, in the statistics JSON\n", acc->classes, acc->classes);
        }
    }
    return s;
}

nlohmann::json to_json(const InferenceRecord& x) {
    return {{"index", x.index},
            {"cycles", x.cycles},
            {"time_us", x.time_us},
            {"energy_pj", x.energy_pj},
            {"load_balance_efficiency", x.load_balance_efficiency},
            {"input_density", x.input_density},
            {"saturations", x.saturations},
            {"predicted", x.predicted}};
}

std::string per_input_csv(const BatchResult& r, const std::vector<int64_t>& labels) {
    std::string s = "input,file_row,label,predicted,correct,cycles,time_us,energy_pj,load_balance_efficiency,saturations";
    for (uint32_t k = 0; k < density_layers(r); ++k) s += fmt::format(",input_density_L{}", k);
    s += "\n";
    for (std::size_t i = 0; i < r.records.size(); ++i) {
        const InferenceRecord& x = r.records[i];
        const bool labelled = i < labels.size();
        s += fmt::format("{},{},{},{},{},{},{:.6f},{:.3f},{:.6f},{}", i, x.index, labelled ? std::to_string(labels[i]) : "",
                         x.predicted, labelled ? (labels[i] == x.predicted ? "1" : "0") : "", x.cycles, x.time_us,
                         x.energy_pj, x.load_balance_efficiency, x.saturations);
        for (double d : x.input_density) s += fmt::format(",{:.6f}", d);
        s += "\n";
    }
    return s;
}

}  // namespace eie
