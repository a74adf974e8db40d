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
    num_pes_ = eie.arch().num_pes;
    check_selection();
    period_ps_ = static_cast<uint64_t>(std::llround(eie.period().to_seconds() * 1e12));
    if (period_ps_ == 0) period_ps_ = 1;
    write_preamble(eie, o.comment);
    declare_scopes(eie);
    open_output();
}

// PEs sorted and unique (all when none are given), inside the array; a
// non-empty cycle window.
void VcdWriter::check_selection() {
    if (pes_.empty())
        for (uint32_t p = 0; p < num_pes_; ++p) pes_.push_back(p);
    std::sort(pes_.begin(), pes_.end());
    pes_.erase(std::unique(pes_.begin(), pes_.end()), pes_.end());
    if (pes_.back() >= num_pes_)
        throw std::invalid_argument(
            fmt::format("VCD: PE {} is out of range (allowed: 0 .. {})", pes_.back(), num_pes_ - 1));
    if (from_ > to_) throw std::invalid_argument(fmt::format("VCD: window [{}, {}] is empty (from > to)", from_, to_));
}

// $date, $version, the $comment that says how to read the times, $timescale.
void VcdWriter::write_preamble(const Eie& eie, const std::string& user_comment) {
    char date[64] = "unknown";
    std::time_t now = std::time(nullptr);
    if (std::tm* tm = std::localtime(&now)) std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", tm);
    std::string comment = user_comment;
    std::replace(comment.begin(), comment.end(), '$', '_');  // "$end" would close the section
    std::string window = to_ == std::numeric_limits<uint64_t>::max() ? fmt::format("[{}, end]", from_)
                                                                     : fmt::format("[{}, {}]", from_, to_);
    header_ += fmt::format("$date\n  {}\n$end\n", date);
    header_ += "$version\n  eie-sim VCD writer (cycle-accurate EIE model)\n$end\n";
    header_ += fmt::format(
        "$comment\n  {}{}{} PEs, clock {} MHz, period {} ps; computing cycle c is at time c x {} ps "
        "(cycle 0 = first computing cycle, I/O mode not counted); cycles {} dumped; PEs traced: {}\n$end\n",
        comment, comment.empty() ? "" : "; ", num_pes_, eie.arch().clock_mhz, period_ps_, period_ps_, window,
        pes_.size() == num_pes_ ? std::string("all") : fmt::format("{}", fmt::join(pes_, ",")));
    header_ += "$timescale 1ps $end\n";
}

// eie (the top level's signals), one scope per traced PE (every PE must
// declare the same signals), then the CCU; each unit declares its own.
void VcdWriter::declare_scopes(const Eie& eie) {
    scope("eie");
    top_base_ = add("cycle", 64);
    eie.declare_signals(*this);
    pe_base_.assign(num_pes_, 0);
    for (uint32_t p : pes_) {
        scope(fmt::format("pe{}", p));
        pe_base_[p] = static_cast<uint32_t>(sigs_.size());
        eie.pe(p).declare_signals(*this);
        const uint32_t n = static_cast<uint32_t>(sigs_.size()) - pe_base_[p];
        if (p != pes_.front() && n != pe_sigs_) throw std::logic_error("VCD: PEs declare different signals");
        pe_sigs_ = n;
        upscope();
    }
    scope("ccu");
    ccu_base_ = static_cast<uint32_t>(sigs_.size());
    eie.ccu().declare_signals(*this);
    ccu_end_ = static_cast<uint32_t>(sigs_.size());
    upscope();
    upscope();
    header_ += "$enddefinitions $end\n";
}

// The file is written through an atomic writer (a temporary renamed by
// close()), so a failed run leaves no half-written VCD; the header goes out first.
void VcdWriter::open_output() {
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
            for (int i = int(signal_bits(value)) - 1; i >= 0; --i) buf_ += char('0' + ((value >> i) & 1));
        }
        buf_ += ' ';
    }
    buf_ += s.id;
    buf_ += '\n';
}

void VcdWriter::sample(uint64_t /*absolute cycle*/, const Eie& eie) {
    const uint64_t c = n_++;
    if (c < from_ || c > to_) return;  // nothing to do outside the window
    track(eie);
    ++dumped_;
    if (buf_.size() > (1u << 20)) flush_buffer();
}

void VcdWriter::check_unit(uint32_t end, const char* unit) {
    if (cursor_ != end)
        throw std::logic_error(fmt::format("VCD: {} gave {} values for {} declared signals", unit, cursor_, end));
}

void VcdWriter::track(const Eie& eie) {
    const uint64_t c = n_ - 1;
    const std::size_t mark = buf_.size();
    buf_ += '#';
    append_uint(buf_, c * period_ps_);
    buf_ += '\n';
    if (!dumpvars_done_) {
        buf_ += "$dumpvars\n";
        first_change_ = true;
    }
    const std::size_t body = buf_.size();
    cursor_ = top_base_;
    set(cursor_++, c);
    eie.sample_signals(*this);
    check_unit(pes_.empty() ? ccu_base_ : pe_base_[pes_.front()], "the top level");
    for (uint32_t p : pes_) {
        cursor_ = pe_base_[p];
        eie.sample_pe_signals(*this, p);
        check_unit(pe_base_[p] + pe_sigs_, "a PE");
    }
    cursor_ = ccu_base_;
    eie.sample_ccu_signals(*this);
    check_unit(ccu_end_, "the CCU");

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
