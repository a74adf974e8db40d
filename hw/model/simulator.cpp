#include "eie/hw/model/simulator.hpp"

#include <chrono>
#include <cstdlib>

#include <systemc>

#include "eie/hw/golden.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/host_driver.hpp"

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
    sc_core::sc_start();
    if (!error.empty()) throw std::runtime_error(error);

    r.stats = eie.stats();
    r.outputs = eie.layer_outputs();
    r.io_time_ns = host.io_time().to_seconds() * 1e9;
    for (std::size_t k = 0; k < r.stats.layers.size() && k < image.layers.size(); ++k)
        r.stats.layers[k].name = image.layers[k].name;

    r.bit_exact = r.outputs.size() == r.golden.size();
    for (std::size_t k = 0; k < r.golden.size() && k < r.outputs.size() && !r.first_mismatch; ++k) {
        for (std::size_t i = 0; i < r.golden[k].size(); ++i) {
            if (r.outputs[k][i] != r.golden[k][i]) {
                r.first_mismatch = Mismatch{uint32_t(k), image.layers[k].name, uint32_t(i), r.golden[k][i],
                                            r.outputs[k][i]};
                break;
            }
        }
    }
    if (!r.first_mismatch && !r.golden.empty() && r.read_back != r.golden.back()) {
        for (std::size_t i = 0; i < r.read_back.size(); ++i)
            if (r.read_back[i] != r.golden.back()[i]) {
                r.first_mismatch = Mismatch{uint32_t(r.golden.size() - 1), image.layers.back().name, uint32_t(i),
                                            r.golden.back()[i], r.read_back[i]};
                break;
            }
    }
    r.bit_exact = r.bit_exact && !r.first_mismatch;
    r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace eie
