// NumPy .npy reader and writer (.npz archives: compress/npz.cpp).
//
// Format references: numpy/lib/format.py (the .npy header: magic, version,
// header length, a Python-literal dict with descr, fortran_order and shape)
// and the PKWARE APPNOTE (zip local headers, central directory, zip64).
// Nothing here trusts the file: every length is checked before it is used,
// and every error names the file (or "file.npz:member") and the field.
#include "eie/hw/npy.hpp"

#include "eie/hw/file_io.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace eie {

uint64_t NpyArray::size() const {
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

namespace {

const char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
    throw NpyError(source + ": " + what);
}

uint64_t load_le(const unsigned char* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

uint64_t load_be(const unsigned char* p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
    return v;
}

bool host_is_little_endian() {
    const uint16_t one = 1;
    unsigned char b;
    std::memcpy(&b, &one, 1);
    return b == 1;
}

// IEEE 754 binary16 to double, exactly (every half value is a double).
double half_to_double(uint16_t h) {
    const int sign = h >> 15;
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    double v;
    if (exponent == 0) {
        v = std::ldexp(double(mantissa), -24);  // zero or subnormal: m * 2^-24
    } else if (exponent == 0x1f) {
        v = mantissa ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    } else {
        v = std::ldexp(double(mantissa | 0x400), exponent - 25);  // 1.m * 2^(e-15)
    }
    return sign ? -v : v;
}

// ---------------------------------------------------------------------------
// A parser for the small Python-literal subset numpy writes in the header:
// dicts, tuples, lists, strings, integers, True/False/None.
struct PyValue {
    enum Kind { str, integer, boolean, none, tuple, list, dict } kind = none;
    std::string s;
    uint64_t i = 0;
    bool negative = false;
    bool b = false;
    std::vector<PyValue> items;
    std::vector<std::pair<std::string, PyValue>> entries;
};

class HeaderParser {
public:
    HeaderParser(const std::string& text, const std::string& source) : t_(text), src_(source) {}

    PyValue parse_all() {
        PyValue v = value();
        skip_ws();
        if (pos_ != t_.size()) error("unexpected text after the dict");
        return v;
    }

private:
    [[noreturn]] void error(const std::string& what) {
        fail(src_, "header: cannot parse the header dict (" + what + " at offset " + std::to_string(pos_) +
                       "): '" + printable(t_, 120) + "'");
    }
    void skip_ws() {
        while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' || t_[pos_] == '\r'))
            ++pos_;
    }
    bool eat(char c) {
        skip_ws();
        if (pos_ < t_.size() && t_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }
    PyValue value() {
        // Each nested tuple, list or dict is one level of recursion: bound it
        // so a hostile header cannot overflow the stack.
        if (depth_ >= kNpyMaxHeaderNesting)
            error("nesting deeper than " + std::to_string(kNpyMaxHeaderNesting) + " levels");
        ++depth_;
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        skip_ws();
        if (pos_ >= t_.size()) error("unexpected end");
        char c = t_[pos_];
        if (c == '{') return dict_value();
        if (c == '(') return sequence('(', ')', PyValue::tuple);
        if (c == '[') return sequence('[', ']', PyValue::list);
        if (c == '\'' || c == '"') {
            PyValue v;
            v.kind = PyValue::str;
            v.s = string_literal();
            return v;
        }
        if (c == '-' || (c >= '0' && c <= '9')) return integer();
        for (const char* word : {"True", "False", "None"}) {
            std::size_t n = std::strlen(word);
            if (t_.compare(pos_, n, word) == 0) {
                pos_ += n;
                PyValue v;
                v.kind = word[0] == 'N' ? PyValue::none : PyValue::boolean;
                v.b = word[0] == 'T';
                return v;
            }
        }
        error(std::string("unexpected character '") + printable(std::string(1, c)) + "'");
    }
    std::string string_literal() {
        char quote = t_[pos_++];
        std::string s;
        while (pos_ < t_.size() && t_[pos_] != quote) {
            if (t_[pos_] == '\\') {
                if (++pos_ >= t_.size()) break;
            }
            s += t_[pos_++];
        }
        if (pos_ >= t_.size()) error("unterminated string");
        ++pos_;
        return s;
    }
    PyValue integer() {
        PyValue v;
        v.kind = PyValue::integer;
        if (t_[pos_] == '-') {
            v.negative = true;
            ++pos_;
        }
        std::size_t start = pos_;
        while (pos_ < t_.size() && t_[pos_] >= '0' && t_[pos_] <= '9') {
            uint64_t digit = uint64_t(t_[pos_] - '0');
            if (v.i > (std::numeric_limits<uint64_t>::max() - digit) / 10) error("integer too large");
            v.i = v.i * 10 + digit;
            ++pos_;
        }
        if (pos_ == start) error("expected digits");
        // Python 2 era files may carry an 'L' suffix on longs.
        if (pos_ < t_.size() && (t_[pos_] == 'L' || t_[pos_] == 'l')) ++pos_;
        return v;
    }
    PyValue sequence(char open, char close, PyValue::Kind kind) {
        PyValue v;
        v.kind = kind;
        ++pos_;  // open
        (void)open;
        if (eat(close)) return v;
        for (;;) {
            v.items.push_back(value());
            if (eat(close)) return v;
            if (!eat(',')) error(std::string("expected ',' or '") + close + "'");
            if (eat(close)) return v;  // trailing comma, as in (3,)
        }
    }
    PyValue dict_value() {
        PyValue v;
        v.kind = PyValue::dict;
        ++pos_;
        if (eat('}')) return v;
        for (;;) {
            skip_ws();
            if (pos_ >= t_.size() || (t_[pos_] != '\'' && t_[pos_] != '"')) error("expected a string key");
            std::string key = string_literal();
            if (!eat(':')) error("expected ':' after key '" + key + "'");
            v.entries.emplace_back(key, value());
            if (eat('}')) return v;
            if (!eat(',')) error("expected ',' or '}'");
            if (eat('}')) return v;
        }
    }

    const std::string& t_;
    const std::string& src_;
    std::size_t pos_ = 0;
    int depth_ = 0;
};

std::string describe_value(const PyValue& v) {
    switch (v.kind) {
        case PyValue::str: return "'" + v.s + "'";
        case PyValue::integer: return (v.negative ? "-" : "") + std::to_string(v.i);
        case PyValue::boolean: return v.b ? "True" : "False";
        case PyValue::none: return "None";
        case PyValue::tuple: return "a tuple";
        case PyValue::list: return "a list";
        case PyValue::dict: return "a dict";
    }
    return "?";
}

const char* kSupportedDtypes =
    "supported: f2 f4 f8 (float16/32/64), i1 i2 i4 i8, u1 u2 u4 u8, b1, with byte order '<', '>', '|' or '='";

struct Dtype {
    char kind = 0;  // 'f', 'i', 'u', 'b'
    int size = 0;
    bool swap = false;  // stored with the other byte order than little-endian
    bool big = false;
};

Dtype parse_descr(const PyValue& descr, const std::string& source) {
    if (descr.kind != PyValue::str)
        fail(source, "dtype: descr " + describe_value(descr) +
                         " is a structured (record) dtype, not supported; " + kSupportedDtypes);
    const std::string& d = descr.s;
    std::size_t p = 0;
    char order = '|';
    if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
        order = d[0];
        p = 1;
    }
    if (p < d.size() && d[p] == 'O')
        fail(source, "dtype: '" + d +
                         "' is an object array (pickled Python objects), not supported; save a numeric array "
                         "(e.g. arr.astype(np.float32))");
    Dtype t;
    if (p + 2 != d.size() || std::string("fiub").find(d[p]) == std::string::npos || d[p + 1] < '1' ||
        d[p + 1] > '8')
        fail(source, "dtype: '" + d + "' is not supported; " + kSupportedDtypes);
    t.kind = d[p];
    t.size = d[p + 1] - '0';
    bool ok = false;
    switch (t.kind) {
        case 'f': ok = t.size == 2 || t.size == 4 || t.size == 8; break;
        case 'i':
        case 'u': ok = t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8; break;
        case 'b': ok = t.size == 1; break;
    }
    if (!ok) fail(source, "dtype: '" + d + "' is not supported; " + kSupportedDtypes);
    // '|' (not applicable) and '=' (native) both mean the host order, as in numpy.
    bool little = order == '<' || ((order == '|' || order == '=') && host_is_little_endian());
    t.big = !little;
    return t;
}

double convert(const unsigned char* p, const Dtype& t) {
    uint64_t bits = t.big ? load_be(p, t.size) : load_le(p, t.size);
    switch (t.kind) {
        case 'f':
            if (t.size == 2) return half_to_double(uint16_t(bits));
            if (t.size == 4) {
                uint32_t b32 = uint32_t(bits);
                float f;
                std::memcpy(&f, &b32, 4);
                return f;
            } else {
                double d;
                std::memcpy(&d, &bits, 8);
                return d;
            }
        case 'i': {
            // Sign-extend from t.size bytes.
            int shift = 64 - 8 * t.size;
            int64_t v = int64_t(bits << shift) >> shift;
            return double(v);
        }
        case 'u': return double(bits);
        case 'b': return bits ? 1.0 : 0.0;
    }
    return 0;
}

}  // namespace

namespace {

// A stream's total size before its end is seen (header sizes are checked, data sizes later).
constexpr uint64_t kSizeUnknown = std::numeric_limits<uint64_t>::max() / 2;

// The header of a .npy: where the data start and what they hold.
struct NpyHeader {
    Dtype dt;
    bool fortran = false;
    std::vector<uint64_t> shape;
    std::string dtype;
    uint64_t count = 0;
    uint64_t data_start = 0;
    uint64_t data_bytes() const { return count * uint64_t(dt.size); }
};

// Where the header ends, from the fixed prefix (magic, version, length):
// needs the first min(total, 12) bytes. Checks the header fits `total`.
uint64_t header_end(const std::string& bytes, uint64_t total, const std::string& source) {
    const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
    if (bytes.size() < kMagicLen + 2 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0)
        fail(source, "magic: not a .npy file (expected the bytes \\x93NUMPY at offset 0, found '" +
                         printable(bytes.substr(0, 8)) + "')");
    const int major = u[6], minor = u[7];
    std::size_t len_bytes;
    if (major == 1)
        len_bytes = 2;
    else if (major == 2 || major == 3)
        len_bytes = 4;
    else
        fail(source, "version: .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                         " is not supported (1.0, 2.0 and 3.0 are)");
    if (bytes.size() < 8 + len_bytes)
        fail(source, "header: truncated (file has " + std::to_string(total) +
                         " bytes, the header length field ends at byte " + std::to_string(8 + len_bytes) + ")");
    const uint64_t header_len = load_le(u + 8, int(len_bytes));
    if (header_len > kNpyMaxHeaderBytes)
        fail(source, "header: length " + std::to_string(header_len) + " exceeds the limit of " +
                         std::to_string(kNpyMaxHeaderBytes) + " bytes");
    const uint64_t data_start = 8 + len_bytes + header_len;
    if (data_start > total)
        fail(source, "header: truncated (the header claims " + std::to_string(header_len) +
                         " bytes, ending at byte " + std::to_string(data_start) + ", but the file has " +
                         std::to_string(total) + " bytes)");
    return data_start;
}

// Parses the header held in `bytes` (at least header_end() bytes) of a file
// of `total` bytes, and checks the data size against the file's real size.
NpyHeader parse_header(const std::string& bytes, uint64_t total, const std::string& source) {
    const uint64_t data_start = header_end(bytes, total, source);
    const std::size_t prefix = bytes[6] == 1 ? 10 : 12;
    // Version 1/2 headers are latin-1, version 3 UTF-8; the fields we need are ASCII either way.
    const std::string header = bytes.substr(prefix, data_start - prefix);

    PyValue dict = HeaderParser(header, source).parse_all();
    if (dict.kind != PyValue::dict) fail(source, "header: expected a dict, found " + describe_value(dict));
    const PyValue* descr = nullptr;
    const PyValue* fortran = nullptr;
    const PyValue* shape_v = nullptr;
    for (const auto& [key, val] : dict.entries) {
        if (key == "descr")
            descr = &val;
        else if (key == "fortran_order")
            fortran = &val;
        else if (key == "shape")
            shape_v = &val;
        else
            fail(source, "header: unexpected key '" + key + "' (a .npy header has descr, fortran_order, shape)");
    }
    if (!descr) fail(source, "header: key 'descr' is missing");
    if (!fortran) fail(source, "header: key 'fortran_order' is missing");
    if (!shape_v) fail(source, "header: key 'shape' is missing");

    const Dtype dt = parse_descr(*descr, source);
    if (fortran->kind != PyValue::boolean)
        fail(source, "fortran_order: expected True or False, found " + describe_value(*fortran));
    if (shape_v->kind != PyValue::tuple)
        fail(source, "shape: expected a tuple of non-negative integers, found " + describe_value(*shape_v));

    NpyHeader h;
    h.dt = dt;
    h.fortran = fortran->b;
    h.dtype = descr->s;
    h.data_start = data_start;
    auto& arr = h;
    uint64_t count = 1;
    bool overflow = false;
    for (std::size_t k = 0; k < shape_v->items.size(); ++k) {
        const PyValue& d = shape_v->items[k];
        if (d.kind != PyValue::integer || d.negative)
            fail(source, "shape: dimension " + std::to_string(k) + " is " + describe_value(d) +
                             ", expected a non-negative integer");
        arr.shape.push_back(d.i);
        if (d.i != 0 && count > std::numeric_limits<uint64_t>::max() / d.i) overflow = true;
        count *= d.i;
    }
    const uint64_t available = total - data_start;
    if (overflow || count > std::numeric_limits<uint64_t>::max() / uint64_t(dt.size))
        fail(source, "shape: the element count overflows 64 bits");
    const uint64_t needed = count * uint64_t(dt.size);
    if (total != kSizeUnknown && needed != available)
        fail(source, std::string("data: ") + (needed > available ? "too short" : "too long") + " for shape " +
                         "and dtype '" + arr.dtype + "': needs " + std::to_string(needed) + " bytes, file has " +
                         std::to_string(available));

    h.count = count;
    return h;
}

// Converts the data (exactly h.data_bytes() bytes) to doubles in C order.
NpyArray decode(const NpyHeader& h, const unsigned char* data, const std::string& source) {
    NpyArray arr;
    arr.shape = h.shape;
    arr.dtype = h.dtype;
    const Dtype& dt = h.dt;
    const uint64_t count = h.count;
    try {
        arr.data.reserve(count);
    } catch (const std::exception&) {  // bad_alloc or length_error: a real but too large file
        fail(source, "data: " + std::to_string(count) + " elements (" + std::to_string(count * 8) +
                         " bytes as doubles) do not fit in memory");
    }
    arr.data.resize(count);
    const std::size_t rank = arr.shape.size();
    if (!h.fortran || rank <= 1) {
        for (uint64_t i = 0; i < count; ++i) arr.data[i] = convert(data + i * dt.size, dt);
    } else if (count > 0) {
        // Fortran order: element (i0, .., ik) is stored at sum_d i_d * fstride_d
        // with fstride_0 = 1. Walk the C-order indices with an odometer and
        // keep the Fortran offset up to date incrementally.
        std::vector<uint64_t> fstride(rank), idx(rank, 0);
        uint64_t s = 1;
        for (std::size_t d = 0; d < rank; ++d) {
            fstride[d] = s;
            s *= arr.shape[d];
        }
        uint64_t off = 0;
        for (uint64_t i = 0; i < count; ++i) {
            arr.data[i] = convert(data + off * dt.size, dt);
            for (std::size_t d = rank; d-- > 0;) {
                if (++idx[d] < arr.shape[d]) {
                    off += fstride[d];
                    break;
                }
                off -= (idx[d] - 1) * fstride[d];
                idx[d] = 0;
            }
        }
    }
    return arr;
}

}  // namespace

NpyArray parse_npy(const std::string& bytes, const std::string& source) {
    const NpyHeader h = parse_header(bytes, bytes.size(), source);
    return decode(h, reinterpret_cast<const unsigned char*>(bytes.data()) + h.data_start, source);
}

namespace {

// Appends up to `count` bytes of `in` to `out` in chunks, so memory grows
// with the bytes that really arrive, not with what a header claims.
uint64_t read_stream(std::istream& in, uint64_t count, std::string& out) {
    uint64_t done = 0;
    char buf[1 << 16];
    while (done < count && in) {
        in.read(buf, std::streamsize(std::min<uint64_t>(sizeof buf, count - done)));
        out.append(buf, std::size_t(in.gcount()));
        done += uint64_t(in.gcount());
    }
    return done;
}

// A pipe (e.g. a shell's <(...)) has no size to check in advance: the
// header is read first, then exactly the data it needs, growing as they come.
NpyArray read_npy_stream(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot open .npy file: ") + std::strerror(errno));
    std::string head;
    read_stream(in, 12, head);
    // header_end() needs the total size: until EOF is seen, "unknown" is "as large as claimed".
    const uint64_t unknown = kSizeUnknown;
    const uint64_t data_start = header_end(head, head.size() < 12 ? head.size() : unknown, path);
    if (data_start > head.size()) read_stream(in, data_start - head.size(), head);
    if (head.size() < data_start)
        fail(path, "header: truncated (the stream ends after " + std::to_string(head.size()) + " bytes, the header at byte " +
                       std::to_string(data_start) + ")");
    const NpyHeader h = parse_header(head, unknown, path);
    std::string data = head.substr(data_start);
    try {
        read_stream(in, h.data_bytes() - data.size(), data);
    } catch (const std::bad_alloc&) {
        fail(path, "data: " + std::to_string(h.data_bytes()) + " bytes do not fit in memory");
    }
    const bool longer = in.peek() != std::char_traits<char>::eof();
    if (data.size() != h.data_bytes() || longer)
        fail(path, std::string("data: ") + (longer ? "too long" : "too short") + " for shape and dtype '" + h.dtype +
                       "': needs " + std::to_string(h.data_bytes()) + " bytes, the stream has " +
                       (longer ? "more" : std::to_string(data.size())));
    return decode(h, reinterpret_cast<const unsigned char*>(data.data()), path);
}

bool is_pipe(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode);
}

}  // namespace

NpyArray read_npy(const std::string& path) {
    if (is_pipe(path)) return read_npy_stream(path);
    try {
        // Header first, checked against the file's real size, then the data:
        // nothing is allocated from a size the file cannot back.
        const RegularFile file(path, ".npy");
        std::string head = file.read_at(0, std::min<uint64_t>(file.size(), 12));
        const uint64_t data_start = header_end(head, file.size(), path);
        head = file.read_at(0, data_start);
        const NpyHeader h = parse_header(head, file.size(), path);
        std::string data;
        try {
            data = file.read_at(data_start, h.data_bytes());
        } catch (const std::bad_alloc&) {
            fail(path, "data: " + std::to_string(h.data_bytes()) + " bytes (" + std::to_string(h.count) +
                           " elements) do not fit in memory");
        }
        return decode(h, reinterpret_cast<const unsigned char*>(data.data()), path);
    } catch (const FileError& e) {
        throw NpyError(e.what());
    }
}


std::optional<uint64_t> npy_needed_bytes(const std::string& prefix, uint64_t total, const std::string& source) {
    if (prefix.size() < 12) return std::nullopt;
    uint64_t end_of_header = 0;
    try {
        end_of_header = header_end(prefix, total, source);
    } catch (const NpyError&) {
        return total;  // parse_npy reports it on the whole file
    }
    if (end_of_header == 0) return total;
    if (prefix.size() < end_of_header) return std::nullopt;
    const NpyHeader h = parse_header(prefix, total, source);  // checks `total` against the header
    return h.data_start + h.data_bytes();
}

// ---------------------------------------------------------------------------
// Writing. The header follows numpy: version 1.0 unless the header does not
// fit in 64 KB; padded with spaces and a newline so the data start on a
// 64-byte boundary.
std::string npy_bytes(const std::string& descr, bool fortran_order, const std::vector<uint64_t>& shape,
                      const std::string& raw_data) {
    std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                       ", 'shape': (";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) dict += ", ";
        dict += std::to_string(shape[i]);
    }
    if (shape.size() == 1) dict += ",";
    dict += "), }";
    int major = 1;
    std::size_t prefix = 10;
    if (dict.size() + 1 + 64 > 65535) {
        major = 2;
        prefix = 12;
    }
    std::size_t total = prefix + dict.size() + 1;
    std::size_t pad = (64 - total % 64) % 64;
    dict.append(pad, ' ');
    dict += '\n';
    std::string out(kMagic, kMagicLen);
    out += char(major);
    out += char(0);
    const uint64_t hl = dict.size();
    for (std::size_t i = 0; i < prefix - 8; ++i) out += char((hl >> (8 * i)) & 0xff);
    out += dict;
    out += raw_data;
    return out;
}

namespace {

template <typename T>
std::string little_endian_bytes(const std::vector<T>& data) {
    std::string raw(data.size() * sizeof(T), '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        uint64_t bits = 0;
        if constexpr (sizeof(T) == 2) {
            uint16_t b;
            std::memcpy(&b, &data[i], 2);
            bits = b;
        } else if constexpr (sizeof(T) == 4) {
            uint32_t b;
            std::memcpy(&b, &data[i], 4);
            bits = b;
        } else {
            std::memcpy(&bits, &data[i], 8);
        }
        for (std::size_t k = 0; k < sizeof(T); ++k) raw[i * sizeof(T) + k] = char((bits >> (8 * k)) & 0xff);
    }
    return raw;
}

template <typename T>
void write_impl(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<T>& data,
                const char* descr) {
    uint64_t count = 1;
    for (auto d : shape) count *= d;
    if (count != data.size())
        throw NpyError(path + ": shape: holds " + std::to_string(count) + " elements but " +
                       std::to_string(data.size()) + " values were given");
    const std::string bytes = npy_bytes(descr, false, shape, little_endian_bytes(data));
    try {
        write_file_atomic(path, bytes);  // a failure leaves no partial file
    } catch (const FileError& e) {
        throw NpyError(e.what());
    }
}

}  // namespace

void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<float>& data) {
    write_impl(path, shape, data, "<f4");
}
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<double>& data) {
    write_impl(path, shape, data, "<f8");
}
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<int16_t>& data) {
    write_impl(path, shape, data, "<i2");
}
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<int32_t>& data) {
    write_impl(path, shape, data, "<i4");
}

}  // namespace eie
