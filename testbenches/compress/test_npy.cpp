// .npy / .npz reader and writer: hand-crafted files (every dtype, byte
// order, Fortran order, malformed files), a zip writer of our own for .npz
// (stored and deflated members), and files written and read by NumPy itself.
#include <catch2/catch.hpp>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "eie/compress/npz.hpp"

namespace fs = std::filesystem;
using eie::NpyArray;
using eie::NpyError;
using eie::npy_bytes;
using eie::parse_npy;

namespace {

// A fresh temporary directory, removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string templ = (fs::temp_directory_path() / "eie-npy-XXXXXX").string();
        REQUIRE(mkdtemp(templ.data()) != nullptr);
        path = templ;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::string le(uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += char((v >> (8 * i)) & 0xff);
    return s;
}
std::string be(uint64_t v, int n) {
    std::string s;
    for (int i = n - 1; i >= 0; --i) s += char((v >> (8 * i)) & 0xff);
    return s;
}
uint64_t bits_of(double d) {
    uint64_t b;
    std::memcpy(&b, &d, 8);
    return b;
}
uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

std::string error_of(const std::string& bytes, const std::string& source = "t.npy") {
    try {
        parse_npy(bytes, source);
    } catch (const NpyError& e) {
        return e.what();
    }
    return "(no error)";
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size()));
}
std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// A minimal zip writer (no zip64), enough to build .npz files with stored
// and deflated members and to corrupt them on purpose.
struct ZipMember {
    std::string name;
    std::string data;
    int method = 0;  // 0 stored, 8 deflate, anything else written as given (stored bytes)
};
// zip64 = true writes the central directory the way zip64 archives do: the
// 32-bit sizes and offsets are 0xffffffff with the real values in a zip64
// extra field, and the end record points to a zip64 end record.
std::string make_zip(const std::vector<ZipMember>& members, bool zip64 = false) {
    std::string out, cd;
    for (const auto& m : members) {
        std::string comp = m.data;
        if (m.method == 8) {
            z_stream zs{};
            REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
            comp.assign(deflateBound(&zs, uLong(m.data.size())), '\0');
            zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(m.data.data()));
            zs.avail_in = uInt(m.data.size());
            zs.next_out = reinterpret_cast<Bytef*>(&comp[0]);
            zs.avail_out = uInt(comp.size());
            REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
            comp.resize(zs.total_out);
            deflateEnd(&zs);
        }
        const uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(m.data.data()), uInt(m.data.size())));
        const uint64_t offset = out.size();
        out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(m.method, 2) + le(0, 4) + le(crc, 4) +
               le(comp.size(), 4) + le(m.data.size(), 4) + le(m.name.size(), 2) + le(0, 2) + m.name + comp;
        const uint64_t big = 0xffffffff;
        const std::string extra =
            zip64 ? le(1, 2) + le(24, 2) + le(m.data.size(), 8) + le(comp.size(), 8) + le(offset, 8) : "";
        cd += le(0x02014b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(m.method, 2) + le(0, 4) + le(crc, 4) +
              le(zip64 ? big : comp.size(), 4) + le(zip64 ? big : m.data.size(), 4) + le(m.name.size(), 2) +
              le(extra.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(zip64 ? big : offset, 4) +
              m.name + extra;
    }
    const uint64_t cd_off = out.size();
    out += cd;
    if (zip64) {
        const uint64_t rec = out.size();
        out += le(0x06064b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) +
               le(members.size(), 8) + le(members.size(), 8) + le(cd.size(), 8) + le(cd_off, 8);
        out += le(0x07064b50, 4) + le(0, 4) + le(rec, 8) + le(1, 4);
        out += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(0xffff, 2) + le(0xffff, 2) + le(0xffffffff, 4) +
               le(0xffffffff, 4) + le(0, 2);
    } else {
        out += le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(members.size(), 2) + le(members.size(), 2) +
               le(cd.size(), 4) + le(cd_off, 4) + le(0, 2);
    }
    return out;
}

bool numpy_available() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("npy: float16 converts exactly, including subnormals, infinities and NaN", "[npy]") {
    const std::vector<std::pair<uint16_t, double>> cases = {
        {0x0000, 0.0},
        {0x0001, std::ldexp(1.0, -24)},            // smallest subnormal
        {0x03ff, 1023 * std::ldexp(1.0, -24)},     // largest subnormal
        {0x0400, std::ldexp(1.0, -14)},            // smallest normal
        {0x3c00, 1.0},
        {0x3555, 0x1.554p-2},                      // 0.333251953125
        {0xc000, -2.0},
        {0x7bff, 65504.0},                         // largest finite
        {0x8001, -std::ldexp(1.0, -24)},
        {0x7c00, std::numeric_limits<double>::infinity()},
        {0xfc00, -std::numeric_limits<double>::infinity()},
    };
    std::string raw_le, raw_be;
    for (auto& c : cases) {
        raw_le += le(c.first, 2);
        raw_be += be(c.first, 2);
    }
    for (const char* descr : {"<f2", ">f2"}) {
        const bool big = descr[0] == '>';
        NpyArray a = parse_npy(npy_bytes(descr, false, {cases.size()}, big ? raw_be : raw_le), "h.npy");
        REQUIRE(a.data.size() == cases.size());
        CHECK(a.dtype == descr);
        for (std::size_t i = 0; i < cases.size(); ++i) {
            INFO(descr << " half 0x" << std::hex << cases[i].first);
            CHECK(a.data[i] == cases[i].second);
        }
    }
    NpyArray nan = parse_npy(npy_bytes("<f2", false, {2}, le(0x7e00, 2) + le(0xfe01, 2)), "h.npy");
    CHECK(std::isnan(nan.data[0]));
    CHECK(std::isnan(nan.data[1]));
    NpyArray negzero = parse_npy(npy_bytes("<f2", false, {1}, le(0x8000, 2)), "h.npy");
    CHECK(negzero.data[0] == 0.0);
    CHECK(std::signbit(negzero.data[0]));
}

TEST_CASE("npy: every integer and float dtype, both byte orders", "[npy]") {
    struct Case {
        const char* descr;
        std::string raw;
        std::vector<double> expect;
    };
    const double f32 = double(0.1f);
    std::vector<Case> cases = {
        {"|i1", le(0x80, 1) + le(0x7f, 1) + le(0xff, 1), {-128, 127, -1}},
        {"|u1", le(0x80, 1) + le(0xff, 1) + le(0, 1), {128, 255, 0}},
        {"<i2", le(0x8000, 2) + le(0x7fff, 2) + le(0xfffe, 2), {-32768, 32767, -2}},
        {">i2", be(0x8000, 2) + be(0x7fff, 2) + be(0xfffe, 2), {-32768, 32767, -2}},
        {"<u2", le(0xffff, 2) + le(1, 2) + le(0x100, 2), {65535, 1, 256}},
        {">u2", be(0xffff, 2) + be(1, 2) + be(0x100, 2), {65535, 1, 256}},
        {"<i4", le(0x80000000u, 4) + le(0x7fffffff, 4) + le(0xfffffffdu, 4), {-2147483648.0, 2147483647.0, -3}},
        {">i4", be(0x80000000u, 4) + be(0x7fffffff, 4) + be(0xfffffffdu, 4), {-2147483648.0, 2147483647.0, -3}},
        {"<u4", le(0xffffffffu, 4) + le(7, 4) + le(0x10000, 4), {4294967295.0, 7, 65536}},
        {">u4", be(0xffffffffu, 4) + be(7, 4) + be(0x10000, 4), {4294967295.0, 7, 65536}},
        {"<i8", le(uint64_t(-5), 8) + le(1ull << 40, 8) + le(0, 8), {-5, std::ldexp(1.0, 40), 0}},
        {">i8", be(uint64_t(-5), 8) + be(1ull << 40, 8) + be(0, 8), {-5, std::ldexp(1.0, 40), 0}},
        {"<u8", le(~0ull, 8) + le(3, 8) + le(1ull << 53, 8), {18446744073709551615.0, 3, std::ldexp(1.0, 53)}},
        {">u8", be(~0ull, 8) + be(3, 8) + be(1ull << 53, 8), {18446744073709551615.0, 3, std::ldexp(1.0, 53)}},
        {"<f4", le(bits_of(0.1f), 4) + le(bits_of(-1e-40f), 4) + le(bits_of(3.0e38f), 4),
         {f32, double(-1e-40f), double(3.0e38f)}},
        {">f4", be(bits_of(0.1f), 4) + be(bits_of(-1e-40f), 4) + be(bits_of(3.0e38f), 4),
         {f32, double(-1e-40f), double(3.0e38f)}},
        {"<f8", le(bits_of(0.1), 8) + le(bits_of(-4.9e-324), 8) + le(bits_of(1e308), 8), {0.1, -4.9e-324, 1e308}},
        {">f8", be(bits_of(0.1), 8) + be(bits_of(-4.9e-324), 8) + be(bits_of(1e308), 8), {0.1, -4.9e-324, 1e308}},
        {"=f8", le(bits_of(2.5), 8) + le(bits_of(-1.0), 8) + le(0, 8), {2.5, -1.0, 0.0}},
        {"|b1", le(1, 1) + le(0, 1) + le(1, 1), {1, 0, 1}},
    };
    for (const auto& c : cases) {
        INFO("dtype " << c.descr);
        NpyArray a = parse_npy(npy_bytes(c.descr, false, {3}, c.raw), "d.npy");
        CHECK(a.dtype == c.descr);
        CHECK(a.shape == std::vector<uint64_t>{3});
        CHECK(a.data == c.expect);
    }
}

TEST_CASE("npy: Fortran order is converted to C order, any rank, scalars and empty arrays", "[npy]") {
    // 2 x 3 stored column-major: C element (i, j) = 10 i + j.
    std::string raw;
    for (int j = 0; j < 3; ++j)
        for (int i = 0; i < 2; ++i) raw += le(uint64_t(10 * i + j), 4);
    NpyArray a = parse_npy(npy_bytes("<i4", true, {2, 3}, raw), "f.npy");
    CHECK(a.data == std::vector<double>{0, 1, 2, 10, 11, 12});

    // 2 x 3 x 4: C element (i, j, k) = 100 i + 10 j + k.
    raw.clear();
    for (int k = 0; k < 4; ++k)
        for (int j = 0; j < 3; ++j)
            for (int i = 0; i < 2; ++i) raw += le(uint64_t(100 * i + 10 * j + k), 2);
    NpyArray c = parse_npy(npy_bytes("<i2", true, {2, 3, 4}, raw), "f3.npy");
    REQUIRE(c.data.size() == 24);
    std::size_t n = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) CHECK(c.data[n++] == 100 * i + 10 * j + k);

    NpyArray s = parse_npy(npy_bytes("<f8", false, {}, le(bits_of(-7.25), 8)), "s.npy");
    CHECK(s.shape.empty());
    CHECK(s.size() == 1);
    CHECK(s.data == std::vector<double>{-7.25});

    NpyArray e = parse_npy(npy_bytes("<f4", true, {0, 5}, ""), "e.npy");
    CHECK(e.shape == std::vector<uint64_t>{0, 5});
    CHECK(e.data.empty());
}

TEST_CASE("npy: header variants numpy may write (version 2 and 3, other key order, spacing)", "[npy]") {
    const std::string raw = le(bits_of(1.5f), 4) + le(bits_of(-2.0f), 4);
    for (int major : {1, 2, 3}) {
        std::string header = "{\"shape\":(2,),  'fortran_order' : False,'descr':'<f4'}\n";
        std::string bytes = std::string("\x93NUMPY", 6) + char(major) + char(0);
        bytes += major == 1 ? le(header.size(), 2) : le(header.size(), 4);
        bytes += header + raw;
        INFO("version " << major);
        NpyArray a = parse_npy(bytes, "v.npy");
        CHECK(a.data == std::vector<double>{1.5, -2.0});
    }
    // Python 2 style 'L' suffix on dimensions.
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }\n";
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + le(header.size(), 2) + header + raw;
    CHECK(parse_npy(bytes, "v.npy").data.size() == 2);
}

TEST_CASE("npy: malformed files are rejected with the file and the field named", "[npy]") {
    using Catch::Matchers::Contains;
    const std::string good = npy_bytes("<f4", false, {2, 2}, std::string(16, '\0'));
    REQUIRE_NOTHROW(parse_npy(good, "t.npy"));

    CHECK_THAT(error_of("PK\x03\x04 not an npy file"), Contains("t.npy") && Contains("magic"));
    CHECK_THAT(error_of(""), Contains("magic"));
    CHECK_THAT(error_of(std::string("\x93NUMPY\x09\x00", 8) + le(10, 2) + std::string(10, ' ')),
               Contains("version") && Contains("9.0"));
    CHECK_THAT(error_of(good.substr(0, 9)), Contains("t.npy: header: truncated"));
    CHECK_THAT(error_of(good.substr(0, 40)), Contains("header: truncated") && Contains("40 bytes"));

    auto with_header = [](const std::string& h, const std::string& raw = std::string(16, '\0')) {
        return std::string("\x93NUMPY\x01\x00", 8) + le(h.size(), 2) + h + raw;
    };
    CHECK_THAT(error_of(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2}")),
               Contains("header: cannot parse") && Contains("'shape': (2, 2}"));
    CHECK_THAT(error_of(with_header("not a dict at all")), Contains("header: cannot parse"));
    CHECK_THAT(error_of(with_header("{'descr': '<f4', 'fortran_order': False}")),
               Contains("'shape' is missing"));
    CHECK_THAT(error_of(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}")),
               Contains("unexpected key 'x'"));
    CHECK_THAT(error_of(with_header("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2)}")),
               Contains("fortran_order"));
    CHECK_THAT(error_of(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2)}")),
               Contains("shape: dimension 1 is -2"));
    CHECK_THAT(error_of(with_header("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2]}")),
               Contains("shape: expected a tuple"));

    CHECK_THAT(error_of(npy_bytes("<c8", false, {2}, std::string(16, '\0'))),
               Contains("t.npy: dtype: '<c8' is not supported") && Contains("supported: f2 f4 f8"));
    CHECK_THAT(error_of(npy_bytes("<U5", false, {1}, std::string(20, '\0'))), Contains("dtype: '<U5'"));
    CHECK_THAT(error_of(npy_bytes("<f16", false, {1}, std::string(16, '\0'))), Contains("dtype: '<f16'"));
    CHECK_THAT(error_of(npy_bytes("|O", false, {2}, std::string(16, '\0'))),
               Contains("dtype: '|O' is an object array"));
    CHECK_THAT(error_of(with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}", "")),
               Contains("structured"));

    CHECK_THAT(error_of(npy_bytes("<f4", false, {2, 3}, std::string(16, '\0'))),
               Contains("t.npy: data: too short") && Contains("needs 24 bytes, file has 16"));
    CHECK_THAT(error_of(npy_bytes("<f8", false, {1}, std::string(9, '\0'))),
               Contains("data: too long") && Contains("needs 8 bytes, file has 9"));
    CHECK_THAT(error_of(npy_bytes("<f8", false, {1ull << 62, 1ull << 62}, "")), Contains("overflows"));

    TempDir dir;
    CHECK_THROWS_WITH(eie::read_npy(dir / "missing.npy"), Contains("missing.npy") && Contains("cannot open"));
}

TEST_CASE("npy: our writers round-trip through our reader, no partial file on error", "[npy]") {
    TempDir dir;
    std::vector<float> f = {0.5f, -1.25f, 1e-30f, 3.0e38f, 0.1f, -0.0f};
    eie::write_npy(dir / "f.npy", {2, 3}, f);
    NpyArray a = eie::read_npy(dir / "f.npy");
    CHECK(a.dtype == "<f4");
    CHECK(a.shape == std::vector<uint64_t>{2, 3});
    for (std::size_t i = 0; i < f.size(); ++i) CHECK(a.data[i] == double(f[i]));
    // numpy's alignment rule: the data start on a 64-byte boundary.
    CHECK((read_file(dir / "f.npy").size() - f.size() * 4) % 64 == 0);

    std::vector<double> d = {0.1, -1e-300, 12345.678};
    eie::write_npy(dir / "d.npy", {3}, d);
    CHECK(eie::read_npy(dir / "d.npy").data == d);

    std::vector<int16_t> s = {-32768, 32767, 0, -1};
    eie::write_npy(dir / "s.npy", {4}, s);
    NpyArray sa = eie::read_npy(dir / "s.npy");
    CHECK(sa.dtype == "<i2");
    CHECK(sa.data == std::vector<double>{-32768, 32767, 0, -1});

    std::vector<int32_t> i = {-2147483647 - 1, 2147483647, 5};
    eie::write_npy(dir / "i.npy", {1, 1, 3}, i);
    NpyArray ia = eie::read_npy(dir / "i.npy");
    CHECK(ia.shape == std::vector<uint64_t>{1, 1, 3});
    CHECK(ia.data == std::vector<double>{-2147483648.0, 2147483647.0, 5});

    eie::write_npy(dir / "scalar.npy", {}, std::vector<double>{4.0});
    CHECK(eie::read_npy(dir / "scalar.npy").shape.empty());

    CHECK_THROWS_WITH(eie::write_npy(dir / "bad.npy", {2, 2}, f), Catch::Contains("holds 4 elements but 6"));
    CHECK_FALSE(fs::exists(dir / "bad.npy"));
    CHECK_THROWS_AS(eie::write_npy(dir / "no/such/dir/x.npy", {1}, d), NpyError);
}

TEST_CASE("npz: stored and deflated members, keys without .npy, errors name file:member", "[npy]") {
    using Catch::Matchers::Contains;
    TempDir dir;
    const std::string w = npy_bytes("<f4", false, {2}, le(bits_of(1.0f), 4) + le(bits_of(-3.0f), 4));
    std::string big_raw;
    for (int k = 0; k < 1000; ++k) big_raw += le(uint64_t(k % 7), 2);
    const std::string b = npy_bytes("<i2", false, {10, 100}, big_raw);
    write_file(dir / "ok.npz", make_zip({{"fc6_w.npy", w, 0}, {"fc6_b.npy", b, 8}, {"dir/", "", 0}}));
    auto m = eie::read_npz(dir / "ok.npz");
    REQUIRE(m.size() == 2);
    CHECK(m.at("fc6_w").data == std::vector<double>{1.0, -3.0});
    CHECK(m.at("fc6_b").shape == std::vector<uint64_t>{10, 100});
    CHECK(m.at("fc6_b").data[999] == 999 % 7);

    write_file(dir / "zip64.npz", make_zip({{"fc6_w.npy", w, 0}, {"fc6_b.npy", b, 8}}, true));
    auto m64 = eie::read_npz(dir / "zip64.npz");
    REQUIRE(m64.size() == 2);
    CHECK(m64.at("fc6_w").data == m.at("fc6_w").data);
    CHECK(m64.at("fc6_b").data == m.at("fc6_b").data);

    write_file(dir / "method.npz", make_zip({{"a.npy", w, 12}}));
    CHECK_THROWS_WITH(eie::read_npz(dir / "method.npz"),
                      Contains("method.npz:a.npy") && Contains("compression method 12"));

    write_file(dir / "badmember.npz", make_zip({{"a.npy", w, 8}, {"bad.npy", "garbage", 8}}));
    CHECK_THROWS_WITH(eie::read_npz(dir / "badmember.npz"), Contains("badmember.npz:bad.npy: magic"));

    std::string corrupt = make_zip({{"a.npy", w, 0}});
    corrupt[30 + 5 + 70] ^= 0x40;  // a byte of the member's data
    write_file(dir / "crc.npz", corrupt);
    CHECK_THROWS_WITH(eie::read_npz(dir / "crc.npz"), Contains("crc.npz:a.npy") && Contains("CRC"));

    std::string deflated = make_zip({{"b.npy", b, 8}});
    write_file(dir / "cut.npz", deflated.substr(0, deflated.size() / 2));
    CHECK_THROWS_WITH(eie::read_npz(dir / "cut.npz"), Contains("cut.npz: zip:"));

    std::string scrambled = deflated;
    for (std::size_t k = 40; k < 60; ++k) scrambled[k] = char(0xff);
    write_file(dir / "scrambled.npz", scrambled);
    CHECK_THROWS_WITH(eie::read_npz(dir / "scrambled.npz"), Contains("scrambled.npz:b.npy"));

    std::string huge = make_zip({{"b.npy", b, 8}});
    const std::size_t cd = huge.size() - 22 - (46 + 5);  // the only central directory entry
    REQUIRE(huge.compare(cd, 4, le(0x02014b50, 4)) == 0);
    huge.replace(cd + 24, 4, le(0xfffffff0u, 4));  // uncompressed size: 4 GB
    write_file(dir / "huge.npz", huge);
    CHECK_THROWS_WITH(eie::read_npz(dir / "huge.npz"), Contains("huge.npz:b.npy") && Contains("implausible"));

    write_file(dir / "notzip.npz", "this is not a zip file at all, just text long enough");
    CHECK_THROWS_WITH(eie::read_npz(dir / "notzip.npz"), Contains("notzip.npz: zip: no end-of-central-directory"));

    write_file(dir / "dup.npz", make_zip({{"a.npy", w, 0}, {"a", w, 0}}));
    CHECK_THROWS_WITH(eie::read_npz(dir / "dup.npz"), Contains("duplicate array name 'a'"));
}

TEST_CASE("npy/npz: files written by NumPy read back identically, and NumPy reads ours", "[npy][python]") {
    if (!numpy_available()) {
        WARN("/usr/bin/python3 with numpy is not available: NumPy interoperability not tested");
        return;
    }
    TempDir dir;
    // NumPy writes every dtype in C and Fortran order, both byte orders, plus
    // .npz archives; it also writes the expected values as exact text (repr of
    // the float64 value), which this test parses independently of our reader.
    const std::string script = R"PY(
import sys, os, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(12345)
base = rng.standard_normal((3, 4, 5)) * 10.0
base[0, 0, 0] = 0.0
half_special = np.array([0.0, 2.0**-24, -2.0**-24, 1023 * 2.0**-24, 2.0**-14, 65504.0,
                         np.inf, -np.inf, np.nan, -0.0, 1.0 / 3.0, 1e-6], dtype=np.float64)
arrays = {}
for dt in ['f2', 'f4', 'f8']:
    for order in ['C', 'F']:
        for endian in ['<', '>']:
            arrays['%s_%s_%s' % (dt, order, 'le' if endian == '<' else 'be')] = \
                np.asarray(base, dtype=np.dtype(endian + dt), order=order)
arrays['f2_special'] = half_special.astype('<f2')
arrays['f2_special_be'] = half_special.astype('>f2')
arrays['mat_F'] = np.asfortranarray(rng.standard_normal((7, 9)).astype('<f4'))
for dt in ['i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8']:
    info = np.iinfo(dt)
    v = np.array([info.min, info.max, 0, 1, info.max // 3], dtype='<' + dt)
    arrays['int_' + dt] = v
    arrays['int_' + dt + '_be'] = v.astype('>' + dt)
arrays['scalar'] = np.float32(3.5)
arrays['empty'] = np.zeros((0, 3), dtype='<f4')
with open(os.path.join(d, 'expected.txt'), 'w') as f:
    for name, a in arrays.items():
        a = np.asarray(a)
        np.save(os.path.join(d, name + '.npy'), a)
        assert (name.find('_F') < 0) or a.ndim < 2 or np.isfortran(a)
        vals = ' '.join(repr(float(x)) for x in a.astype(np.float64).ravel(order='C'))
        f.write('%s %s %s | %s\n' % (name, a.dtype.str, ' '.join(str(s) for s in a.shape) or '-', vals))
np.savez(os.path.join(d, 'plain.npz'), fc6=arrays['f4_C_le'], fc7=arrays['f8_F_be'], half=arrays['f2_special'])
np.savez_compressed(os.path.join(d, 'comp.npz'), fc6=arrays['f4_C_le'], fc7=arrays['f8_F_be'],
                    half=arrays['f2_special'], ints=arrays['int_i2_be'])
)PY";
    write_file(dir / "gen.py", script);
    REQUIRE(std::system(("/usr/bin/python3 " + (dir / "gen.py") + " " + dir.path.string()).c_str()) == 0);

    struct Expected {
        std::string dtype;
        std::vector<uint64_t> shape;
        std::vector<double> values;
    };
    std::map<std::string, Expected> expected;
    std::istringstream lines(read_file(dir / "expected.txt"));
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream ls(line);
        std::string name, tok;
        Expected e;
        ls >> name >> e.dtype;
        while (ls >> tok && tok != "|")
            if (tok != "-") e.shape.push_back(std::stoull(tok));
        while (ls >> tok) e.values.push_back(std::strtod(tok.c_str(), nullptr));
        expected[name] = e;
    }
    REQUIRE(expected.size() == 33);

    auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (std::isnan(a[i]) != std::isnan(b[i])) return false;
            if (!std::isnan(a[i]) && (a[i] != b[i] || std::signbit(a[i]) != std::signbit(b[i]))) return false;
        }
        return true;
    };
    for (const auto& [name, e] : expected) {
        INFO("numpy file " << name << ".npy");
        NpyArray a = eie::read_npy(dir / (name + ".npy"));
        CHECK(a.dtype == e.dtype);
        CHECK(a.shape == e.shape);
        CHECK(same(a.data, e.values));
    }
    for (const char* archive : {"plain.npz", "comp.npz"}) {
        INFO("numpy archive " << archive);
        auto m = eie::read_npz(dir / archive);
        CHECK(m.size() == (std::string(archive) == "plain.npz" ? 3u : 4u));
        CHECK(same(m.at("fc6").data, expected.at("f4_C_le").values));
        CHECK(same(m.at("fc7").data, expected.at("f8_F_be").values));
        CHECK(m.at("fc7").shape == std::vector<uint64_t>{3, 4, 5});
        CHECK(same(m.at("half").data, expected.at("f2_special").values));
        if (m.count("ints")) CHECK(same(m.at("ints").data, expected.at("int_i2_be").values));
    }

    // The other direction: NumPy loads what we write.
    std::vector<float> f(24);
    std::vector<double> d(24);
    std::vector<int16_t> s(24);
    std::vector<int32_t> i32(24);
    for (int k = 0; k < 24; ++k) {
        f[k] = float(k) * 0.37f - 4.0f;
        d[k] = double(k) / 7.0 - 1.0;
        s[k] = int16_t(k * 1000 - 12000);
        i32[k] = k * 100000 - 1000000;
    }
    eie::write_npy(dir / "ours_f4.npy", {2, 3, 4}, f);
    eie::write_npy(dir / "ours_f8.npy", {24}, d);
    eie::write_npy(dir / "ours_i2.npy", {4, 6}, s);
    eie::write_npy(dir / "ours_i4.npy", {6, 4}, i32);
    eie::write_npy(dir / "ours_scalar.npy", {}, std::vector<float>{-0.5f});
    write_file(dir / "check.py", R"PY(
import sys, os, numpy as np
d = sys.argv[1]
with open(os.path.join(d, 'ours.txt'), 'w') as f:
    for name in ['ours_f4', 'ours_f8', 'ours_i2', 'ours_i4', 'ours_scalar']:
        a = np.load(os.path.join(d, name + '.npy'), allow_pickle=False)
        vals = ' '.join(repr(float(x)) for x in a.astype(np.float64).ravel())
        f.write('%s %s %s | %s\n' % (name, a.dtype.str, ' '.join(str(s) for s in a.shape) or '-', vals))
)PY");
    REQUIRE(std::system(("/usr/bin/python3 " + (dir / "check.py") + " " + dir.path.string()).c_str()) == 0);
    std::istringstream ours(read_file(dir / "ours.txt"));
    std::map<std::string, Expected> got;
    while (std::getline(ours, line)) {
        std::istringstream ls(line);
        std::string name, tok;
        Expected e;
        ls >> name >> e.dtype;
        while (ls >> tok && tok != "|")
            if (tok != "-") e.shape.push_back(std::stoull(tok));
        while (ls >> tok) e.values.push_back(std::strtod(tok.c_str(), nullptr));
        got[name] = e;
    }
    REQUIRE(got.size() == 5);
    CHECK(got["ours_f4"].dtype == "<f4");
    CHECK(got["ours_f4"].shape == std::vector<uint64_t>{2, 3, 4});
    CHECK(got["ours_f8"].dtype == "<f8");
    CHECK(got["ours_i2"].dtype == "<i2");
    CHECK(got["ours_i4"].dtype == "<i4");
    CHECK(got["ours_i4"].shape == std::vector<uint64_t>{6, 4});
    CHECK(got["ours_scalar"].shape.empty());
    CHECK(got["ours_scalar"].values == std::vector<double>{-0.5});
    for (int k = 0; k < 24; ++k) {
        CHECK(got["ours_f4"].values[k] == double(f[k]));
        CHECK(got["ours_f8"].values[k] == d[k]);
        CHECK(got["ours_i2"].values[k] == s[k]);
        CHECK(got["ours_i4"].values[k] == i32[k]);
    }
}
