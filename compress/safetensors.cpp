#include "eie/compress/safetensors.hpp"
#include "eie/compress/npz.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace eie {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw NpyError(fmt::format("{}: {}", path, what));
}

uint64_t le(const unsigned char* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

double half(uint16_t h) {
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? std::ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : std::ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

struct Elem {
    int size;
    double (*read)(const unsigned char*);
};

bool element(const std::string& dtype, Elem& e) {
    static const std::map<std::string, Elem> table = {
        {"F16", {2, [](const unsigned char* p) { return half(uint16_t(le(p, 2))); }}},
        {"BF16", {2, [](const unsigned char* p) {
             uint32_t b = uint32_t(le(p, 2)) << 16;
             float f;
             std::memcpy(&f, &b, 4);
             return double(f);
         }}},
        {"F32", {4, [](const unsigned char* p) {
             uint32_t b = uint32_t(le(p, 4));
             float f;
             std::memcpy(&f, &b, 4);
             return double(f);
         }}},
        {"F64", {8, [](const unsigned char* p) {
             uint64_t b = le(p, 8);
             double f;
             std::memcpy(&f, &b, 8);
             return f;
         }}},
        {"I8", {1, [](const unsigned char* p) { return double(int8_t(p[0])); }}},
        {"U8", {1, [](const unsigned char* p) { return double(p[0]); }}},
        {"I16", {2, [](const unsigned char* p) { return double(int16_t(le(p, 2))); }}},
        {"U16", {2, [](const unsigned char* p) { return double(uint16_t(le(p, 2))); }}},
        {"I32", {4, [](const unsigned char* p) { return double(int32_t(le(p, 4))); }}},
        {"U32", {4, [](const unsigned char* p) { return double(uint32_t(le(p, 4))); }}},
        {"I64", {8, [](const unsigned char* p) { return double(int64_t(le(p, 8))); }}},
        {"U64", {8, [](const unsigned char* p) { return double(le(p, 8)); }}},
    };
    auto it = table.find(dtype);
    if (it == table.end()) return false;
    e = it->second;
    return true;
}

// The NumPy descr of the same element type, so that the callers' dtype
// checks (float for weights) work alike for both containers; BF16, which
// NumPy lacks, is "<fb" (a float, two bytes).
std::string numpy_descr(const std::string& st) {
    static const std::map<std::string, std::string> m = {
        {"F16", "<f2"}, {"BF16", "<fb"}, {"F32", "<f4"}, {"F64", "<f8"}, {"I8", "|i1"}, {"U8", "|u1"},
        {"I16", "<i2"}, {"U16", "<u2"}, {"I32", "<i4"}, {"U32", "<u4"}, {"I64", "<i8"}, {"U64", "<u8"}};
    return m.at(st);
}

}  // namespace

bool is_safetensors_path(const std::string& path) {
    const std::string ext = ".safetensors";
    return path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

std::map<std::string, NpyArray> read_safetensors(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
    const uint64_t n = bytes.size();
    if (n < 8) fail(path, fmt::format("header length: file has {} bytes, a safetensors file starts with 8", n));
    const uint64_t hlen = le(u, 8);
    if (hlen > n - 8)
        fail(path, fmt::format("header length: {} bytes claimed but only {} follow", hlen, n - 8));
    nlohmann::json h;
    try {
        h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(hlen));
    } catch (const std::exception& e) {
        fail(path, fmt::format("header: not valid JSON ({})", e.what()));
    }
    if (!h.is_object()) fail(path, "header: not a JSON object");
    const uint64_t data_len = n - 8 - hlen;
    const unsigned char* data = u + 8 + hlen;
    std::map<std::string, NpyArray> out;
    for (auto it = h.begin(); it != h.end(); ++it) {
        if (it.key() == "__metadata__") continue;
        const std::string who = fmt::format("tensor '{}'", it.key());
        const nlohmann::json& t = it.value();
        if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets"))
            fail(path, fmt::format("{}: needs dtype, shape and data_offsets", who));
        if (!t["dtype"].is_string()) fail(path, fmt::format("{}: dtype is not a string", who));
        const std::string dtype = t["dtype"];
        Elem e;
        if (!element(dtype, e))
            fail(path, fmt::format("{}: dtype '{}' is not supported (allowed: F16, BF16, F32, F64, I8..I64, U8..U64)",
                                   who, dtype));
        NpyArray a;
        a.dtype = numpy_descr(dtype);
        uint64_t count = 1;
        if (!t["shape"].is_array()) fail(path, fmt::format("{}: shape is not a list", who));
        for (const auto& d : t["shape"]) {
            if (!d.is_number_unsigned()) fail(path, fmt::format("{}: shape entry {} is not a size", who, d.dump()));
            const uint64_t v = d.get<uint64_t>();
            if (v && count > std::numeric_limits<uint64_t>::max() / v)
                fail(path, fmt::format("{}: shape overflows", who));
            count *= v;
            a.shape.push_back(v);
        }
        const auto& off = t["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            fail(path, fmt::format("{}: data_offsets must be [begin, end]", who));
        const uint64_t b = off[0], end = off[1];
        if (b > end || end > data_len)
            fail(path, fmt::format("{}: data_offsets [{}, {}] outside the {} data bytes", who, b, end, data_len));
        if (count > (end - b) / uint64_t(e.size) || count * uint64_t(e.size) != end - b)
            fail(path, fmt::format("{}: shape ({}) of {} needs {} bytes but data_offsets give {}", who,
                                   fmt::join(a.shape, ", "), dtype, count > (end - b) ? std::string("more") :
                                   std::to_string(count * uint64_t(e.size)), end - b));
        a.data.resize(count);
        for (uint64_t k = 0; k < count; ++k) a.data[k] = e.read(data + b + k * uint64_t(e.size));
        out.emplace(it.key(), std::move(a));
    }
    return out;
}

std::map<std::string, NpyArray> read_tensor_archive(const std::string& path) {
    return is_safetensors_path(path) ? read_safetensors(path) : read_npz(path);
}

}  // namespace eie
