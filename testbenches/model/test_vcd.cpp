// The VCD writer: a well-formed file (checked by a small parser here and by
// GTKWave's vcd2fst), PE and cycle-window selection, and waveform values that
// agree with the model's statistics cycle for cycle.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "eie/hw/model/eie.hpp"
#include "eie/hw/model/simulator.hpp"
#include "eie/hw/model/vcd_writer.hpp"
#include "model_fixtures.hpp"

using namespace eie;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / fmt::format("eie_vcd_test_{}", ::getpid());
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A minimal VCD reader: the header's scopes and variables, and every value
// change with its time. Malformed input fails the test with a message.
struct Vcd {
    struct Var {
        std::string scope, name;
        uint32_t width;
    };
    std::map<std::string, Var> vars;  // by id
    std::vector<std::string> scopes;  // in declaration order, as "eie/pe1"
    std::vector<uint64_t> times;
    std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> changes;  // id -> (time, value)
    std::set<std::string> dumpvars_ids;
    std::string timescale;
    bool has_date = false, has_version = false;

    std::string lookup(const std::string& scope, const std::string& name) const {
        for (const auto& [id, v] : vars)
            if (v.scope == scope && v.name == name) return id;
        FAIL("no signal " << scope << "." << name);
        return {};
    }
    // The value a signal holds at time t (its last change at or before t).
    std::string at(const std::string& id, uint64_t t) const {
        const auto& ch = changes.at(id);
        std::string v = "?";
        for (const auto& [time, val] : ch) {
            if (time > t) break;
            v = val;
        }
        return v;
    }
};

Vcd parse_vcd(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::vector<std::string> tok;
    std::string w;
    while (in >> w) tok.push_back(w);
    Vcd v;
    std::vector<std::string> stack;
    std::size_t i = 0;
    auto skip_to_end = [&](std::string* text) {
        ++i;
        while (i < tok.size() && tok[i] != "$end") {
            if (text) *text += (text->empty() ? "" : " ") + tok[i];
            ++i;
        }
        REQUIRE(i < tok.size());
        ++i;
    };
    bool defs_done = false;
    while (i < tok.size() && !defs_done) {
        const std::string& t = tok[i];
        if (t == "$date") {
            v.has_date = true;
            skip_to_end(nullptr);
        } else if (t == "$version") {
            v.has_version = true;
            skip_to_end(nullptr);
        } else if (t == "$comment") {
            skip_to_end(nullptr);
        } else if (t == "$timescale") {
            skip_to_end(&v.timescale);
        } else if (t == "$scope") {
            REQUIRE(i + 3 < tok.size());
            CHECK(tok[i + 1] == "module");
            CHECK(tok[i + 3] == "$end");
            stack.push_back(tok[i + 2]);
            std::string full;
            for (const auto& s : stack) full += (full.empty() ? "" : "/") + s;
            v.scopes.push_back(full);
            i += 4;
        } else if (t == "$upscope") {
            REQUIRE(!stack.empty());
            stack.pop_back();
            REQUIRE(tok[i + 1] == "$end");
            i += 2;
        } else if (t == "$var") {
            // $var wire WIDTH ID NAME [range] $end
            REQUIRE(i + 5 < tok.size());
            CHECK(tok[i + 1] == "wire");
            Vcd::Var var;
            var.width = static_cast<uint32_t>(std::stoul(tok[i + 2]));
            CHECK(var.width >= 1);
            const std::string id = tok[i + 3];
            var.name = tok[i + 4];
            REQUIRE(!stack.empty());
            for (const auto& s : stack) var.scope += (var.scope.empty() ? "" : "/") + s;
            std::size_t j = i + 5;
            if (tok[j] != "$end") {
                CHECK(tok[j] == fmt::format("[{}:0]", var.width - 1));
                ++j;
            }
            REQUIRE(tok[j] == "$end");
            CHECK(v.vars.count(id) == 0);  // ids are unique
            v.vars[id] = var;
            i = j + 1;
        } else if (t == "$enddefinitions") {
            REQUIRE(tok[i + 1] == "$end");
            CHECK(stack.empty());
            defs_done = true;
            i += 2;
        } else {
            FAIL("unexpected header token '" << t << "'");
        }
    }
    REQUIRE(defs_done);
    bool in_dumpvars = false;
    uint64_t now = 0;
    bool have_time = false;
    for (; i < tok.size(); ++i) {
        const std::string& t = tok[i];
        if (t[0] == '#') {
            const uint64_t time = std::stoull(t.substr(1));
            if (have_time) CHECK(time > now);  // strictly increasing
            now = time;
            have_time = true;
            v.times.push_back(time);
        } else if (t == "$dumpvars") {
            CHECK(!in_dumpvars);
            in_dumpvars = true;
        } else if (t == "$end") {
            CHECK(in_dumpvars);
            in_dumpvars = false;
        } else {
            REQUIRE(have_time);
            std::string value, id;
            if (t[0] == 'b') {
                value = t.substr(1);
                REQUIRE(i + 1 < tok.size());
                id = tok[++i];
            } else {
                value = t.substr(0, 1);
                id = t.substr(1);
            }
            INFO("value change '" << t << "' id '" << id << "'");
            REQUIRE(v.vars.count(id) == 1);  // every change refers to a declared id
            CHECK(value.find_first_not_of("01xz") == std::string::npos);
            CHECK(value.size() <= v.vars[id].width);
            if (v.vars[id].width == 1) CHECK(t[0] != 'b');
            if (in_dumpvars) v.dumpvars_ids.insert(id);
            v.changes[id].emplace_back(now, value);
        }
    }
    CHECK(!in_dumpvars);
    return v;
}

uint64_t as_uint(const std::string& bits) {
    REQUIRE(bits.find_first_not_of("01") == std::string::npos);
    return std::stoull(bits, nullptr, 2);
}

struct Traced {
    SimResult result;
    uint64_t period_ps = 0, dumped = 0;
};

Traced run_traced(const Image& img, const std::string& path, VcdOptions vo, double stall = 0) {
    std::unique_ptr<VcdWriter> writer;
    SimOptions o;
    o.stall_probability = stall;
    o.stall_seed = 7;
    o.on_elaborated = [&](Eie& e) {
        writer = std::make_unique<VcdWriter>(path, e, vo);
        e.set_tracer(writer.get());
    };
    Traced t;
    t.result = simulate(img, o);
    REQUIRE(writer);
    writer->close();
    t.period_ps = writer->period_ps();
    t.dumped = writer->cycles_dumped();
    return t;
}

Image small_image() {
    ArchConfig arch;
    arch.num_pes = 4;
    arch.queue_depth = 2;      // some back-pressure and starvation
    arch.act_rf_entries = 32;  // 160 outputs on 4 PEs: 2 batches through the activation SRAM
    // Two layers, the second with a bias, so layer changes show up too.
    return test::make_image({{64, 160, 0.06}, {160, 20, 0.4, true, Activation::identity}}, arch, 11, 0.5);
}

// vcd2fst is GTKWave's converter: a real VCD parser. Returns its exit status
// or -1 when it is not installed.
int run_vcd2fst(const std::string& vcd, const std::string& fst) {
    if (access("/usr/bin/vcd2fst", X_OK) != 0) return -1;
    std::string cmd = fmt::format("/usr/bin/vcd2fst '{}' '{}' >/dev/null 2>&1", vcd, fst);
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

}  // namespace

TEST_CASE("vcd: PEs {1,2} over cycles [20,60]: header, scopes, window, ids, and vcd2fst accepts it", "[vcd]") {
    TempDir tmp;
    const std::string path = (tmp.path / "w.vcd").string();
    Image img = small_image();
    VcdOptions vo;
    vo.pes = {2, 1};
    vo.from = 20;
    vo.to = 60;
    Traced t = run_traced(img, path, vo);
    REQUIRE(t.result.bit_exact);
    REQUIRE(t.result.stats.compute_cycles() > 80);  // the window lies inside the run
    CHECK(t.dumped == 41);
    CHECK(t.period_ps == 1250);  // 800 MHz
    CHECK_FALSE(fs::exists(path + fmt::format(".tmp-{}", ::getpid())));

    Vcd v = parse_vcd(path);
    CHECK(v.has_date);
    CHECK(v.has_version);
    CHECK(v.timescale == "1ps");
    CHECK(v.scopes == std::vector<std::string>{"eie", "eie/pe1", "eie/pe2", "eie/ccu"});
    // only the selected PEs' signals: 4 top + 2 x 30 PE + 9 CCU
    CHECK(v.vars.size() == 4 + 2 * 30 + 9);
    // every timestamp in the window, the first one at its start
    REQUIRE(!v.times.empty());
    CHECK(v.times.front() == 20 * t.period_ps);
    for (uint64_t time : v.times) {
        CHECK(time >= 20 * t.period_ps);
        CHECK(time <= 60 * t.period_ps);
        CHECK(time % t.period_ps == 0);
    }
    // $dumpvars gives every signal its initial value
    CHECK(v.dumpvars_ids.size() == v.vars.size());
    // the cycle counter runs 20..60, one change per cycle
    const std::string cyc = v.lookup("eie", "cycle");
    REQUIRE(v.changes[cyc].size() == 41);
    for (uint64_t c = 20; c <= 60; ++c) CHECK(as_uint(v.at(cyc, c * t.period_ps)) == c);

    const int rc = run_vcd2fst(path, (tmp.path / "w.fst").string());
    if (rc < 0) {
        WARN("/usr/bin/vcd2fst not found (Debian package gtkwave): skipping the GTKWave check");
    } else {
        CHECK(rc == 0);
        CHECK(fs::file_size(tmp.path / "w.fst") > 0);
    }
}

TEST_CASE("vcd: waveform values agree with the statistics, cycle by cycle", "[vcd]") {
    TempDir tmp;
    Image img = small_image();
    for (double stall : {0.0, 0.08}) {
        INFO("stall probability " << stall);
        const std::string path = (tmp.path / "full.vcd").string();
        Traced t = run_traced(img, path, VcdOptions{}, stall);
        REQUIRE(t.result.bit_exact);
        const RunStats& st = t.result.stats;
        const uint64_t total = st.compute_cycles();
        {
            // The image exercises every cycle class and both bypasses.
            PeStats sum;
            uint64_t backpressure = 0;
            for (const auto& l : st.layers) {
                sum.add(l.pe_total());
                backpressure += l.ccu.backpressure_stalls;
            }
            CHECK(sum.padding_cycles > 0);
            CHECK(sum.empty_col_cycles > 0);
            CHECK(sum.bypass_s3 > 0);
            CHECK(sum.bypass_s2 > 0);
            CHECK(backpressure > 0);
            CHECK((stall == 0) == (sum.stall_cycles == 0));
        }
        CHECK(t.dumped == total);
        Vcd v = parse_vcd(path);
        CHECK(v.scopes == std::vector<std::string>{"eie", "eie/pe0", "eie/pe1", "eie/pe2", "eie/pe3", "eie/ccu"});

        // Expand to per-cycle values.
        auto series = [&](const std::string& scope, const std::string& name) {
            const std::string id = v.lookup(scope, name);
            std::vector<std::string> s(total);
            const auto& ch = v.changes.at(id);
            std::size_t k = 0;
            std::string cur = "?";
            for (uint64_t c = 0; c < total; ++c) {
                while (k < ch.size() && ch[k].first <= c * t.period_ps) cur = ch[k++].second;
                s[c] = cur;
            }
            return s;
        };
        const auto layer = series("eie", "layer");
        uint64_t bcasts = 0, fills = 0, bp = 0;
        const auto bv = series("eie/ccu", "bcast_valid"), fl = series("eie/ccu", "lnzd_filling"),
                   bs = series("eie/ccu", "backpressure_stall");
        for (uint64_t c = 0; c < total; ++c) {
            bcasts += bv[c] == "1";
            fills += fl[c] == "1";
            bp += bs[c] == "1";
        }
        uint64_t want_b = 0, want_bp = 0, batches = 0;
        for (const auto& l : st.layers) {
            want_b += l.ccu.broadcasts;
            want_bp += l.ccu.backpressure_stalls;
            batches += l.batches;
        }
        CHECK(bcasts == want_b);
        CHECK(bp == want_bp);
        {
            // The stall culprit: in a back-pressure cycle, stall_pe is the lowest PE whose queue was
            // full at the start of the cycle (its occupancy at the end of the previous one) and
            // stall_pes counts the full queues; outside one it is x and 0.
            const auto spe = series("eie/ccu", "stall_pe"), spes = series("eie/ccu", "stall_pes");
            std::vector<std::vector<std::string>> occ;
            for (uint32_t p = 0; p < 4; ++p) occ.push_back(series(fmt::format("eie/pe{}", p), "queue_occupancy"));
            uint64_t named = 0;
            for (uint64_t c = 1; c < total; ++c) {
                INFO("cycle " << c);
                if (bs[c] != "1") {
                    CHECK(spe[c] == "x");
                    CHECK(as_uint(spes[c]) == 0);
                    continue;
                }
                uint32_t first = 4, full = 0;
                for (uint32_t p = 0; p < 4; ++p)
                    if (as_uint(occ[p][c - 1]) == img.arch.queue_depth) {
                        first = std::min(first, p);
                        ++full;
                    }
                REQUIRE(full > 0);
                CHECK(as_uint(spe[c]) == first);
                CHECK(as_uint(spes[c]) == full);
                ++named;
            }
            CHECK(named == want_bp);
        }
        CHECK(fills == batches * img.arch.lnzd_levels());
        // phases: 4 drain cycles per batch, the write-back cycles
        const auto phase = series("eie", "phase");
        uint64_t drains = 0, writebacks = 0, want_wb = 0;
        for (uint64_t c = 0; c < total; ++c) {
            drains += as_uint(phase[c]) == 2;
            writebacks += as_uint(phase[c]) == 3;
        }
        for (const auto& l : st.layers) want_wb += l.writeback_cycles;
        CHECK(drains == 4 * batches);
        CHECK(writebacks == want_wb);
        CHECK(want_wb > 0);
        CHECK(st.layers[0].batches == 2);

        for (uint32_t p = 0; p < 4; ++p) {
            INFO("PE " << p);
            const std::string sc = fmt::format("eie/pe{}", p);
            const auto state = series(sc, "state"), popped = series(sc, "popped"), dw = series(sc, "dst_write"),
                       b1 = series(sc, "bypass_d1"), b2 = series(sc, "bypass_d2"), iv = series(sc, "issue_valid"),
                       occ = series(sc, "queue_occupancy");
            for (std::size_t L = 0; L < st.layers.size(); ++L) {
                const PeStats& ps = st.layers[L].pe[p];
                uint64_t n[6] = {}, pops = 0, writes = 0, d1 = 0, d2 = 0, issued = 0, maxocc = 0;
                for (uint64_t c = 0; c < total; ++c) {
                    if (as_uint(layer[c]) != L) continue;
                    const uint64_t s = as_uint(state[c]);
                    REQUIRE(s <= 5);
                    ++n[s];
                    pops += popped[c] == "1";
                    writes += dw[c] == "1";
                    d1 += b1[c] == "1";
                    d2 += b2[c] == "1";
                    issued += iv[c] == "1";
                    maxocc = std::max(maxocc, as_uint(occ[c]));
                }
                CHECK(n[1] == ps.busy_cycles);
                CHECK(n[2] == ps.padding_cycles);
                CHECK(n[3] == ps.empty_col_cycles);
                CHECK(n[4] == ps.stall_cycles);
                // starved and done are both 'starved' in the statistics; during
                // the write-back cycles the PE is done and not counted.
                CHECK(n[0] + n[5] == ps.starved_cycles + st.layers[L].writeback_cycles);
                CHECK(pops == ps.columns);
                CHECK(writes == ps.acc_writes);
                CHECK(d1 == ps.bypass_s3);
                CHECK(d2 == ps.bypass_s2);
                CHECK(issued == ps.busy_cycles + ps.padding_cycles);
                CHECK(maxocc == ps.queue_max_occupancy);
            }
            // The pipeline, followed through the waveform: an entry issued at
            // cycle c is in the S2/S3/S4 registers at the end of c+1, c+2, c+3
            // with the row the issue computed, S2 holds its codebook weight,
            // and a real entry is written at c+4.
            const auto row = series(sc, "issue_row"), code = series(sc, "issue_code"), s2v = series(sc, "s2_valid"),
                       s2r = series(sc, "s2_row"), s2w = series(sc, "s2_weight"), s3r = series(sc, "s3_row"),
                       s4r = series(sc, "s4_row"), dr = series(sc, "dst_row"), dv = series(sc, "dst_value");
            const uint32_t wbits = img.arch.codebook_value_bits;
            uint64_t followed = 0;
            for (uint64_t c = 0; c + 4 < total; ++c) {
                if (iv[c] != "1") continue;
                INFO("entry issued at cycle " << c);
                const std::size_t L = as_uint(layer[c]);
                CHECK(s2v[c + 1] == "1");
                CHECK(s2r[c + 1] == row[c]);
                CHECK(s3r[c + 2] == row[c]);
                CHECK(s4r[c + 3] == row[c]);
                const int64_t w = int64_t(as_uint(s2w[c + 1]) << (64 - wbits)) >> (64 - wbits);
                CHECK(w == img.layers[L].codebook[as_uint(code[c])]);
                if (as_uint(code[c]) != 0) {
                    CHECK(dw[c + 4] == "1");
                    CHECK(dr[c + 4] == row[c]);
                } else {
                    CHECK(dw[c + 4] == "0");
                }
                ++followed;
            }
            CHECK(followed > 0);
            // The last value written to each destination row of the last layer
            // (identity, output in the register file) is that row's output.
            const std::size_t last = st.layers.size() - 1;
            std::map<uint64_t, int64_t> final_value;
            for (uint64_t c = 0; c < total; ++c)
                if (as_uint(layer[c]) == last && dw[c] == "1") {
                    const uint32_t ab = img.arch.act_bits;
                    final_value[as_uint(dr[c])] = int64_t(as_uint(dv[c]) << (64 - ab)) >> (64 - ab);
                }
            for (uint32_t r = 0; r * 4 + p < img.layers[last].out_len; ++r) {
                INFO("local row " << r);
                const int32_t want = t.result.golden[last][r * 4 + p];
                CHECK((final_value.count(r) ? final_value[r] : 0) == want);
            }
        }
        if (stall == 0) {
            // The windowed dump shows exactly the full dump's values in its window,
            // including the events that depend on the cycle before the window.
            const std::string wpath = (tmp.path / "win.vcd").string();
            VcdOptions vo;
            vo.pes = {1, 2};
            vo.from = 20;
            vo.to = 60;
            run_traced(img, wpath, vo);
            Vcd w = parse_vcd(wpath);
            uint64_t compared = 0;
            for (const auto& [id, var] : w.vars) {
                const std::string full_id = v.lookup(var.scope, var.name);
                for (uint64_t c = 20; c <= 60; ++c) {
                    INFO(var.scope << "." << var.name << " at cycle " << c);
                    CHECK(w.at(id, c * t.period_ps) == v.at(full_id, c * t.period_ps));
                    ++compared;
                }
            }
            CHECK(compared == w.vars.size() * 41);
        }
    }
}

TEST_CASE("vcd: tracing does not change the run, PE lists parse and reject bad input", "[vcd]") {
    TempDir tmp;
    Image img = small_image();
    SimResult plain = simulate(img);
    VcdOptions vo;
    vo.pes = {0};
    Traced t = run_traced(img, (tmp.path / "a.vcd").string(), vo);
    CHECK(t.result.bit_exact);
    REQUIRE(t.result.stats.layers.size() == plain.stats.layers.size());
    for (std::size_t L = 0; L < plain.stats.layers.size(); ++L) {
        CHECK(t.result.stats.layers[L].cycles == plain.stats.layers[L].cycles);
        CHECK(t.result.stats.layers[L].pe[0].busy_cycles == plain.stats.layers[L].pe[0].busy_cycles);
    }
    // A window beyond the run: a valid file with a header and no values.
    VcdOptions late;
    late.from = 1000000;
    Traced t2 = run_traced(img, (tmp.path / "late.vcd").string(), late);
    CHECK(t2.dumped == 0);
    Vcd v = parse_vcd((tmp.path / "late.vcd").string());
    CHECK(v.times.empty());

    CHECK(parse_pe_list("0,3,5-7", 8) == std::vector<uint32_t>{0, 3, 5, 6, 7});
    CHECK(parse_pe_list("7,1,1-2", 8) == std::vector<uint32_t>{1, 2, 7});
    CHECK(parse_pe_list("all", 3) == std::vector<uint32_t>{0, 1, 2});
    CHECK_THROWS_WITH(parse_pe_list("8", 8), Catch::Contains("out of range") && Catch::Contains("0 .. 7"));
    CHECK_THROWS_WITH(parse_pe_list("3-1", 8), Catch::Contains("3-1"));
    CHECK_THROWS_WITH(parse_pe_list("1,,2", 8), Catch::Contains("not a PE number"));
    CHECK_THROWS_WITH(parse_pe_list("x", 8), Catch::Contains("'x'"));
    CHECK_THROWS_WITH(parse_pe_list("", 8), Catch::Contains("not a PE number"));
}
