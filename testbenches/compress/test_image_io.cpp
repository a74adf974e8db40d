// The image directory: write / read round trip, the hex file format, atomic
// writing and the reader's validation of malformed files.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "eie/compress/encode.hpp"
#include "eie/hw/fixed_point.hpp"
#include "eie/hw/golden.hpp"
#include "eie/hw/image_io.hpp"
#include "eie/hw/npy.hpp"

using namespace eie;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "eie_image_io_XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void spit(const fs::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::binary);
    out << s;
}

std::vector<std::string> lines_of(const fs::path& p) {
    std::vector<std::string> v;
    std::istringstream in(slurp(p));
    for (std::string line; std::getline(in, line);) v.push_back(line);
    return v;
}

// A quantised layer with a deterministic sparse pattern; long zero runs in
// some columns force padding entries.
QuantLayer make_qlayer(const std::string& name, uint32_t in, uint32_t out, bool bias, const ArchConfig& a,
                       uint32_t seed, int in_frac, int out_frac) {
    QuantLayer L;
    L.name = name;
    L.in_len = in;
    L.out_len = out;
    L.has_bias = bias;
    L.act = seed % 2 ? Activation::relu : Activation::identity;
    L.fmt = LayerFormat{in_frac, 12, out_frac};
    const uint32_t ncodes = a.codebook_entries();
    L.codebook.assign(ncodes, 0);
    L.codebook_float.assign(ncodes, 0.0);
    for (uint32_t c = 1; c < ncodes; ++c) {
        L.codebook_float[c] = (double(c) - ncodes / 2.0) / double(ncodes);
        if (L.codebook_float[c] == 0.0) L.codebook_float[c] = 0.01;
        L.codebook[c] = fx::quantize(L.codebook_float[c], 12, a.codebook_value_bits);
    }
    uint32_t s = seed * 2654435761u + 7u;
    auto next = [&] {
        s = s * 1664525u + 1013904223u;
        return s >> 8;
    };
    const uint32_t ncols = in + (bias ? 1u : 0u);
    for (uint32_t c = 0; c < ncols; ++c)
        for (uint32_t r = 0; r < out; ++r)
            if ((c % 5 == 0 && r == out - 1) || next() % 4 == 0)
                L.nonzeros.push_back({r, c, 1 + next() % (ncodes - 1)});
    return L;
}

Image make_image(const ArchConfig& a) {
    std::vector<QuantLayer> q = {make_qlayer("fc6", 20, 70, true, a, 1, 10, 9),
                                 make_qlayer("fc7", 70, 11, false, a, 2, 9, 8)};
    Image img = encode_layers(q, a);
    img.input_float.resize(20);
    img.input.resize(20);
    for (uint32_t i = 0; i < 20; ++i) {
        img.input_float[i] = i % 3 ? 0.0 : 0.1 * i - 0.7;
        img.input[i] = fx::quantize(img.input_float[i], 10, a.act_bits);
    }
    img.expected = golden_run(img, img.input);
    img.expected_float = float_run(img, img.input_float);
    return img;
}

ArchConfig odd_arch() {
    // Widths that are not multiples of 4 and lines with spare bits.
    ArchConfig a;
    a.num_pes = 3;
    a.act_rf_entries = 16;  // 70 rows on 3 PEs -> 24 local rows, 2 batches
    a.weight_bits = 5;
    a.index_bits = 3;       // 8-bit entries; 15 zero rows force padding
    a.spmat_line_bits = 72; // 9 entries per line, no spare bits
    a.spmat_sram_bytes = 72 * 64 / 8;
    a.ptr_bits = 13;
    a.ptr_sram_bytes = 2048;
    a.codebook_value_bits = 10;
    a.act_bits = 14;
    return a;
}

void check_same(const Image& a, const Image& b) {
    CHECK(to_json(a.arch) == to_json(b.arch));
    REQUIRE(a.layers.size() == b.layers.size());
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        const LayerDesc &x = a.layers[l], &y = b.layers[l];
        CHECK(x.name == y.name);
        CHECK(x.in_len == y.in_len);
        CHECK(x.out_len == y.out_len);
        CHECK(x.has_bias == y.has_bias);
        CHECK(x.act == y.act);
        CHECK(x.fmt.in_frac == y.fmt.in_frac);
        CHECK(x.fmt.w_frac == y.fmt.w_frac);
        CHECK(x.fmt.out_frac == y.fmt.out_frac);
        CHECK(x.num_batches == y.num_batches);
        CHECK(x.ptr_base == y.ptr_base);
        CHECK(x.entry_base == y.entry_base);
        CHECK(x.codebook_slot == y.codebook_slot);
        CHECK(x.codebook == y.codebook);
        CHECK(x.codebook_float == y.codebook_float);
        CHECK(x.input.in_sram == y.input.in_sram);
        CHECK(x.input.sram_base == y.input.sram_base);
        CHECK(x.output.in_sram == y.output.in_sram);
        CHECK(x.output.sram_base == y.output.sram_base);
    }
    REQUIRE(a.pes.size() == b.pes.size());
    for (std::size_t p = 0; p < a.pes.size(); ++p) {
        CHECK(a.pes[p].entries == b.pes[p].entries);
        CHECK(a.pes[p].pointers == b.pes[p].pointers);
        CHECK(a.pes[p].codebooks == b.pes[p].codebooks);
        REQUIRE(a.pes[p].layer_counts.size() == b.pes[p].layer_counts.size());
        for (std::size_t l = 0; l < a.pes[p].layer_counts.size(); ++l) {
            CHECK(a.pes[p].layer_counts[l].entries == b.pes[p].layer_counts[l].entries);
            CHECK(a.pes[p].layer_counts[l].padding == b.pes[p].layer_counts[l].padding);
            CHECK(a.pes[p].layer_counts[l].rows == b.pes[p].layer_counts[l].rows);
        }
    }
    CHECK(a.input == b.input);
    CHECK(a.input_float == b.input_float);
    CHECK(a.expected == b.expected);
    CHECK(a.expected_float == b.expected_float);
}

// The image with no temporary or backup siblings left around.
void check_no_leftovers(const fs::path& parent) {
    for (const auto& e : fs::directory_iterator(parent)) {
        std::string n = e.path().filename().string();
        CHECK(n.find(".tmp-") == std::string::npos);
        CHECK(n.find(".old-") == std::string::npos);
    }
}

}  // namespace

TEST_CASE("image directory round trip, paper defaults and odd widths", "[image_io]") {
    TempDir t;
    for (const ArchConfig& a : {[] {
                                    ArchConfig d;
                                    d.num_pes = 4;
                                    d.act_rf_entries = 16;
                                    return d;
                                }(),
                                odd_arch()}) {
        Image img = make_image(a);
        uint64_t padding = 0;
        for (const auto& pe : img.pes) padding += pe.layer_counts[0].padding;
        if (a.index_bits == 3) CHECK(padding > 0);  // the padding path is exercised
        const fs::path dir = t.path / fmt::format("img_{}", a.num_pes);
        nlohmann::json report = {{"note", "from the test"}, {"value", 42}};
        write_image_dir(img, dir.string(), report);
        Image back = read_image_dir(dir.string());
        check_same(img, back);
        check_no_leftovers(t.path);
        // golden results from the read image are the stored expectations
        CHECK(golden_run(back, back.input) == img.expected);

        nlohmann::json m = nlohmann::json::parse(slurp(dir / "manifest.json"));
        CHECK(m["format"] == "eie-image");
        CHECK(m["format_version"] == kImageFormatVersion);
        CHECK(m["report"] == report);
        CHECK(m["pes"].size() == a.num_pes);
        CHECK(m["layers"][0]["formats"]["shift"] == img.layers[0].fmt.shift());
    }
}

TEST_CASE("hex files are $readmemh lines as documented", "[image_io]") {
    TempDir t;
    ArchConfig a = odd_arch();
    Image img = make_image(a);
    const fs::path dir = t.path / "img";
    write_image_dir(img, dir.string());
    const PeImage& pe = img.pes[1];
    // spmat: 72-bit lines = 18 hex digits; slot k at bits [8k, 8k+8), MSB first.
    auto sp = lines_of(dir / "pe_0001" / "spmat.hex");
    REQUIRE(sp.size() == (pe.entries.size() + 8) / 9);
    for (std::size_t li = 0; li < sp.size(); ++li) {
        REQUIRE(sp[li].size() == 18);
        for (uint32_t k = 0; k < 9; ++k) {
            uint64_t addr = li * 9 + k;
            std::string byte = sp[li].substr(18 - 2 * (k + 1), 2);
            uint32_t v = uint32_t(std::stoul(byte, nullptr, 16));
            CHECK(v == (addr < pe.entries.size() ? pe.entries[addr] : 0u));
        }
    }
    // pointers: 13 bits -> 4 hex digits; bank k holds addresses 2i + k.
    auto ev = lines_of(dir / "pe_0001" / "ptr_even.hex");
    auto od = lines_of(dir / "pe_0001" / "ptr_odd.hex");
    REQUIRE(ev.size() == (pe.pointers.size() + 1) / 2);
    REQUIRE(od.size() == pe.pointers.size() / 2);
    for (std::size_t i = 0; i < pe.pointers.size(); ++i) {
        const std::string& s = i % 2 ? od[i / 2] : ev[i / 2];
        CHECK(s.size() == 4);
        CHECK(std::stoul(s, nullptr, 16) == pe.pointers[i]);
    }
    // codebook: 10-bit two's complement -> 3 hex digits, 32 lines per slot.
    auto cb = lines_of(dir / "pe_0001" / "codebook.hex");
    REQUIRE(cb.size() == pe.codebooks.size() * 32);
    for (std::size_t i = 0; i < cb.size(); ++i) {
        int32_t v = pe.codebooks[i / 32][i % 32];
        CHECK(cb[i].size() == 3);
        CHECK(std::stoul(cb[i], nullptr, 16) == (uint32_t(v) & 0x3ffu));
    }
    CHECK(fs::exists(dir / "input.npy"));
    CHECK(fs::exists(dir / "input_float.npy"));
    CHECK(fs::exists(dir / "expected_L1.npy"));
    CHECK(fs::exists(dir / "expected_float_L1.npy"));
}

TEST_CASE("image directory writing is atomic and refuses non-images", "[image_io]") {
    TempDir t;
    ArchConfig a;
    a.num_pes = 4;
    Image img = make_image(a);
    const fs::path dir = t.path / "img";

    SECTION("an existing image is replaced") {
        write_image_dir(img, dir.string(), {{"run", 1}});
        write_image_dir(img, dir.string() + "/", {{"run", 2}});
        CHECK(nlohmann::json::parse(slurp(dir / "manifest.json"))["report"]["run"] == 2);
        check_no_leftovers(t.path);
    }
    SECTION("anything else is left alone") {
        fs::create_directory(dir);
        spit(dir / "notes.txt", "mine");
        CHECK_THROWS_WITH(write_image_dir(img, dir.string()),
                          Catch::Contains(dir.string()) && Catch::Contains("not an image directory"));
        CHECK(slurp(dir / "notes.txt") == "mine");
        spit(t.path / "file", "x");
        CHECK_THROWS_AS(write_image_dir(img, (t.path / "file").string()), ImageError);
        check_no_leftovers(t.path);
    }
    SECTION("unwritable or missing parents name the path") {
        CHECK_THROWS_WITH(write_image_dir(img, (t.path / "no" / "such" / "img").string()),
                          Catch::Contains("does not exist") && Catch::Contains((t.path / "no" / "such").string()));
        spit(t.path / "regular", "x");
        CHECK_THROWS_WITH(write_image_dir(img, (t.path / "regular" / "img").string()),
                          Catch::Contains("is not a directory") && Catch::Contains("regular"));
        if (::geteuid() != 0) {  // root can write anywhere
            fs::create_directory(t.path / "ro");
            fs::permissions(t.path / "ro", fs::perms::owner_read | fs::perms::owner_exec);
            CHECK_THROWS_WITH(write_image_dir(img, (t.path / "ro" / "img").string()), Catch::Contains("ro/img"));
            fs::permissions(t.path / "ro", fs::perms::owner_all);
        }
        CHECK_THROWS_AS(write_image_dir(img, "/proc/eie_image_test"), ImageError);
        check_no_leftovers(t.path);
    }
    SECTION("an inconsistent image leaves nothing behind") {
        Image bad = img;
        bad.pes.pop_back();
        CHECK_THROWS_AS(write_image_dir(bad, dir.string()), ImageError);
        CHECK(!fs::exists(dir));
        check_no_leftovers(t.path);
    }
}

TEST_CASE("the reader rejects malformed images, naming the file", "[image_io]") {
    TempDir t;
    ArchConfig a;
    a.num_pes = 4;
    Image img = make_image(a);
    const fs::path dir = t.path / "img";
    write_image_dir(img, dir.string());
    const fs::path pe1 = dir / "pe_0001";
    auto edit_line = [](const fs::path& p, std::size_t index, const std::string& text) {
        auto lines = lines_of(p);
        REQUIRE(index < lines.size());
        lines[index] = text;
        std::string s;
        for (const auto& l : lines) s += l + "\n";
        spit(p, s);
    };
    auto manifest = [&] { return nlohmann::json::parse(slurp(dir / "manifest.json")); };
    auto set_manifest = [&](const nlohmann::json& m) { spit(dir / "manifest.json", m.dump(1)); };

    SECTION("a non-hex character") {
        edit_line(pe1 / "spmat.hex", 2, "00000000000000g0");
        CHECK_THROWS_WITH(read_image_dir(dir.string()),
                          Catch::Contains("pe_0001/spmat.hex line 3") && Catch::Contains("'g'"));
    }
    SECTION("a line of the wrong width") {
        edit_line(pe1 / "ptr_odd.hex", 0, "00001");
        CHECK_THROWS_WITH(read_image_dir(dir.string()),
                          Catch::Contains("pe_0001/ptr_odd.hex line 1") && Catch::Contains("expected 4 hex digits"));
    }
    SECTION("a missing line") {
        auto lines = lines_of(pe1 / "codebook.hex");
        std::string s;
        for (std::size_t i = 0; i + 1 < lines.size(); ++i) s += lines[i] + "\n";
        spit(pe1 / "codebook.hex", s);
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("codebook.hex") && Catch::Contains("lines, expected"));
    }
    SECTION("pointers that decrease") {
        edit_line(pe1 / "ptr_even.hex", 2, "ffff");
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("pe_0001/ptr_e") || Catch::Contains("pe_0001/ptr_o"));
    }
    SECTION("a pointer beyond ptr_bits") {
        ArchConfig b = a;
        b.ptr_bits = 13;
        Image img2 = make_image(b);
        write_image_dir(img2, dir.string());
        edit_line(pe1 / "ptr_even.hex", 1, "2000");
        CHECK_THROWS_WITH(read_image_dir(dir.string()),
                          Catch::Contains("pe_0001/ptr_even.hex line 2") && Catch::Contains("does not fit 13 bits"));
    }
    SECTION("a codebook value that differs from the manifest") {
        edit_line(pe1 / "codebook.hex", 17, "7fff");
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("pe_0001/codebook.hex") && Catch::Contains("slot 1"));
    }
    SECTION("an unsupported version") {
        auto m = manifest();
        m["format_version"] = kImageFormatVersion + 1;
        set_manifest(m);
        CHECK_THROWS_WITH(read_image_dir(dir.string()),
                          Catch::Contains("manifest.json") && Catch::Contains("format_version = 2") &&
                              Catch::Contains("supports version 1"));
    }
    SECTION("a deleted file") {
        fs::remove(pe1 / "ptr_even.hex");
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("pe_0001/ptr_even.hex"));
    }
    SECTION("a deleted vector") {
        fs::remove(dir / "expected_L1.npy");
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("expected_L1.npy"));
    }
    SECTION("a truncated manifest") {
        std::string s = slurp(dir / "manifest.json");
        spit(dir / "manifest.json", s.substr(0, s.size() / 2));
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("manifest.json") && Catch::Contains("not valid JSON"));
    }
    SECTION("a missing or mistyped field") {
        auto m = manifest();
        m["layers"][1].erase("out_len");
        set_manifest(m);
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("layers[1].out_len") && Catch::Contains("missing"));
        m = manifest();
        m["layers"][1]["out_len"] = 11;
        m["layers"][0]["has_bias"] = "yes";
        set_manifest(m);
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("layers[0].has_bias"));
    }
    SECTION("counts that disagree with the memories") {
        auto m = manifest();
        m["pes"][2]["layers"][0]["padding"] = m["pes"][2]["layers"][0]["padding"].get<uint64_t>() + 1;
        set_manifest(m);
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("pes[2].layers[0].padding"));
    }
    SECTION("an invalid architecture") {
        auto m = manifest();
        m["arch"]["weight_bits"] = 12;
        set_manifest(m);
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("manifest.json: arch"));
    }
    SECTION("an expected vector of the wrong length or type") {
        write_npy((dir / "expected_L0.npy").string(), {3}, std::vector<int32_t>{1, 2, 3});
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("expected_L0.npy") && Catch::Contains("(70,)"));
        write_npy((dir / "expected_L0.npy").string(), {70}, std::vector<double>(70, 0.0));
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("expected_L0.npy") && Catch::Contains("dtype"));
    }
    SECTION("not an image at all") {
        CHECK_THROWS_WITH(read_image_dir((t.path / "none").string()), Catch::Contains("not a directory"));
        auto m = manifest();
        m["format"] = "something";
        set_manifest(m);
        CHECK_THROWS_WITH(read_image_dir(dir.string()), Catch::Contains("'something'"));
    }
}
