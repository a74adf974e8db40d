// IDX reader: hand-made files of every element type, plain and gzip, the
// malformed headers a damaged or hostile file has, and the Fashion-MNIST test
// set that Debian's dataset-fashion-mnist ships.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <algorithm>
#include <functional>

#include "eie/compress/idx.hpp"
#include "testbenches/common/temp_dir.hpp"

using eie::IdxError;
using eie::test::TempDir;

namespace {

std::string be32(uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string header(uint8_t type, const std::vector<uint32_t>& dims) {
    std::string h{char(0), char(0), char(type), char(dims.size())};
    for (auto d : dims) h += be32(d);
    return h;
}

void write_plain(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

void write_gz(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
    gzclose(f);
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const IdxError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("idx: unsigned-byte images, plain and gzip, scaled to [0, 1]") {
    TempDir t("eie-idx");
    std::string pixels;
    for (int i = 0; i < 2 * 2 * 3; ++i) pixels += char(i * 20);
    const std::string bytes = header(0x08, {2, 2, 3}) + pixels;
    write_plain(t / "images-idx3-ubyte", bytes);
    write_gz(t / "images-idx3-ubyte.gz", bytes);
    for (const auto* name : {"images-idx3-ubyte", "images-idx3-ubyte.gz"}) {
        CAPTURE(name);
        CHECK(eie::looks_like_idx(t / name));
        const auto raw = eie::read_idx(t / name);
        CHECK(raw.dtype == "idx:u1");
        CHECK(raw.shape == std::vector<uint64_t>{2, 2, 3});
        CHECK(raw.data[11] == 220);
        const auto img = eie::read_idx_images(t / name);
        CHECK(img.shape == std::vector<uint64_t>{2, 6});
        CHECK(img.data[0] == 0.0);
        CHECK(img.data[11] == Approx(220.0 / 255.0));
    }
}

TEST_CASE("idx: every element type decodes big-endian") {
    TempDir t("eie-idx");
    float f = -1.5f;
    uint32_t fb;
    std::memcpy(&fb, &f, 4);
    double d = 1e-300;
    uint64_t db;
    std::memcpy(&db, &d, 8);
    struct Case {
        uint8_t type;
        std::string payload;
        double expected;
        const char* dtype;
    } cases[] = {
        {0x08, std::string(1, char(0xff)), 255, "idx:u1"},
        {0x09, std::string(1, char(0xff)), -1, "idx:i1"},
        {0x0B, std::string{char(0x80), char(0x01)}, -32767, "idx:i2"},
        {0x0C, be32(0xfffffffe), -2, "idx:i4"},
        {0x0D, be32(fb), -1.5, "idx:f4"},
        {0x0E, be32(uint32_t(db >> 32)) + be32(uint32_t(db)), 1e-300, "idx:f8"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.dtype);
        write_gz(t / "x.gz", header(c.type, {1}) + c.payload);
        const auto a = eie::read_idx(t / "x.gz");
        CHECK(a.dtype == c.dtype);
        REQUIRE(a.data.size() == 1);
        CHECK(a.data[0] == c.expected);
    }
}

TEST_CASE("idx: labels of any integer type, and what is not a label file") {
    TempDir t("eie-idx");
    write_plain(t / "l", header(0x08, {3}) + std::string{char(7), char(0), char(9)});
    CHECK(eie::read_idx_labels(t / "l") == std::vector<int64_t>{7, 0, 9});
    write_plain(t / "l2", header(0x0C, {2}) + be32(3) + be32(1000));
    CHECK(eie::read_idx_labels(t / "l2") == std::vector<int64_t>{3, 1000});
    write_plain(t / "img", header(0x08, {1, 1, 1}) + std::string(1, char(1)));
    CHECK_THAT(error_of([&] { eie::read_idx_labels(t / "img"); }),
               Catch::Contains("a label file must be idx1 of an integer type") && Catch::Contains("(1, 1, 1)"));
    write_plain(t / "fl", header(0x0D, {1}) + be32(0));
    CHECK_THAT(error_of([&] { eie::read_idx_labels(t / "fl"); }), Catch::Contains("f4"));
    CHECK_THAT(error_of([&] { eie::read_idx_images(t / "l"); }),
               Catch::Contains("an image file must be idx3 unsigned byte"));
}

TEST_CASE("idx: damaged and hostile headers are clear errors that allocate nothing big") {
    TempDir t("eie-idx");
    write_plain(t / "npy", "\x93NUMPY\x01\x00");
    CHECK_THAT(error_of([&] { eie::read_idx(t / "npy"); }), Catch::Contains("magic: bytes 93 4e 55 4d are not an IDX magic"));
    CHECK_FALSE(eie::looks_like_idx(t / "npy"));
    write_plain(t / "type", std::string{0, 0, char(0x0A), 1});
    CHECK_THAT(error_of([&] { eie::read_idx(t / "type"); }), Catch::Contains("element type 0x0a is not an IDX type"));
    write_plain(t / "dims0", std::string{0, 0, 8, 0});
    CHECK_THAT(error_of([&] { eie::read_idx(t / "dims0"); }), Catch::Contains("0 dimensions (allowed 1 .. 16)"));
    write_plain(t / "short", std::string{0, 0});
    CHECK_THAT(error_of([&] { eie::read_idx(t / "short"); }), Catch::Contains("too short for an IDX header (2 bytes)"));
    write_plain(t / "sizes", header(0x08, {5, 5, 5}).substr(0, 10));
    CHECK_THAT(error_of([&] { eie::read_idx(t / "sizes"); }), Catch::Contains("3 dimension sizes need 12 bytes, the file has 6"));
    // 4 G x 4 G x 16 bytes claimed by a 28-byte file.
    write_gz(t / "huge.gz", header(0x0E, {0xffffffff, 0xffffffff, 2}) + "abcd");
    CHECK_THAT(error_of([&] { eie::read_idx(t / "huge.gz"); }), Catch::Contains("multiply past 2^64 bytes"));
    // A 4 GB claim that multiplies fine: refused after reading what is there.
    write_gz(t / "big.gz", header(0x08, {60000, 256, 256}) + std::string(100, 'x'));
    CHECK_THAT(error_of([&] { eie::read_idx(t / "big.gz"); }),
               Catch::Contains("data: truncated: shape (60000, 256, 256) of unsigned byte needs 3932160000 bytes after "
                               "the header, the file has 100"));
    write_plain(t / "long", header(0x08, {2}) + "abc");
    CHECK_THAT(error_of([&] { eie::read_idx(t / "long"); }), Catch::Contains("longer than its header's shape (2,)"));
    std::string gz = t / "bad.gz";
    write_gz(gz, header(0x08, {4000}) + std::string(4000, 'z'));
    {
        std::fstream f(gz, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(-12, std::ios::end);
        f.write("garbage!", 8);
    }
    CHECK_THAT(error_of([&] { eie::read_idx(gz); }), Catch::Contains(gz + ": data:"));
    write_plain(t / "empty", header(0x08, {0, 28, 28}));
    CHECK_THAT(error_of([&] { eie::read_idx_images(t / "empty"); }), Catch::Contains("holds no image pixels"));
}

TEST_CASE("idx: only regular files are read") {
    TempDir t("eie-idx");
    CHECK_THAT(error_of([&] { eie::read_idx(t / "missing"); }), Catch::Contains("missing: cannot open: no such file"));
    CHECK_THAT(error_of([&] { eie::read_idx(t.path.string()); }), Catch::Contains("is not a regular file"));
    REQUIRE(::mkfifo((t / "fifo").c_str(), 0600) == 0);
    CHECK_THAT(error_of([&] { eie::read_idx(t / "fifo"); }), Catch::Contains("is not a regular file"));
    std::filesystem::create_symlink("/dev/zero", t / "zero");
    CHECK_THAT(error_of([&] { eie::read_idx(t / "zero"); }), Catch::Contains("is not a regular file"));
}

TEST_CASE("idx: the Fashion-MNIST test set from Debian's dataset-fashion-mnist") {
    const std::string dir = "/usr/share/datasets/fashion-mnist/";
    const auto images = eie::read_idx_images(dir + "t10k-images-idx3-ubyte.gz");
    const auto labels = eie::read_idx_labels(dir + "t10k-labels-idx1-ubyte.gz");
    CHECK(images.shape == std::vector<uint64_t>{10000, 784});
    REQUIRE(labels.size() == 10000);
    std::vector<int> per_class(10, 0);
    for (auto l : labels) {
        REQUIRE(l >= 0);
        REQUIRE(l < 10);
        ++per_class[l];
    }
    CHECK(per_class == std::vector<int>(10, 1000));  // the test set is balanced
    CHECK(*std::min_element(images.data.begin(), images.data.end()) == 0.0);
    CHECK(*std::max_element(images.data.begin(), images.data.end()) == 1.0);
}
