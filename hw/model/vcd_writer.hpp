// A VCD (IEEE 1364 value change dump) writer for the EIE model: a Tracer
// that the top level calls once per computing cycle. docs/waveforms.md lists
// every signal and how to open the file in GTKWave.
//
// Selection keeps files small (128 changing signals cost ~4 KB a cycle):
// only the selected PEs' signals are declared, and only cycles inside the
// window [from, to] are dumped. Cycles are counted from the first computing
// cycle of the run (cycle 0 = the first LNZD fill cycle of the first layer;
// I/O mode is not counted), the same count as the statistics' layer cycles,
// and cycle c is dumped at time c x clock period (timescale 1 ps).
//
// What a value at cycle c means: the events of cycle c (a pop, an issued
// entry, a broadcast, a destination write, a bypass taken, the cycle's
// class) and the registers as they are at the end of cycle c. Data whose
// valid bit is low are dumped as x.
//
// The file is written to a temporary sibling and renamed into place by
// close() (AtomicFileWriter), so a crashed or failed run never leaves a
// truncated VCD at `path`, and a killed run's temporary is removed by the next.
#pragma once

#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "eie/hw/model/tracer.hpp"

namespace eie {

class AtomicFileWriter;

class Eie;

struct VcdOptions {
    // PEs to trace, ascending; empty = every PE.
    std::vector<uint32_t> pes;
    uint64_t from = 0;                                      // first cycle dumped
    uint64_t to = std::numeric_limits<uint64_t>::max();     // last cycle dumped
    std::string comment;                                    // written as a $comment (e.g. the image path)
};

class VcdWriter : public Tracer {
public:
    // Declares the signals of `eie` and writes the header. Throws
    // std::runtime_error naming the file when it cannot be created, and
    // std::invalid_argument when a PE is out of range or from > to.
    VcdWriter(const std::string& path, const Eie& eie, VcdOptions options);
    ~VcdWriter() override;
    VcdWriter(const VcdWriter&) = delete;
    VcdWriter& operator=(const VcdWriter&) = delete;

    void sample(uint64_t cycle, const Eie& eie) override;
    void finish(uint64_t cycle) override;

    // Flushes and renames the file into place. Throws std::runtime_error on
    // an I/O error (the temporary file is removed).
    void close();

    const std::string& path() const { return path_; }
    const std::vector<uint32_t>& pes() const { return pes_; }
    uint64_t from() const { return from_; }
    uint64_t to() const { return to_; }
    uint64_t period_ps() const { return period_ps_; }
    uint64_t cycles_seen() const { return n_; }       // computing cycles of the run(s)
    uint64_t cycles_dumped() const { return dumped_; }
    uint64_t signals() const { return sigs_.size(); }
    uint64_t bytes_written() const { return bytes_; }

private:
    struct Sig {
        std::string id;
        uint32_t width;
        uint64_t value;
        bool known;
    };
    // Where cycle c sits in the run: the top level's state at the end of the
    // previous cycle (the state at the end of c may already be the next batch).
    struct Where {
        uint32_t layer = 0, batch = 0;
        uint8_t phase = 1;  // Eie::Phase::compute
    };
    // What a PE's previous cycle left, for the events that are only visible
    // as a difference (bypass counters) or one cycle later (the S4 write).
    struct PePrev {
        uint32_t layer = 0;
        uint64_t bypass_s3 = 0, bypass_s2 = 0;
        bool s4_valid = false, s4_we = false;
        uint32_t s4_row = 0;
        int32_t s4_sum = 0;
    };

    uint32_t add(const std::string& name, uint32_t width);
    void scope(const std::string& name);
    void upscope();
    void set(uint32_t sig, uint64_t value, bool known = true);
    void set_signed(uint32_t sig, int64_t value, bool known = true) { set(sig, uint64_t(value), known); }
    void track(const Eie& eie, const Where& w, bool dump);
    void flush_buffer();

    std::string path_;
    std::unique_ptr<AtomicFileWriter> out_;  // the temporary, renamed over path_ by close()
    std::string buf_;
    std::string header_;
    bool closed_ = false;
    uint64_t bytes_ = 0;

    std::vector<uint32_t> pes_;
    uint64_t from_, to_;
    uint64_t period_ps_ = 1;
    uint32_t num_pes_ = 0;

    std::vector<Sig> sigs_;
    uint32_t top_base_ = 0, ccu_base_ = 0;
    std::vector<uint32_t> pe_base_;
    std::vector<PePrev> prev_;

    uint64_t n_ = 0;        // computing cycles seen
    uint64_t dumped_ = 0;   // cycles inside the window
    bool dumpvars_done_ = false;
    bool first_change_ = false;  // writing $dumpvars: every value goes out
    Where where_;
};

// Parses a PE selection such as "0,3,5-7" (or "all") for an array of
// `num_pes`; returns the sorted, de-duplicated list. Throws
// std::invalid_argument naming the offending item and the allowed range.
std::vector<uint32_t> parse_pe_list(const std::string& text, uint32_t num_pes);

}  // namespace eie
