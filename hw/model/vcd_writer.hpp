// A VCD (IEEE 1364 value change dump) writer for the EIE model: a Tracer
// that the top level calls once per computing cycle. docs/waveforms.md lists
// every signal and how to open the file in GTKWave.
//
// The writer owns the file format and the selection; the signals are the
// units' own (each stage declares and samples them through SignalSink): it
// opens a scope per traced unit, lets the unit declare its signals, and
// every dumped cycle lets it give their values in the same order.
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
#include "eie/pe/signal_sink.hpp"

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

class VcdWriter : public Tracer, private SignalSink {
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

    // SignalSink: the units' signals, in declaration order.
    void declare(const char* name, uint32_t width) override { add(name, width); }
    void value(uint64_t v, bool known) override { set(cursor_++, v, known); }
    // After a unit's sample: it gave exactly the values it declared.
    void check_unit(uint32_t end, const char* unit);

    uint32_t add(const std::string& name, uint32_t width);
    void scope(const std::string& name);
    void upscope();
    void set(uint32_t sig, uint64_t value, bool known = true);
    void set_signed(uint32_t sig, int64_t value, bool known = true) { set(sig, uint64_t(value), known); }
    void track(const Eie& eie);
    void flush_buffer();
    // The constructor's steps.
    void check_selection();
    void write_preamble(const Eie& eie, const std::string& comment);
    void declare_scopes(const Eie& eie);
    void open_output();

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
    uint32_t top_base_ = 0, ccu_base_ = 0, ccu_end_ = 0, pe_sigs_ = 0;
    std::vector<uint32_t> pe_base_;
    uint32_t cursor_ = 0;  // the next signal a unit's value() sets

    uint64_t n_ = 0;        // computing cycles seen
    uint64_t dumped_ = 0;   // cycles inside the window
    bool dumpvars_done_ = false;
    bool first_change_ = false;  // writing $dumpvars: every value goes out
};

// Parses a PE selection such as "0,3,5-7" (or "all") for an array of
// `num_pes`; returns the sorted, de-duplicated list. Throws
// std::invalid_argument naming the offending item and the allowed range.
std::vector<uint32_t> parse_pe_list(const std::string& text, uint32_t num_pes);

}  // namespace eie
