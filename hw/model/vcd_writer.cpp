#include "eie/hw/model/vcd_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

#include "eie/hw/file_io.hpp"
#include "eie/hw/model/eie.hpp"

namespace eie {

namespace {

// Per-PE signals, in declaration order (docs/waveforms.md describes each).
enum PeSig : uint32_t {
    kState,
    kDone,
    kQueueOcc,
    kQueueHeadIndex,
    kQueueHeadValue,
    kPopped,
    kPoppedIndex,
    kPtrStart,
    kPtrEnd,
    kEntryAddr,
    kEntryEnd,
    kIssueValid,
    kIssueCode,
    kIssueZeros,
    kIssueRow,
    kS2Valid,
    kS2Row,
    kS2Weight,
    kS3Valid,
    kS3Row,
    kS3Term,
    kS3Acc,
    kS4Valid,
    kS4Row,
    kS4Sum,
    kBypassD1,
    kBypassD2,
    kDstWe,
    kDstRow,
    kDstValue,
    kPeSigs
};

enum TopSig : uint32_t { kCycle, kLayer, kBatch, kPhase, kTopSigs };

enum CcuSig : uint32_t {
    kPack,
    kPackMask,
    kBcastValid,
    kBcastIndex,
    kBcastValue,
    kBackpressure,
    kStallPe,
    kStallPes,
    kLnzdFilling,
    kCcuSigs
};

uint32_t bit_length(uint64_t v) {
    uint32_t n = 0;
    while (v) {
        ++n;
        v >>= 1;
    }
    return n ? n : 1;
}

uint64_t mask_of(uint32_t width) { return width >= 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1; }

// VCD identifier codes: printable ASCII '!' .. '~', shortest first.
std::string vcd_id(uint32_t k) {
    std::string id;
    do {
        id += char('!' + k % 94);
        k /= 94;
    } while (k);
    return id;
}

void append_uint(std::string& b, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) b += tmp[--n];
}

}  // namespace

std::vector<uint32_t> parse_pe_list(const std::string& text, uint32_t num_pes) {
    std::vector<uint32_t> out;
    if (text == "all") {
        for (uint32_t p = 0; p < num_pes; ++p) out.push_back(p);
        return out;
    }
    auto number = [&](const std::string& s, const std::string& item) -> uint32_t {
        if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos)
            throw std::invalid_argument(fmt::format("'{}' in '{}' is not a PE number or range (allowed: K, A-B, "
                                                    "comma-separated, or 'all')",
                                                    item, text));
        uint64_t v = std::stoull(s);
        if (v >= num_pes)
            throw std::invalid_argument(
                fmt::format("PE {} in '{}' is out of range (allowed: 0 .. {} for {} PEs)", v, text, num_pes - 1, num_pes));
        return uint32_t(v);
    };
    std::size_t pos = 0;
    while (true) {
        std::size_t comma = text.find(',', pos);
        std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        std::size_t dash = item.find('-');
        if (dash == std::string::npos) {
            out.push_back(number(item, item));
        } else {
            uint32_t a = number(item.substr(0, dash), item), b = number(item.substr(dash + 1), item);
            if (a > b)
                throw std::invalid_argument(fmt::format("range '{}' in '{}' is empty (write A-B with A <= B)", item, text));
            for (uint32_t p = a; p <= b; ++p) out.push_back(p);
        }
        if (comma == std::string::npos) break;
        pos = comma + 1;
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

uint32_t VcdWriter::add(const std::string& name, uint32_t width) {
    const uint32_t k = static_cast<uint32_t>(sigs_.size());
    sigs_.push_back(Sig{vcd_id(k), width, 0, false});
    header_ += fmt::format("$var wire {} {} {}", width, sigs_.back().id, name);
    if (width > 1) header_ += fmt::format(" [{}:0]", width - 1);
    header_ += " $end\n";
    return k;
}

void VcdWriter::scope(const std::string& name) { header_ += fmt::format("$scope module {} $end\n", name); }
void VcdWriter::upscope() { header_ += "$upscope $end\n"; }

VcdWriter::VcdWriter(const std::string& path, const Eie& eie, VcdOptions o)
    : path_(path), pes_(std::move(o.pes)), from_(o.from), to_(o.to) {
    const ArchConfig& a = eie.arch();
    num_pes_ = a.num_pes;
    if (pes_.empty())
        for (uint32_t p = 0; p < num_pes_; ++p) pes_.push_back(p);
    std::sort(pes_.begin(), pes_.end());
    pes_.erase(std::unique(pes_.begin(), pes_.end()), pes_.end());
    if (pes_.back() >= num_pes_)
        throw std::invalid_argument(
            fmt::format("VCD: PE {} is out of range (allowed: 0 .. {})", pes_.back(), num_pes_ - 1));
    if (from_ > to_) throw std::invalid_argument(fmt::format("VCD: window [{}, {}] is empty (from > to)", from_, to_));
    period_ps_ = static_cast<uint64_t>(std::llround(eie.period().to_seconds() * 1e12));
    if (period_ps_ == 0) period_ps_ = 1;

    const uint32_t act = a.act_bits, addr = bit_length(a.spmat_capacity_entries());
    char date[64] = "unknown";
    std::time_t now = std::time(nullptr);
    if (std::tm* tm = std::localtime(&now)) std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", tm);
    std::string comment = o.comment;
    std::replace(comment.begin(), comment.end(), '$', '_');  // "$end" would close the section
    std::string window = to_ == std::numeric_limits<uint64_t>::max() ? fmt::format("[{}, end]", from_)
                                                                     : fmt::format("[{}, {}]", from_, to_);
    header_ += fmt::format("$date\n  {}\n$end\n", date);
    header_ += "$version\n  eie-sim VCD writer (cycle-accurate EIE model)\n$end\n";
    header_ += fmt::format(
        "$comment\n  {}{}{} PEs, clock {} MHz, period {} ps; computing cycle c is at time c x {} ps "
        "(cycle 0 = first computing cycle, I/O mode not counted); cycles {} dumped; PEs traced: {}\n$end\n",
        comment, comment.empty() ? "" : "; ", num_pes_, a.clock_mhz, period_ps_, period_ps_, window,
        pes_.size() == num_pes_ ? std::string("all") : fmt::format("{}", fmt::join(pes_, ",")));
    header_ += "$timescale 1ps $end\n";

    scope("eie");
    top_base_ = add("cycle", 64);
    add("layer", 32);
    add("batch", 32);
    add("phase", 2);
    pe_base_.assign(num_pes_, 0);
    for (uint32_t p : pes_) {
        scope(fmt::format("pe{}", p));
        const uint32_t base = add("state", 3);
        pe_base_[p] = base;
        add("done", 1);
        add("queue_occupancy", bit_length(a.queue_depth));
        add("queue_head_index", 32);
        add("queue_head_value", act);
        add("popped", 1);
        add("popped_index", 32);
        add("ptr_start", a.ptr_bits);
        add("ptr_end", a.ptr_bits);
        add("entry_addr", addr);
        add("entry_end", addr);
        add("issue_valid", 1);
        add("issue_code", a.weight_bits);
        add("issue_zeros", a.index_bits);
        add("issue_row", 32);
        add("s2_valid", 1);
        add("s2_row", 32);
        add("s2_weight", a.codebook_value_bits);
        add("s3_valid", 1);
        add("s3_row", 32);
        add("s3_term", 64);
        add("s3_acc", act);
        add("s4_valid", 1);
        add("s4_row", 32);
        add("s4_sum", act);
        add("bypass_d1", 1);
        add("bypass_d2", 1);
        add("dst_write", 1);
        add("dst_row", 32);
        add("dst_value", act);
        if (sigs_.size() - base != kPeSigs) throw std::logic_error("VCD: PE signal table out of step");
        upscope();
    }
    scope("ccu");
    ccu_base_ = add("pack", 32);
    add("pack_mask", std::min<uint32_t>(num_pes_, 64));
    add("bcast_valid", 1);
    add("bcast_index", 32);
    add("bcast_value", act);
    add("backpressure_stall", 1);
    add("stall_pe", std::max<uint32_t>(1, bit_length(num_pes_ - 1)));
    add("stall_pes", bit_length(num_pes_));
    add("lnzd_filling", 1);
    upscope();
    upscope();
    header_ += "$enddefinitions $end\n";
    prev_.assign(num_pes_, PePrev{});

    try {
        out_ = std::make_unique<AtomicFileWriter>(path_);
    } catch (const FileError& e) {
        throw std::runtime_error(fmt::format("VCD {}", e.what()));
    }
    buf_.reserve(1 << 21);
    buf_.swap(header_);
    header_.clear();
    header_.shrink_to_fit();
    flush_buffer();
}

VcdWriter::~VcdWriter() = default;  // an uncommitted AtomicFileWriter removes its temporary

void VcdWriter::flush_buffer() {
    if (!out_ || buf_.empty()) return;
    try {
        out_->write(buf_);
    } catch (const FileError& e) {
        out_.reset();
        throw std::runtime_error(fmt::format("VCD {}", e.what()));
    }
    bytes_ += buf_.size();
    buf_.clear();
}

void VcdWriter::set(uint32_t k, uint64_t value, bool known) {
    Sig& s = sigs_[k];
    value = known ? (value & mask_of(s.width)) : 0;
    if (!first_change_ && s.known == known && s.value == value) return;
    s.value = value;
    s.known = known;
    if (s.width == 1) {
        buf_ += known ? char('0' + value) : 'x';
    } else {
        buf_ += 'b';
        if (!known) {
            buf_ += 'x';
        } else {
            for (int i = int(bit_length(value)) - 1; i >= 0; --i) buf_ += char('0' + ((value >> i) & 1));
        }
        buf_ += ' ';
    }
    buf_ += s.id;
    buf_ += '\n';
}

void VcdWriter::sample(uint64_t /*absolute cycle*/, const Eie& eie) {
    const uint64_t c = n_++;
    const RunStats& st = eie.stats();
    Where w = where_;
    if (st.layers.size() == 1 && st.layers[0].cycles == 1) {
        // The first cycle of a run (no layer is shorter than one batch's
        // fixed overhead): the run starts in layer 0, batch 0, computing,
        // with empty pipelines and zero counters.
        w = Where{};
        std::fill(prev_.begin(), prev_.end(), PePrev{});
    }
    where_ = Where{eie.current_layer(), eie.current_batch(), uint8_t(eie.phase())};
    if (c + 1 < from_ || c > to_) return;  // cheap outside the window (c == from - 1 primes the history)
    track(eie, w, c >= from_);
    if (c >= from_) {
        ++dumped_;
        if (buf_.size() > (1u << 20)) flush_buffer();
    }
}

void VcdWriter::track(const Eie& eie, const Where& w, bool dump) {
    using Phase = Eie::Phase;
    const uint64_t c = n_ - 1;
    const bool pe_clocked = w.phase == uint8_t(Phase::compute) || w.phase == uint8_t(Phase::drain);
    const bool ccu_clocked = w.phase == uint8_t(Phase::compute);
    const LayerStats* ls = w.layer < eie.stats().layers.size() ? &eie.stats().layers[w.layer] : nullptr;

    std::size_t mark = buf_.size(), body = 0;
    if (dump) {
        buf_ += '#';
        append_uint(buf_, c * period_ps_);
        buf_ += '\n';
        if (!dumpvars_done_) {
            buf_ += "$dumpvars\n";
            first_change_ = true;
        }
        body = buf_.size();
        set(top_base_ + kCycle, c);
        set(top_base_ + kLayer, w.layer);
        set(top_base_ + kBatch, w.batch);
        set(top_base_ + kPhase, w.phase);
    }

    const bool ccu_done = eie.ccu().done();
    for (uint32_t p : pes_) {
        const Pe& pe = eie.pe(p);
        const Pe::View v = pe.view();
        const ArithUnit& a = v.arith;
        PePrev& pr = prev_[p];
        const uint64_t b3 = ls ? ls->pe[p].bypass_s3 : 0, b2 = ls ? ls->pe[p].bypass_s2 : 0;
        if (dump) {
            const uint32_t k = pe_base_[p];
            const bool done = !pe_clocked || w.phase == uint8_t(Phase::drain) || (ccu_done && pe.front_idle());
            const uint32_t slot = pe_clocked ? uint32_t(v.slot) : 0u;
            set(k + kState, (slot == uint32_t(PeSlot::starved) && done) ? 5u : slot);
            set(k + kDone, done);
            const ActivationQueue& q = pe.queue();
            set(k + kQueueOcc, q.occupancy());
            set(k + kQueueHeadIndex, q.empty() ? 0 : q.head().index, !q.empty());
            set_signed(k + kQueueHeadValue, q.empty() ? 0 : q.head().value, !q.empty());
            const bool popped = pe_clocked && v.popped;
            set(k + kPopped, popped);
            set(k + kPoppedIndex, v.pop_index, popped);
            set(k + kPtrStart, v.ptr_start);
            set(k + kPtrEnd, v.ptr_end);
            set(k + kEntryAddr, v.addr);
            set(k + kEntryEnd, v.end);
            const bool issued = pe_clocked && v.issue.valid;
            set(k + kIssueValid, issued);
            set(k + kIssueCode, v.issue.code, issued);
            set(k + kIssueZeros, v.issue.zeros, issued);
            // The row S1 will compute for this entry next cycle (the running
            // sum of z + 1 over the column, from the batch's first local row).
            const uint32_t row = v.issue.first_of_column ? a.row_base() + v.issue.zeros
                                                         : a.row_address() + v.issue.zeros + 1;
            set(k + kIssueRow, row, issued);
            const auto& s2 = a.stage2_in();
            set(k + kS2Valid, s2.valid);
            set(k + kS2Row, s2.row, s2.valid);
            set_signed(k + kS2Weight, s2.weight, s2.valid);
            const auto& s3 = a.stage3_in();
            set(k + kS3Valid, s3.valid);
            set(k + kS3Row, s3.row, s3.valid);
            set_signed(k + kS3Term, s3.term, s3.valid);
            set_signed(k + kS3Acc, s3.acc, s3.valid);
            const auto& s4 = a.stage4_in();
            set(k + kS4Valid, s4.valid);
            set(k + kS4Row, s4.row, s4.valid);
            set_signed(k + kS4Sum, s4.sum, s4.valid);
            // Bypasses taken in this cycle: the counters' increments.
            const bool same = pr.layer == w.layer;
            set(k + kBypassD1, b3 != (same ? pr.bypass_s3 : 0));
            set(k + kBypassD2, b2 != (same ? pr.bypass_s2 : 0));
            // S4 writes in cycle c what the S4 register held at the end of c - 1.
            const bool we = pe_clocked && pr.s4_valid && pr.s4_we;
            set(k + kDstWe, we);
            set(k + kDstRow, pr.s4_row, we);
            set_signed(k + kDstValue, pr.s4_sum, we);
        }
        const auto& s4 = a.stage4_in();
        pr.layer = w.layer;
        pr.bypass_s3 = b3;
        pr.bypass_s2 = b2;
        pr.s4_valid = s4.valid;
        pr.s4_we = s4.we;
        pr.s4_row = s4.row;
        pr.s4_sum = s4.sum;
    }

    if (!dump) return;
    const Ccu::View cv = eie.ccu().view();
    set(ccu_base_ + kPack, cv.pack);
    set(ccu_base_ + kPackMask, cv.pack_mask);
    const bool bv = ccu_clocked && cv.valid;
    set(ccu_base_ + kBcastValid, bv);
    set(ccu_base_ + kBcastIndex, cv.index, bv);
    set_signed(ccu_base_ + kBcastValue, cv.value, bv);
    const bool stall = ccu_clocked && cv.stall;
    set(ccu_base_ + kBackpressure, stall);
    set(ccu_base_ + kStallPe, cv.stall_pe, stall);
    set(ccu_base_ + kStallPes, stall ? cv.stall_pes : 0u);
    set(ccu_base_ + kLnzdFilling, ccu_clocked && cv.filling);

    if (first_change_) {
        buf_ += "$end\n";
        first_change_ = false;
        dumpvars_done_ = true;
    } else if (buf_.size() == body) {
        buf_.resize(mark);  // nothing changed: no timestamp
    }
}

void VcdWriter::finish(uint64_t /*cycle*/) {
    // Called by the top level before the run's last sample: only push what
    // is buffered so far; close() writes the rest.
    flush_buffer();
}

void VcdWriter::close() {
    if (closed_) return;
    flush_buffer();
    if (!out_) throw std::runtime_error(fmt::format("VCD '{}': file not open", path_));
    try {
        out_->commit();
    } catch (const FileError& e) {
        out_.reset();
        throw std::runtime_error(fmt::format("VCD {}", e.what()));
    }
    out_.reset();
    closed_ = true;
}

}  // namespace eie
