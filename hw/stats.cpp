#include "eie/hw/stats.hpp"

#include <algorithm>

namespace eie {

void PeStats::add(const PeStats& o) {
#define X(f, meaning) f += o.f;
    EIE_PE_COUNTERS(X)
#undef X
#define X(f, meaning) f = std::max(f, o.f);
    EIE_PE_MAXIMA(X)
#undef X
}

void CcuStats::add(const CcuStats& o) {
#define X(f, meaning) f += o.f;
    EIE_CCU_COUNTERS(X)
#undef X
}

PeStats LayerStats::pe_total() const {
    PeStats t;
    for (const auto& p : pe) t.add(p);
    return t;
}

DerivedFigures derive_figures(const PeStats& t, uint64_t cycles, uint64_t useful_macs, uint64_t num_pes,
                              double clock_mhz) {
    DerivedFigures d;
    const double seconds = cycles_to_seconds(cycles, clock_mhz);
    d.time_us = seconds * 1e6;
    d.gops = seconds > 0 ? kOpsPerMac * double(useful_macs) / seconds / 1e9 : 0.0;
    const double pe_cycles = double(num_pes) * double(cycles);
    d.load_balance_efficiency = pe_cycles > 0 ? 1.0 - double(t.starved_cycles) / pe_cycles : 0.0;
    d.useful_work = pe_cycles > 0 ? double(t.acc_writes) / pe_cycles : 0.0;
    d.real_work_ratio = t.entries() ? double(t.busy_cycles) / double(t.entries()) : 1.0;
    d.padding_share = t.entries() ? double(t.padding_cycles) / double(t.entries()) : 0.0;
    return d;
}

void put_derived(nlohmann::json& j, const DerivedFigures& d) {
    j["time_us"] = d.time_us;
    j["gops"] = d.gops;
    j["load_balance_efficiency"] = d.load_balance_efficiency;
    j["useful_work"] = d.useful_work;
    j["real_work_ratio"] = d.real_work_ratio;
    j["padding_share"] = d.padding_share;
}

DerivedFigures LayerStats::derived(double clock_mhz) const {
    return derive_figures(pe_total(), cycles, useful_macs, pe.size(), clock_mhz);
}

uint64_t RunStats::compute_cycles() const {
    uint64_t c = 0;
    for (const auto& l : layers) c += l.cycles;
    return c;
}

nlohmann::json to_json(const PeStats& s) {
    nlohmann::json j;
#define X(f, meaning) j[#f] = s.f;
    EIE_PE_COUNTERS(X)
    EIE_PE_MAXIMA(X)
#undef X
    return j;
}

nlohmann::json to_json(const CcuStats& s) {
    nlohmann::json j;
#define X(f, meaning) j[#f] = s.f;
    EIE_CCU_COUNTERS(X)
#undef X
    return j;
}

nlohmann::json stats_fields_json() {
    nlohmann::json pe = nlohmann::json::array(), ccu = nlohmann::json::array();
#define X(f, meaning) pe.push_back({{"name", #f}, {"meaning", meaning}, {"combine", "sum"}});
    EIE_PE_COUNTERS(X)
#undef X
#define X(f, meaning) pe.push_back({{"name", #f}, {"meaning", meaning}, {"combine", "max"}});
    EIE_PE_MAXIMA(X)
#undef X
#define X(f, meaning) ccu.push_back({{"name", #f}, {"meaning", meaning}, {"combine", "sum"}});
    EIE_CCU_COUNTERS(X)
#undef X
    nlohmann::json derived;
    put_derived(derived, DerivedFigures{});
    nlohmann::json names = nlohmann::json::array();
    for (const auto& [k, v] : derived.items()) {
        (void)v;
        names.push_back(k);
    }
    return {{"format", "eie-stats-fields"}, {"version", 1}, {"per_pe", pe}, {"ccu", ccu}, {"derived", names}};
}

nlohmann::json to_json(const LayerStats& s, double clock_mhz) {
    nlohmann::json j;
    j["name"] = s.name;
    j["in_len"] = s.in_len;
    j["out_len"] = s.out_len;
    j["batches"] = s.batches;
    j["cycles"] = s.cycles;
    j["writeback_cycles"] = s.writeback_cycles;
    j["closed_form_cycles"] = s.closed_form_cycles;
    j["useful_macs"] = s.useful_macs;
    put_derived(j, s.derived(clock_mhz));
    j["total"] = to_json(s.pe_total());
    j["ccu"] = to_json(s.ccu);
    nlohmann::json per = nlohmann::json::array();
    for (const auto& p : s.pe) per.push_back(to_json(p));
    j["per_pe"] = per;
    return j;
}

}  // namespace eie
