#include "stats.hpp"

namespace eie {

#define EIE_PE_FIELDS(X)                                                                              \
    X(busy_cycles) X(padding_cycles) X(empty_col_cycles) X(starved_cycles) X(stall_cycles) X(columns) X(acc_writes)   \
    X(bypass_s3) X(bypass_s2) X(spmat_line_reads) X(ptr_reads_even) X(ptr_reads_odd)                  \
    X(codebook_lookups) X(multiplies) X(adds) X(dst_rf_reads) X(dst_rf_writes) X(src_rf_reads)        \
    X(act_sram_reads) X(act_sram_writes) X(queue_pushes) X(queue_pops)

#define EIE_CCU_FIELDS(X) \
    X(packs) X(empty_packs) X(broadcasts) X(backpressure_stalls) X(injected_stalls) X(lnzd_node_activations)

void PeStats::add(const PeStats& o) {
#define X(f) f += o.f;
    EIE_PE_FIELDS(X)
#undef X
    if (o.queue_max_occupancy > queue_max_occupancy) queue_max_occupancy = o.queue_max_occupancy;
}

void CcuStats::add(const CcuStats& o) {
#define X(f) f += o.f;
    EIE_CCU_FIELDS(X)
#undef X
}

PeStats LayerStats::pe_total() const {
    PeStats t;
    for (const auto& p : pe) t.add(p);
    return t;
}

double LayerStats::load_balance_efficiency() const {
    if (pe.empty() || cycles == 0) return 0.0;
    double sum = 0;
    for (const auto& p : pe) sum += 1.0 - double(p.starved_cycles) / double(cycles);
    return sum / double(pe.size());
}

double LayerStats::useful_work() const {
    if (pe.empty() || cycles == 0) return 0.0;
    return double(pe_total().acc_writes) / (double(pe.size()) * double(cycles));
}

double LayerStats::real_work_ratio() const {
    PeStats t = pe_total();
    return t.entries() ? double(t.busy_cycles) / double(t.entries()) : 1.0;
}

double LayerStats::padding_share() const {
    PeStats t = pe_total();
    return t.entries() ? double(t.padding_cycles) / double(t.entries()) : 0.0;
}

uint64_t RunStats::compute_cycles() const {
    uint64_t c = 0;
    for (const auto& l : layers) c += l.cycles;
    return c;
}

nlohmann::json to_json(const PeStats& s) {
    nlohmann::json j;
#define X(f) j[#f] = s.f;
    EIE_PE_FIELDS(X)
#undef X
    j["queue_max_occupancy"] = s.queue_max_occupancy;
    return j;
}

nlohmann::json to_json(const CcuStats& s) {
    nlohmann::json j;
#define X(f) j[#f] = s.f;
    EIE_CCU_FIELDS(X)
#undef X
    return j;
}

nlohmann::json to_json(const LayerStats& s, double clock_mhz) {
    nlohmann::json j;
    double seconds = double(s.cycles) / (clock_mhz * 1e6);
    j["name"] = s.name;
    j["in_len"] = s.in_len;
    j["out_len"] = s.out_len;
    j["batches"] = s.batches;
    j["cycles"] = s.cycles;
    j["writeback_cycles"] = s.writeback_cycles;
    j["closed_form_cycles"] = s.closed_form_cycles;
    j["time_us"] = seconds * 1e6;
    j["useful_macs"] = s.useful_macs;
    j["gops"] = seconds > 0 ? 2.0 * double(s.useful_macs) / seconds / 1e9 : 0.0;
    j["load_balance_efficiency"] = s.load_balance_efficiency();
    j["useful_work"] = s.useful_work();
    j["real_work_ratio"] = s.real_work_ratio();
    j["padding_share"] = s.padding_share();
    j["total"] = to_json(s.pe_total());
    j["ccu"] = to_json(s.ccu);
    nlohmann::json per = nlohmann::json::array();
    for (const auto& p : s.pe) per.push_back(to_json(p));
    j["per_pe"] = per;
    return j;
}

}  // namespace eie
