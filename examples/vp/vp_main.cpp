// eie_vp: a virtual platform with the EIE model as one of its components.
//
//   Cpu (TLM initiator, runs the driver program)
//    |
//   Bus (router: address -> target, offset)
//    |-- 0x0000_0000_0000 .. : Eie (registers, descriptors, PE windows)
//    '-- 0x0100_0000_0000 .. : Memory (the load list, the input, the results)
//
// The platform's "boot loader" puts into memory the image loader's write
// list (eie/hw/model/image_loader.hpp) as records {address, length, bytes}.
// The driver program copies every record from memory to the accelerator
// through the bus, starts the layer sequence, sleeps until the interrupt,
// then copies the last layer's output from the PE windows to memory. The
// platform finally compares that memory with the golden model.
//
// Usage: eie_vp IMAGE_DIR   (exit 0: outputs equal the golden model)
#include <cstdint>
#include <cstring>
#include <iostream>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "eie/hw/golden.hpp"
#include "eie/hw/image_io.hpp"
#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/image_loader.hpp"
#include "eie/hw/model/memory_map.hpp"
#include "eie/hw/model/systemc_run.hpp"

using namespace sc_core;

namespace {

constexpr uint64_t kMemBase = 0x100'0000'0000ull;
constexpr uint64_t kMemSize = 64ull << 20;

// A RAM with a fixed access time.
struct Memory : sc_module {
    tlm_utils::simple_target_socket<Memory> socket;
    std::vector<uint8_t> bytes;
    explicit Memory(sc_module_name n) : sc_module(n), socket("socket"), bytes(kMemSize) {
        socket.register_b_transport(this, &Memory::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        const uint64_t a = t.get_address(), len = t.get_data_length();
        if (a + len > bytes.size()) return t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
        if (t.is_write()) std::memcpy(&bytes[a], t.get_data_ptr(), len);
        else std::memcpy(t.get_data_ptr(), &bytes[a], len);
        delay += sc_time(10, SC_NS);
        t.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// Routes by address: [0, kMemBase) to the accelerator, [kMemBase, ...) to memory.
struct Bus : sc_module {
    tlm_utils::simple_target_socket<Bus> in;
    tlm_utils::simple_initiator_socket<Bus> to_eie, to_mem;
    explicit Bus(sc_module_name n) : sc_module(n), in("in"), to_eie("to_eie"), to_mem("to_mem") {
        in.register_b_transport(this, &Bus::b_transport);
    }
    void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
        const uint64_t a = t.get_address();
        if (a >= kMemBase) {
            t.set_address(a - kMemBase);
            to_mem->b_transport(t, delay);
            t.set_address(a);
        } else {
            to_eie->b_transport(t, delay);
        }
    }
};

// A CPU-like initiator: word and block accesses over the bus, interrupts,
// and a driver program in its thread.
struct Cpu : sc_module {
    tlm_utils::simple_initiator_socket<Cpu> socket;
    sc_in<bool> irq;
    bool ok = false;
    uint64_t out_len = 0;
    explicit Cpu(sc_module_name n) : sc_module(n), socket("socket"), irq("irq") { SC_THREAD(driver_program); }
    SC_HAS_PROCESS(Cpu);

    void access(bool write, uint64_t addr, void* data, uint32_t len) {
        tlm::tlm_generic_payload t;
        sc_time delay = SC_ZERO_TIME;
        t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        t.set_address(addr);
        t.set_data_ptr(static_cast<unsigned char*>(data));
        t.set_data_length(len);
        t.set_streaming_width(len);
        t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        socket->b_transport(t, delay);
        wait(delay);
        if (!t.is_response_ok()) {
            std::cerr << "eie_vp: cpu: " << (write ? "write" : "read") << " at 0x" << std::hex << addr << std::dec
                      << " failed: " << t.get_response_string() << "\n";
            throw std::runtime_error("bus error");
        }
    }
    uint32_t read32(uint64_t a) { uint32_t v = 0; access(false, a, &v, 4); return v; }
    uint64_t read64(uint64_t a) { uint64_t v = 0; access(false, a, &v, 8); return v; }
    void write32(uint64_t a, uint32_t v) { access(true, a, &v, 4); }
    // memcpy between two bus addresses through a 4 KiB buffer.
    void copy(uint64_t dst, uint64_t src, uint64_t len) {
        std::vector<uint8_t> buf(4096);
        for (uint64_t done = 0; done < len;) {
            const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(buf.size(), len - done));
            access(false, src + done, buf.data(), n);
            access(true, dst + done, buf.data(), n);
            done += n;
        }
    }

    // The driver: memory layout (set up by the platform) at kMemBase:
    //   +0  number of load records, +8  number of output reads, +16 first layer, +20 layers
    //   +64 load records {u64 address, u64 length, bytes padded to 8}, then
    //   output reads {u64 address, u64 words, u64 destination in memory}.
    void driver_program() {
        try {
            if (read32(eie::mmap::kRegId) != eie::mmap::kIdValue) throw std::runtime_error("no EIE at address 0");
            const uint64_t records = read64(kMemBase), reads = read64(kMemBase + 8);
            uint64_t p = kMemBase + 64;
            for (uint64_t r = 0; r < records; ++r) {
                const uint64_t addr = read64(p), len = read64(p + 8);
                copy(addr, p + 16, len);
                p += 16 + ((len + 7) & ~7ull);
            }
            write32(eie::mmap::kRegFirstLayer, read32(kMemBase + 16));
            write32(eie::mmap::kRegNumLayers, read32(kMemBase + 20));
            write32(eie::mmap::kRegCtrl, eie::mmap::kCtrlIrqEnable | eie::mmap::kCtrlStart);
            while (!irq.read()) wait(irq.posedge_event());
            const uint32_t status = read32(eie::mmap::kRegStatus);
            write32(eie::mmap::kRegCtrl, eie::mmap::kCtrlIrqEnable | eie::mmap::kCtrlIrqClear);
            if (status & eie::mmap::kStatusError) throw std::runtime_error("the accelerator reported ERROR");
            for (uint64_t r = 0; r < reads; ++r, p += 24) copy(read64(p + 16), read64(p), read64(p + 8) * 4);
            ok = true;
        } catch (const std::exception& e) {
            std::cerr << "eie_vp: driver program: " << e.what() << "\n";
        }
        sc_stop();  // this platform's whole job is the one inference
    }
};

template <class T>
void put(std::vector<uint8_t>& mem, uint64_t at, T v) { std::memcpy(&mem[at], &v, sizeof v); }

}  // namespace

int sc_main(int argc, char* argv[]) {
    if (argc != 2) {
        std::cerr << "usage: eie_vp IMAGE_DIR\n";
        return 2;
    }
    eie::Image image;
    try {
        image = eie::read_image_dir(argv[1]);
    } catch (const std::exception& e) {
        std::cerr << "eie_vp: " << e.what() << "\n";
        return 2;
    }
    const uint32_t last = static_cast<uint32_t>(image.layers.size() - 1);

    sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);  // no "stopped by user"
    eie::Eie accel("eie", image.arch);
    Memory mem("mem");
    Bus bus("bus");
    Cpu cpu("cpu");
    cpu.socket.bind(bus.in);
    bus.to_eie.bind(accel.socket);
    bus.to_mem.bind(mem.socket);
    cpu.irq(accel.irq);

    // Boot loader: the load list and the output reads into memory.
    const std::vector<eie::BusWrite> writes = eie::image_writes(image);
    const std::vector<eie::OutputRead> reads = eie::output_reads(image, last);
    put<uint64_t>(mem.bytes, 0, writes.size());
    put<uint64_t>(mem.bytes, 8, reads.size());
    put<uint32_t>(mem.bytes, 16, 0);
    put<uint32_t>(mem.bytes, 20, last + 1);
    uint64_t p = 64;
    for (const eie::BusWrite& w : writes) {
        put<uint64_t>(mem.bytes, p, w.addr);
        put<uint64_t>(mem.bytes, p + 8, w.data.size());
        std::memcpy(&mem.bytes[p + 16], w.data.data(), w.data.size());
        p += 16 + ((w.data.size() + 7) & ~size_t(7));
    }
    const uint64_t results = (p + reads.size() * 24 + 4095) & ~uint64_t(4095);
    uint64_t dst = results;
    for (const eie::OutputRead& r : reads) {
        put<uint64_t>(mem.bytes, p, r.addr);
        put<uint64_t>(mem.bytes, p + 8, r.words);
        put<uint64_t>(mem.bytes, p + 16, kMemBase + dst);
        p += 24;
        dst += uint64_t(r.words) * 4;
    }

    // sc_start(), made safe for AddressSanitizer builds (docs/embedding.md).
    eie::run_systemc();
    if (!cpu.ok) return 1;

    // The results in memory, against the golden model.
    std::vector<std::vector<uint32_t>> words;
    dst = results;
    for (const eie::OutputRead& r : reads) {
        words.emplace_back(r.words);
        std::memcpy(words.back().data(), &mem.bytes[dst], uint64_t(r.words) * 4);
        dst += uint64_t(r.words) * 4;
    }
    const std::vector<int32_t> got = eie::assemble_output(image, last, words);
    const std::vector<int32_t> want = eie::golden_run(image, image.input).back();
    const bool exact = got == want;
    std::cout << "eie_vp: " << image.layers.size() << " layer(s) on " << image.arch.num_pes << " PEs, "
              << accel.stats().compute_cycles() << " computing cycles, " << got.size() << " outputs, "
              << (exact ? "equal to the golden model" : "MISMATCH against the golden model") << ", at "
              << sc_time_stamp() << "\n";
    return exact ? 0 : 1;
}
