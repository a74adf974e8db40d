// IDX reader (format in idx.hpp).
#include "eie/compress/idx.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

namespace eie {

namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw IdxError(path + ": " + what); }

struct ElementType {
    uint8_t code;
    int bytes;
    const char* dtype;
    const char* name;
};

constexpr ElementType kTypes[] = {
    {0x08, 1, "idx:u1", "unsigned byte"}, {0x09, 1, "idx:i1", "signed byte"}, {0x0B, 2, "idx:i2", "int16"},
    {0x0C, 4, "idx:i4", "int32"},         {0x0D, 4, "idx:f4", "float32"},     {0x0E, 8, "idx:f8", "float64"},
};
constexpr unsigned kMaxDims = 16;  // the data sets use 1 to 4; more is a damaged header

const ElementType* element_type(uint8_t code) {
    for (const auto& t : kTypes)
        if (t.code == code) return &t;
    return nullptr;
}

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Opens a plain or gzip file (zlib reads plain files transparently). Only
// regular files: a device or FIFO under an IDX name would never end.
GzFile open_regular(const std::string& path) {
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || st.type() == fs::file_type::not_found) fail(path, "cannot open: no such file");
    if (st.type() != fs::file_type::regular) fail(path, "is not a regular file (IDX data must be a plain or .gz file)");
    GzFile f(gzopen(path.c_str(), "rb"));
    if (!f) fail(path, std::string("cannot open: ") + std::strerror(errno));
    return f;
}

// Reads up to n bytes, growing the buffer only as data arrives.
std::string read_up_to(gzFile_s* f, const std::string& path, uint64_t n) {
    std::string out;
    constexpr uint64_t kChunk = 1 << 20;
    while (out.size() < n) {
        const uint64_t want = std::min<uint64_t>(kChunk, n - out.size());
        const std::size_t old = out.size();
        out.resize(old + want);
        const int got = gzread(f, &out[old], static_cast<unsigned>(want));
        if (got < 0) {
            int errnum = 0;
            const char* msg = gzerror(f, &errnum);
            fail(path, std::string("data: cannot decompress: ") + (msg ? msg : "unknown zlib error"));
        }
        out.resize(old + static_cast<std::size_t>(got));
        if (got == 0) break;
    }
    return out;
}

uint32_t load_be32(const unsigned char* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct Header {
    const ElementType* type = nullptr;
    std::vector<uint64_t> shape;
    uint64_t count = 1;
};

// Parses the magic and the dimension sizes; the sizes are only claims until
// read_idx has found that much data.
Header read_header(gzFile_s* f, const std::string& path) {
    const std::string magic = read_up_to(f, path, 4);
    if (magic.size() < 4) fail(path, "magic: file too short for an IDX header (" + std::to_string(magic.size()) + " bytes)");
    const auto* m = reinterpret_cast<const unsigned char*>(magic.data());
    char hex[32];
    std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", m[0], m[1], m[2], m[3]);
    if (m[0] != 0 || m[1] != 0)
        fail(path, std::string("magic: bytes ") + hex + " are not an IDX magic (expected 00 00 TT NN)");
    Header h;
    h.type = element_type(m[2]);
    if (!h.type)
        fail(path, std::string("magic: element type 0x") + std::string(hex + 6, 2) +
                       " is not an IDX type (allowed 08 ubyte, 09 byte, 0b int16, 0c int32, 0d float32, 0e float64)");
    const unsigned ndims = m[3];
    if (ndims == 0 || ndims > kMaxDims)
        fail(path, "magic: " + std::to_string(ndims) + " dimensions (allowed 1 .. " + std::to_string(kMaxDims) + ")");
    const std::string sizes = read_up_to(f, path, 4ull * ndims);
    if (sizes.size() < 4ull * ndims)
        fail(path, "header: truncated: " + std::to_string(ndims) + " dimension sizes need " + std::to_string(4 * ndims) +
                       " bytes, the file has " + std::to_string(sizes.size()));
    for (unsigned d = 0; d < ndims; ++d) {
        const uint64_t size = load_be32(reinterpret_cast<const unsigned char*>(sizes.data()) + 4 * d);
        h.shape.push_back(size);
        if (size != 0 && h.count > std::numeric_limits<uint64_t>::max() / size / 8)
            fail(path, "header: the dimension sizes multiply past 2^64 bytes");
        h.count *= size;
    }
    return h;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + (shape.size() == 1 ? ",)" : ")");
}

double element(const unsigned char* p, const ElementType& t) {
    switch (t.code) {
        case 0x08: return p[0];
        case 0x09: return static_cast<int8_t>(p[0]);
        case 0x0B: return static_cast<int16_t>(uint16_t((p[0] << 8) | p[1]));
        case 0x0C: return static_cast<int32_t>(load_be32(p));
        case 0x0D: {
            const uint32_t bits = load_be32(p);
            float v;
            std::memcpy(&v, &bits, 4);
            return v;
        }
        default: {
            const uint64_t bits = (uint64_t(load_be32(p)) << 32) | load_be32(p + 4);
            double v;
            std::memcpy(&v, &bits, 8);
            return v;
        }
    }
}

}  // namespace

bool looks_like_idx(const std::string& path) {
    try {
        GzFile f = open_regular(path);
        read_header(f.get(), path);
        return true;
    } catch (const IdxError&) {
        return false;
    }
}

NpyArray read_idx(const std::string& path) {
    GzFile f = open_regular(path);
    const Header h = read_header(f.get(), path);
    const uint64_t payload = h.count * uint64_t(h.type->bytes);
    const std::string data = read_up_to(f.get(), path, payload);
    if (data.size() < payload)
        fail(path, "data: truncated: shape " + shape_text(h.shape) + " of " + h.type->name + " needs " +
                       std::to_string(payload) + " bytes after the header, the file has " + std::to_string(data.size()));
    if (!read_up_to(f.get(), path, 1).empty())
        fail(path, "data: the file is longer than its header's shape " + shape_text(h.shape) + " of " + h.type->name +
                       " (" + std::to_string(payload) + " bytes) says");
    NpyArray a;
    a.shape = h.shape;
    a.dtype = h.type->dtype;
    a.data.resize(h.count);
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    for (uint64_t i = 0; i < h.count; ++i) a.data[i] = element(p + i * h.type->bytes, *h.type);
    return a;
}

NpyArray read_idx_images(const std::string& path) {
    NpyArray a = read_idx(path);
    if (a.dtype != "idx:u1" || a.shape.size() != 3)
        fail(path, "header: an image file must be idx3 unsigned byte (N, rows, cols); this one is " +
                       std::to_string(a.shape.size()) + "-dimensional " + a.dtype.substr(4) + " of shape " +
                       shape_text(a.shape));
    if (a.shape[0] == 0 || a.shape[1] * a.shape[2] == 0)
        fail(path, "header: shape " + shape_text(a.shape) + " holds no image pixels");
    a.shape = {a.shape[0], a.shape[1] * a.shape[2]};
    for (double& v : a.data) v /= 255.0;
    return a;
}

std::vector<int64_t> read_idx_labels(const std::string& path) {
    const NpyArray a = read_idx(path);
    if (a.shape.size() != 1 || a.dtype == "idx:f4" || a.dtype == "idx:f8")
        fail(path, "header: a label file must be idx1 of an integer type; this one is " + std::to_string(a.shape.size()) +
                       "-dimensional " + a.dtype.substr(4) + " of shape " + shape_text(a.shape));
    return std::vector<int64_t>(a.data.begin(), a.data.end());
}

}  // namespace eie
