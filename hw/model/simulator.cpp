#include "eie/hw/model/simulator.hpp"

#include <chrono>
#include <cstdlib>

#include <systemc>

#include "eie/hw/golden.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/host_driver.hpp"
#include "eie/hw/model/systemc_run.hpp"

namespace eie {

// SystemC elaborates once per simulation context; a new context per run
// lets one process (a test binary, a sweep worker) simulate many images.
void new_simulation_context() {
    static bool used = false;
    if (!used) {
        // Quiet kernel: no banner, no "stopped by user" note on every run.
        setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
        sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
    }
    if (used) {
        sc_core::sc_curr_simcontext = new sc_core::sc_simcontext();
        sc_core::sc_default_global_context = sc_core::sc_curr_simcontext;
    }
    used = true;
}

std::optional<Mismatch> first_mismatch(const Image& image, uint32_t layer, const std::vector<int32_t>& expected,
                                       const std::vector<int32_t>& got) {
    const std::size_t n = std::min(expected.size(), got.size());
    std::size_t row = 0;
    while (row < n && expected[row] == got[row]) ++row;
    if (row == n && expected.size() == got.size()) return std::nullopt;
    const std::string name = layer < image.layers.size() ? image.layers[layer].name : std::string();
    return Mismatch{layer, name, uint32_t(row), row < expected.size() ? expected[row] : 0,
                    row < got.size() ? got[row] : 0};
}

std::optional<Mismatch> first_mismatch(const Image& image, const std::vector<std::vector<int32_t>>& expected,
                                       const std::vector<std::vector<int32_t>>& got) {
    static const std::vector<int32_t> none;
    for (std::size_t k = 0; k < expected.size(); ++k)
        if (auto m = first_mismatch(image, uint32_t(k), expected[k], k < got.size() ? got[k] : none)) return m;
    return std::nullopt;
}

SimResult simulate(const Image& image, const SimOptions& options) {
    auto t0 = std::chrono::steady_clock::now();
    SimResult r;
    r.arch = image.arch;
    r.golden = golden_run(image, image.input);
    if (!image.layers.empty()) r.output_frac = image.layers.back().fmt.out_frac;

    new_simulation_context();
    Eie eie("eie", image.arch);
    eie.set_stall(options.stall_probability, options.stall_seed);
    std::string error;
    HostDriver host("host", eie.irq, [&](HostDriver& h) {
        try {
            h.load_image(image);
            h.run(0, static_cast<uint32_t>(image.layers.size()));
            r.read_back = h.read_output(image, static_cast<uint32_t>(image.layers.size() - 1));
        } catch (const std::exception& e) {
            error = e.what();
        }
        sc_core::sc_stop();  // the host program is the whole simulation
    });
    host.socket.bind(eie.socket);
    if (options.on_elaborated) options.on_elaborated(eie);
    run_systemc();  // sc_start(), keeping AddressSanitizer in step with the main stack
    if (!error.empty()) throw std::runtime_error(error);

    r.stats = eie.stats();
    r.outputs = eie.layer_outputs();
    r.io_time_ns = host.io_time().to_seconds() * 1e9;
    for (std::size_t k = 0; k < r.stats.layers.size() && k < image.layers.size(); ++k)
        r.stats.layers[k].name = image.layers[k].name;

    r.bit_exact = r.outputs.size() == r.golden.size();
    r.first_mismatch = first_mismatch(image, r.golden, r.outputs);
    if (!r.first_mismatch && !r.golden.empty())
        r.first_mismatch = first_mismatch(image, uint32_t(r.golden.size() - 1), r.golden.back(), r.read_back);
    r.bit_exact = r.bit_exact && !r.first_mismatch;
    r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace eie
