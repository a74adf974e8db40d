#include "eie/hw/image_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "eie/hw/geometry.hpp"
#include "eie/hw/spmat_line.hpp"
#include "eie/hw/file_io.hpp"
#include "eie/hw/fixed_point.hpp"
#include "eie/hw/npy.hpp"

namespace eie {

namespace fs = std::filesystem;
using nlohmann::json;
// The manifest keeps its fields in writing order, so it reads top-down.
using ojson = nlohmann::ordered_json;

namespace {

constexpr const char* kFormat = "eie-image";


std::string pe_dir_name(std::size_t p) { return fmt::format("pe_{:04d}", p); }

uint32_t hex_digits(uint32_t bits) { return (bits + 3) / 4; }

// ---------------------------------------------------------------- writing

void write_file(const fs::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw ImageError(fmt::format("{}: cannot create file: {}", path.string(), std::strerror(errno)));
    out.write(content.data(), std::streamsize(content.size()));
    out.close();
    if (!out) throw ImageError(fmt::format("{}: cannot write file: {}", path.string(), std::strerror(errno)));
}

// A `bits`-wide word as MSB-first hex, `digits` characters.
void append_hex(std::string& s, uint64_t v, uint32_t digits) {
    static const char* hx = "0123456789abcdef";
    for (uint32_t d = digits; d-- > 0;) s += hx[(v >> (4 * d)) & 0xf];
    s += '\n';
}

// One SRAM line per text line, printed MSB first: the line's bytes in
// reverse order, two hex digits each (spmat_line_bits is a multiple of 8).
std::string spmat_hex(const std::vector<uint16_t>& entries, const ArchConfig& a) {
    const SpmatLineLayout layout(a);
    const std::vector<uint8_t> bytes = layout.pack(entries);
    const uint64_t lines = layout.lines_for(entries.size());
    std::string s;
    s.reserve(lines * (2 * layout.line_bytes + 1));
    static const char* hx = "0123456789abcdef";
    for (uint64_t line = 0; line < lines; ++line) {
        const uint8_t* p = bytes.data() + line * layout.line_bytes;
        for (uint32_t k = layout.line_bytes; k-- > 0;) {
            s += hx[p[k] >> 4];
            s += hx[p[k] & 0xf];
        }
        s += '\n';
    }
    return s;
}

// Checks what the file format cannot represent, before anything is written.
void check_writable(const Image& img, const std::string& dir) {
    const ArchConfig& a = img.arch;
    try {
        a.validate(dir + ": image arch");
    } catch (const ConfigError& e) {
        throw ImageError(e.what());
    }
    auto fail = [&](const std::string& what) { throw ImageError(fmt::format("{}: cannot write image: {}", dir, what)); };
    if (img.pes.size() != a.num_pes) fail(fmt::format("{} PE images for num_pes = {}", img.pes.size(), a.num_pes));
    const uint32_t eb = a.entry_bits();
    for (std::size_t p = 0; p < img.pes.size(); ++p) {
        const PeImage& pe = img.pes[p];
        for (std::size_t k = 0; k < pe.entries.size(); ++k)
            if (eb < 16 && (pe.entries[k] >> eb) != 0)
                fail(fmt::format("PE {} entry {} = {:#x} does not fit {} bits", p, k, pe.entries[k], eb));
        for (std::size_t k = 0; k < pe.pointers.size(); ++k)
            if (pe.pointers[k] > a.ptr_max_value())
                fail(fmt::format("PE {} pointer {} = {} exceeds ptr_bits = {}", p, k, pe.pointers[k], a.ptr_bits));
        for (std::size_t s = 0; s < pe.codebooks.size(); ++s) {
            if (pe.codebooks[s].size() != a.codebook_entries())
                fail(fmt::format("PE {} codebook slot {} has {} values, expected {}", p, s, pe.codebooks[s].size(),
                                 a.codebook_entries()));
        }
        if (pe.layer_counts.size() != img.layers.size())
            fail(fmt::format("PE {} has counts for {} layers, expected {}", p, pe.layer_counts.size(), img.layers.size()));
    }
    for (const auto& d : img.layers)
        if (d.codebook.size() != a.codebook_entries() || d.codebook_float.size() != a.codebook_entries())
            fail(fmt::format("layer '{}' codebook has {} values ({} float), expected {}", d.name, d.codebook.size(),
                             d.codebook_float.size(), a.codebook_entries()));
    if (!img.expected.empty() && img.expected.size() != img.layers.size())
        fail(fmt::format("{} expected vectors for {} layers", img.expected.size(), img.layers.size()));
    if (!img.expected_float.empty() && img.expected_float.size() != img.layers.size())
        fail(fmt::format("{} float expected vectors for {} layers", img.expected_float.size(), img.layers.size()));
}

ojson placement_json(const ActPlacement& p) { return {{"in_sram", p.in_sram}, {"sram_base", p.sram_base}}; }

ojson capacity_json(uint64_t used, uint64_t capacity) {
    return {{"used", used}, {"capacity", capacity}, {"percent", capacity ? 100.0 * double(used) / double(capacity) : 0.0}};
}

}  // namespace

nlohmann::ordered_json layer_json(const LayerDesc& d) {
    ojson l;
    l["name"] = d.name;
    l["in_len"] = d.in_len;
    l["out_len"] = d.out_len;
    l["has_bias"] = d.has_bias;
    l["activation"] = activation_name(d.act);
    l["formats"] = {{"in_frac", d.fmt.in_frac}, {"w_frac", d.fmt.w_frac}, {"out_frac", d.fmt.out_frac},
                    {"shift", d.fmt.shift()}};
    l["num_batches"] = d.num_batches;
    l["ptr_base"] = d.ptr_base;
    l["entry_base"] = d.entry_base;
    l["codebook_slot"] = d.codebook_slot;
    l["codebook"] = d.codebook;
    l["codebook_float"] = d.codebook_float;
    l["input"] = placement_json(d.input);
    l["output"] = placement_json(d.output);
    return l;
}

namespace {

ojson manifest_json(const Image& img, const json& extra) {
    const ArchConfig& a = img.arch;
    ojson m;
    m["format"] = kFormat;
    m["format_version"] = kImageFormatVersion;
    m["arch"] = ojson(to_json(a));
    m["derived"] = {{"entry_bits", a.entry_bits()},
                    {"entries_per_line", a.entries_per_line()},
                    {"spmat_lines", a.spmat_lines()},
                    {"spmat_capacity_entries", a.spmat_capacity_entries()},
                    {"ptr_capacity", a.ptr_capacity()},
                    {"codebook_entries", a.codebook_entries()}};
    m["layers"] = ojson::array();
    for (const auto& d : img.layers) m["layers"].push_back(layer_json(d));
    ojson v = ojson::object();
    if (!img.input.empty()) v["input"] = "input.npy";
    if (!img.input_float.empty()) v["input_float"] = "input_float.npy";
    v["expected"] = ojson::array();
    for (std::size_t k = 0; k < img.expected.size(); ++k) v["expected"].push_back(fmt::format("expected_L{}.npy", k));
    v["expected_float"] = ojson::array();
    for (std::size_t k = 0; k < img.expected_float.size(); ++k)
        v["expected_float"].push_back(fmt::format("expected_float_L{}.npy", k));
    m["vectors"] = v;
    m["pes"] = ojson::array();
    for (std::size_t p = 0; p < img.pes.size(); ++p) {
        const PeImage& pe = img.pes[p];
        const std::string d = pe_dir_name(p);
        ojson j;
        j["index"] = p;
        j["files"] = {{"spmat", d + "/spmat.hex"},
                      {"ptr_even", d + "/ptr_even.hex"},
                      {"ptr_odd", d + "/ptr_odd.hex"},
                      {"codebook", d + "/codebook.hex"}};
        j["entries"] = pe.entries.size();
        j["pointers"] = pe.pointers.size();
        j["codebook_slots"] = pe.codebooks.size();
        j["layers"] = ojson::array();
        for (const auto& c : pe.layer_counts)
            j["layers"].push_back({{"entries", c.entries}, {"padding", c.padding}, {"rows", c.rows}});
        j["capacity"] = {{"spmat", capacity_json(pe.entries.size(), a.spmat_capacity_entries())},
                         {"pointer", capacity_json(pe.pointers.size(), a.ptr_capacity())},
                         {"codebook", capacity_json(pe.codebooks.size(), a.codebook_slots)}};
        m["pes"].push_back(j);
    }
    m["report"] = ojson(extra);
    return m;
}

void write_contents(const Image& img, const fs::path& tmp, const json& extra) {
    const ArchConfig& a = img.arch;
    const uint32_t pdig = hex_digits(a.ptr_bits), cdig = hex_digits(a.codebook_value_bits);
    const uint64_t cmask = (uint64_t(1) << a.codebook_value_bits) - 1;
    for (std::size_t p = 0; p < img.pes.size(); ++p) {
        const PeImage& pe = img.pes[p];
        fs::path d = tmp / pe_dir_name(p);
        std::error_code ec;
        if (!fs::create_directory(d, ec))
            throw ImageError(fmt::format("{}: cannot create directory: {}", d.string(), ec.message()));
        write_file(d / "spmat.hex", spmat_hex(pe.entries, a));
        std::string even, odd;
        for (std::size_t k = 0; k < pe.pointers.size(); ++k) append_hex(k % 2 ? odd : even, pe.pointers[k], pdig);
        write_file(d / "ptr_even.hex", even);
        write_file(d / "ptr_odd.hex", odd);
        std::string cb;
        for (const auto& slot : pe.codebooks)
            for (int32_t v : slot) append_hex(cb, uint64_t(int64_t(v)) & cmask, cdig);
        write_file(d / "codebook.hex", cb);
    }
    auto npy = [&](const std::string& name, const auto& data) {
        try {
            write_npy((tmp / name).string(), {uint64_t(data.size())}, data);
        } catch (const std::exception& e) {
            throw ImageError(fmt::format("{}: cannot write: {}", (tmp / name).string(), e.what()));
        }
    };
    if (!img.input.empty()) npy("input.npy", img.input);
    if (!img.input_float.empty()) npy("input_float.npy", img.input_float);
    for (std::size_t k = 0; k < img.expected.size(); ++k) npy(fmt::format("expected_L{}.npy", k), img.expected[k]);
    for (std::size_t k = 0; k < img.expected_float.size(); ++k)
        npy(fmt::format("expected_float_L{}.npy", k), img.expected_float[k]);
    // The manifest last: a directory with a manifest is a complete image.
    write_file(tmp / "manifest.json", manifest_json(img, extra).dump(1) + "\n");
}

// ---------------------------------------------------------------- reading

// Field access with errors that name the file and the JSON path.
struct Ctx {
    std::string file;  // manifest path
    [[noreturn]] void fail(const std::string& path, const std::string& what) const {
        throw ImageError(fmt::format("{}: {}: {}", file, path, what));
    }
    const json& at(const json& j, const std::string& path, const char* key) const {
        if (!j.is_object()) fail(path, "must be an object");
        auto it = j.find(key);
        if (it == j.end()) fail(path.empty() ? key : path + "." + key, "required field is missing");
        return *it;
    }
    static std::string sub(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }
    uint64_t u64(const json& j, const std::string& path, const char* key, uint64_t max = ~0ull) const {
        const json& v = at(j, path, key);
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
            fail(sub(path, key), fmt::format("{} must be a non-negative integer", v.dump()));
        uint64_t x = v.get<uint64_t>();
        if (x > max) fail(sub(path, key), fmt::format("{} is out of range (allowed: 0 .. {})", x, max));
        return x;
    }
    int i32(const json& j, const std::string& path, const char* key, int lo, int hi) const {
        const json& v = at(j, path, key);
        if (!v.is_number_integer()) fail(sub(path, key), fmt::format("{} must be an integer", v.dump()));
        int64_t x = v.get<int64_t>();
        if (x < lo || x > hi) fail(sub(path, key), fmt::format("{} is out of range (allowed: {} .. {})", x, lo, hi));
        return int(x);
    }
    bool boolean(const json& j, const std::string& path, const char* key) const {
        const json& v = at(j, path, key);
        if (!v.is_boolean()) fail(sub(path, key), fmt::format("{} must be true or false", v.dump()));
        return v.get<bool>();
    }
    std::string str(const json& j, const std::string& path, const char* key) const {
        const json& v = at(j, path, key);
        if (!v.is_string()) fail(sub(path, key), fmt::format("{} must be a string", v.dump()));
        return v.get<std::string>();
    }
    const json& array(const json& j, const std::string& path, const char* key) const {
        const json& v = at(j, path, key);
        if (!v.is_array()) fail(sub(path, key), fmt::format("must be an array, got {}", v.type_name()));
        return v;
    }
};

// A relative file name from the manifest: no escaping the image directory.
fs::path member_path(const fs::path& dir, const std::string& name, const Ctx& c, const std::string& field) {
    fs::path rel(name);
    if (name.empty() || rel.is_absolute())
        c.fail(field, fmt::format("'{}' must be a relative file name inside the image directory", name));
    for (const auto& part : rel)
        if (part == "..") c.fail(field, fmt::format("'{}' must not leave the image directory", name));
    return dir / rel;
}

// The manifest is JSON text of a few MB at most; a larger file is refused
// before it is read.
constexpr uint64_t kMaxManifestBytes = uint64_t(256) << 20;

std::string read_file(const fs::path& path, const char* what, uint64_t max_bytes) {
    try {
        return read_regular_file(path.string(), what, max_bytes);
    } catch (const FileError& e) {
        throw ImageError(e.what());
    }
}

// The lines of a hex file, each exactly `digits` hex characters; `expected`
// lines (a final newline is optional, nothing may follow the last line).
// A hex file's text and its lines (views into the text), every line checked
// to be exactly `digits` hex digits.
struct HexFile {
    std::string text;
    std::vector<std::string_view> lines;
};

bool is_hex_digit(char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

HexFile hex_lines(const fs::path& path, uint32_t digits, uint64_t expected) {
    HexFile f;
    // A line is `digits` characters and a newline (CRLF tolerated): a longer
    // file cannot be right, and is refused before it is read.
    const uint64_t line_max = uint64_t(digits) + 2;
    const uint64_t max_bytes = expected > (uint64_t(1) << 62) / line_max ? uint64_t(1) << 62 : expected * line_max;
    f.text = read_file(path, "hex", max_bytes);
    f.lines.reserve(std::min<uint64_t>(expected, f.text.size() / (digits + 1) + 1));
    const std::string_view text(f.text);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // tolerate CRLF
        const std::size_t lineno = f.lines.size() + 1;
        if (line.size() != digits)
            throw ImageError(fmt::format("{} line {}: '{}' has {} characters, expected {} hex digits", path.string(),
                                         lineno, printable(std::string(line)), line.size(), digits));
        for (char ch : line)
            if (!is_hex_digit(ch))
                throw ImageError(fmt::format("{} line {}: '{}' contains '{}', expected only hex digits 0-9a-f",
                                             path.string(), lineno, printable(std::string(line)),
                                             printable(std::string(1, ch))));
        f.lines.push_back(line);
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    if (f.lines.size() != expected)
        throw ImageError(fmt::format("{}: {} lines, expected {} (from manifest.json)", path.string(), f.lines.size(),
                                     expected));
    return f;
}

uint32_t nibble(char ch) {
    if (ch >= '0' && ch <= '9') return uint32_t(ch - '0');
    if (ch >= 'a' && ch <= 'f') return uint32_t(ch - 'a' + 10);
    return uint32_t(ch - 'A' + 10);
}

// A hex word of at most 64 bits (pointer, codebook value) that must fit `bits`.
uint64_t hex_word(std::string_view line, uint32_t bits, const fs::path& path, std::size_t lineno,
                  const char* what) {
    uint64_t v = 0;
    for (char ch : line) v = (v << 4) | nibble(ch);
    if (bits < 64 && (v >> bits) != 0)
        throw ImageError(fmt::format("{} line {}: {} 0x{} does not fit {} bits", path.string(), lineno, what, line, bits));
    return v;
}

// Float vectors and codebooks hold activations and weights: finite, and far
// below this bound (a larger value means a corrupt or hostile file).
constexpr double kMaxFloatMagnitude = 1e30;

std::vector<double> read_vector(const fs::path& path, uint64_t len, bool integer, uint32_t act_bits) {
    NpyArray arr;
    try {
        arr = read_npy(path.string());
    } catch (const std::exception& e) {
        throw ImageError(e.what());
    }
    if (arr.shape.size() != 1 || arr.shape[0] != len)
        throw ImageError(fmt::format("{}: shape ({}) must be ({},) from manifest.json", path.string(),
                                     fmt::join(arr.shape, ", "), len));
    const bool is_int = arr.dtype.size() >= 2 && (arr.dtype[1] == 'i' || arr.dtype[1] == 'u');
    if (integer != is_int)
        throw ImageError(fmt::format("{}: dtype '{}' must be {}", path.string(), arr.dtype,
                                     integer ? "an integer type (int32)" : "a float type (float64)"));
    if (!integer) {
        for (std::size_t k = 0; k < arr.data.size(); ++k)
            if (!std::isfinite(arr.data[k]) || std::fabs(arr.data[k]) > kMaxFloatMagnitude)
                throw ImageError(fmt::format("{}: element {} = {} is not allowed (float vectors must be finite, "
                                             "magnitude at most {:g})",
                                             path.string(), k, arr.data[k], kMaxFloatMagnitude));
    }
    if (integer) {
        const double lo = double(-(int64_t(1) << (act_bits - 1))), hi = double((int64_t(1) << (act_bits - 1)) - 1);
        for (std::size_t k = 0; k < arr.data.size(); ++k)
            if (arr.data[k] < lo || arr.data[k] > hi)
                throw ImageError(fmt::format("{}: element {} = {} is out of range for {}-bit activations ({} .. {})",
                                             path.string(), k, arr.data[k], act_bits, lo, hi));
    }
    return arr.data;
}

ActPlacement read_placement(const Ctx& c, const json& j, const std::string& path) {
    ActPlacement p;
    p.in_sram = c.boolean(j, path, "in_sram");
    p.sram_base = static_cast<uint32_t>(c.u64(j, path, "sram_base", 0xffffffffu));
    return p;
}

}  // namespace

bool is_image_dir(const std::string& dir_name) {
    const fs::path dir(dir_name);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return false;
    std::ifstream in(dir / "manifest.json");
    if (!in) return false;
    try {
        json j;
        in >> j;
        return j.is_object() && j.contains("format") && j["format"] == kFormat;
    } catch (const std::exception&) {
        return false;
    }
}

void write_image_dir(const Image& image, const std::string& dir_in, const nlohmann::json& extra_manifest,
                     const std::map<std::string, std::string>& extra_files) {
    std::string dir = dir_in;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (dir.empty()) throw ImageError("image directory: the path is empty");
    if (!extra_manifest.is_object())
        throw ImageError(fmt::format("{}: the report merged into manifest.json must be a JSON object", dir));
    check_writable(image, dir);

    const fs::path target(dir);
    fs::path parent = target.parent_path();
    if (parent.empty()) parent = ".";
    std::error_code ec;
    if (!fs::exists(parent, ec))
        throw ImageError(fmt::format("{}: cannot write the image directory: parent '{}' does not exist", dir,
                                     parent.string()));
    if (!fs::is_directory(parent, ec))
        throw ImageError(fmt::format("{}: cannot write the image directory: parent '{}' is not a directory", dir,
                                     parent.string()));
    const bool replace = fs::exists(fs::symlink_status(target, ec));
    if (replace && !is_image_dir(target))
        throw ImageError(fmt::format("{}: exists and is not an image directory (no manifest.json with format '{}'); "
                                     "refusing to replace it",
                                     dir, kFormat));

    for (const auto& [name, content] : extra_files) {
        const fs::path rel(name);
        bool leaves = name.empty() || rel.is_absolute();
        for (const auto& part : rel) leaves |= part == ".." || part == ".";
        if (leaves) throw ImageError(fmt::format("{}: extra file '{}' must be a relative name inside it", dir, name));
    }
    try {
        replace_directory_atomic(dir, [&](const std::string& tmp_dir) {
            const fs::path tmp(tmp_dir);
            write_contents(image, tmp, extra_manifest);
            for (const auto& [name, content] : extra_files) {
                const fs::path path = tmp / name;
                if (fs::exists(fs::symlink_status(path, ec)))
                    throw ImageError(fmt::format("{}: extra file '{}' would replace a file of the image", dir, name));
                if (path.has_parent_path()) fs::create_directories(path.parent_path());
                write_file(path, content);
            }
        });
    } catch (const ImageError&) {
        throw;
    } catch (const std::exception& e) {
        throw ImageError(fmt::format("{}: cannot write the image directory: {}", dir, e.what()));
    }
}

namespace {

// --- the steps of read_image_dir, in order

json read_manifest(const fs::path& dir, const Ctx& c) {
    const fs::path mpath = dir / "manifest.json";
    json m;
    {
        std::string text = read_file(mpath, "manifest", kMaxManifestBytes);
        try {
            m = json::parse(text);
        } catch (const json::exception& e) {
            throw ImageError(fmt::format("{}: not valid JSON: {}", mpath.string(), e.what()));
        }
    }
    if (!m.is_object()) c.fail("(top level)", "must be a JSON object");
    const std::string format = c.str(m, "", "format");
    if (format != kFormat)
        c.fail("format", fmt::format("'{}' is not an image manifest (expected '{}')", printable(format), kFormat));
    {
        const json& v = c.at(m, "", "format_version");
        if (!v.is_number_integer() || v.get<int64_t>() != kImageFormatVersion)
            throw ImageError(fmt::format("{}: format_version = {} is not supported (this reader supports version {})",
                                         mpath.string(), v.dump(), kImageFormatVersion));
    }
    return m;
}

// Every parameter that describes the stored data is required: an image
// encoded for one architecture must not silently take another's defaults.
ArchConfig read_arch(const json& m, const Ctx& c, const std::string& manifest) {
    try {
        // PE microarchitecture variants are not stored data and default when
        // absent (docs/image-format.md); every other key is required.
        const json& ja = c.at(m, "", "arch");
        if (ja.is_object())
            for (const ParamSpec& spec : param_specs())
                if (!spec.image_default && !ja.contains(spec.name))
                    c.fail(std::string("arch.") + spec.name,
                           "is missing (every parameter is required except the PE variant keys)");
        return arch_from_json(ja, manifest + ": arch");
    } catch (const ConfigError& e) {
        throw ImageError(e.what());
    }
}

// Layer l's descriptor, checked against the architecture and the layer before it.
LayerDesc read_layer(const json& j, std::size_t l, const std::vector<LayerDesc>& before, const ArchConfig& a,
                     const Ctx& c) {
    const uint32_t ncodes = a.codebook_entries(), cvb = a.codebook_value_bits;
    const int64_t cmin = -(int64_t(1) << (cvb - 1)), cmax = (int64_t(1) << (cvb - 1)) - 1;
    const std::string p = fmt::format("layers[{}]", l);
    LayerDesc d;
    d.name = c.str(j, p, "name");
    d.in_len = static_cast<uint32_t>(c.u64(j, p, "in_len", 0xfffffffeu));
    d.out_len = static_cast<uint32_t>(c.u64(j, p, "out_len", 0xffffffffu));
    if (d.in_len == 0 || d.out_len == 0) c.fail(p, fmt::format("shape {} x {} is empty", d.out_len, d.in_len));
    if (l > 0 && d.in_len != before[l - 1].out_len)
        c.fail(p + ".in_len", fmt::format("{} does not match layers[{}].out_len = {}", d.in_len, l - 1,
                                          before[l - 1].out_len));
    d.has_bias = c.boolean(j, p, "has_bias");
    const std::string act = c.str(j, p, "activation");
    if (!activation_from_name(act, d.act))
        c.fail(p + ".activation", fmt::format("'{}' is not known (allowed: {})", printable(act), activation_names()));
    const json& f = c.at(j, p, "formats");
    const std::string fp = p + ".formats";
    d.fmt.in_frac = c.i32(f, fp, "in_frac", -64, 64);
    d.fmt.w_frac = c.i32(f, fp, "w_frac", -64, 64);
    d.fmt.out_frac = c.i32(f, fp, "out_frac", -64, 64);
    if (f.contains("shift") && c.i32(f, fp, "shift", -192, 192) != d.fmt.shift())
        c.fail(fp + ".shift", fmt::format("{} differs from in_frac + w_frac - out_frac = {}", f["shift"].dump(),
                                          d.fmt.shift()));
    if (d.fmt.shift() < fx::kMinShift || d.fmt.shift() > fx::kMaxShift)
        c.fail(fp, fmt::format("in_frac + w_frac - out_frac = {} is out of range (allowed: {} .. {})",
                               d.fmt.shift(), fx::kMinShift, fx::kMaxShift));
    if (d.has_bias && (d.fmt.in_frac < 0 || d.fmt.in_frac > int(a.act_bits) - 2))
        c.fail(fp + ".in_frac", fmt::format("{} is out of range for a layer with bias (allowed: 0 .. {}: the bias "
                                            "activation 1.0 must fit {}-bit activations)",
                                            d.fmt.in_frac, int(a.act_bits) - 2, a.act_bits));
    if (l > 0 && d.fmt.in_frac != before[l - 1].fmt.out_frac)
        c.fail(fp + ".in_frac", fmt::format("{} differs from layers[{}].formats.out_frac = {}", d.fmt.in_frac, l - 1,
                                            before[l - 1].fmt.out_frac));
    d.num_batches = static_cast<uint32_t>(c.u64(j, p, "num_batches", 0xffffffffu));
    if (d.num_batches != layer_batches(d.out_len, a))
        c.fail(p + ".num_batches",
               fmt::format("{} differs from the {} batches of {} outputs on {} PEs with arch.act_rf_entries = {}",
                           d.num_batches, layer_batches(d.out_len, a), d.out_len, a.num_pes, a.act_rf_entries));
    d.ptr_base = c.u64(j, p, "ptr_base");
    d.entry_base = c.u64(j, p, "entry_base");
    d.codebook_slot = static_cast<uint32_t>(c.u64(j, p, "codebook_slot", a.codebook_slots - 1));
    const json& cb = c.array(j, p, "codebook");
    const json& cbf = c.array(j, p, "codebook_float");
    if (cb.size() != ncodes)
        c.fail(p + ".codebook", fmt::format("has {} values, expected 2^weight_bits = {}", cb.size(), ncodes));
    if (cbf.size() != ncodes)
        c.fail(p + ".codebook_float", fmt::format("has {} values, expected 2^weight_bits = {}", cbf.size(), ncodes));
    for (uint32_t k = 0; k < ncodes; ++k) {
        if (!cb[k].is_number_integer() || cb[k].get<int64_t>() < cmin || cb[k].get<int64_t>() > cmax)
            c.fail(fmt::format("{}.codebook[{}]", p, k),
                   fmt::format("{} is not an integer in {} .. {} ({}-bit codebook values)", cb[k].dump(), cmin, cmax,
                               cvb));
        if (!cbf[k].is_number() || !std::isfinite(cbf[k].get<double>()) ||
            std::fabs(cbf[k].get<double>()) > kMaxFloatMagnitude)
            c.fail(fmt::format("{}.codebook_float[{}]", p, k),
                   fmt::format("{} must be a finite number of magnitude at most {:g}", cbf[k].dump(),
                               kMaxFloatMagnitude));
        d.codebook.push_back(cb[k].get<int32_t>());
        d.codebook_float.push_back(cbf[k].get<double>());
    }
    if (d.codebook[0] != 0 || d.codebook_float[0] != 0.0)
        c.fail(p + ".codebook[0]", "must be 0 (code 0 is the exact zero used by padding)");
    d.input = read_placement(c, c.at(j, p, "input"), p + ".input");
    d.output = read_placement(c, c.at(j, p, "output"), p + ".output");
    return d;
}

// The sparse-matrix SRAM of one PE from its hex file: one line per text line.
std::vector<uint16_t> read_spmat(const fs::path& path, uint64_t n_entries, const ArchConfig& a) {
    const uint32_t epl = a.entries_per_line();
    std::vector<uint16_t> entries;
    const uint32_t digits = a.spmat_line_bits / 4;
    const HexFile hex = hex_lines(path, digits, (n_entries + epl - 1) / epl);
    const auto& lines = hex.lines;
    entries.resize(n_entries);  // bounded: the file holds this many entries
    // A line as little-endian bytes (byte k = bits 8k .. 8k+7, the last two digits first).
    const SpmatLineLayout layout(a);
    std::vector<uint8_t> bytes(layout.line_bytes, 0);
    for (std::size_t li = 0; li < lines.size(); ++li) {
        const std::string_view s = lines[li];
        for (uint32_t k = 0; k < layout.line_bytes; ++k)
            bytes[k] = static_cast<uint8_t>(nibble(s[digits - 1 - 2 * k]) | (nibble(s[digits - 2 - 2 * k]) << 4));
        if (const uint32_t pos = layout.first_spare_bit_set(bytes.data()); pos < layout.line_bits())
            throw ImageError(fmt::format("{} line {}: bit {} is set but lies beyond the {} entries of a line",
                                         path.string(), li + 1, pos, epl));
        for (uint32_t k = 0; k < epl; ++k) {
            const uint16_t e = layout.entry(bytes.data(), k);
            const uint64_t addr = uint64_t(li) * epl + k;
            if (addr < n_entries) entries[addr] = e;
            else if (e != 0)
                throw ImageError(fmt::format("{} line {}: slot {} = {:#x} lies beyond the {} entries given in "
                                             "manifest.json (must be 0)",
                                             path.string(), li + 1, k, e, n_entries));
        }
    }
    return entries;
}

// The pointer SRAM of one PE: even addresses in one bank file, odd in the other.
std::vector<uint32_t> read_pointers(const fs::path& even_path, const fs::path& odd_path, uint64_t n_ptr,
                                    const ArchConfig& a) {
    // (HexFile holds views into its own text: built in place, never moved.)
    const HexFile even = hex_lines(even_path, hex_digits(a.ptr_bits), (n_ptr + 1) / 2);
    const HexFile odd = hex_lines(odd_path, hex_digits(a.ptr_bits), n_ptr / 2);
    std::vector<uint32_t> pointers(n_ptr);  // bounded: the two files hold this many words
    for (int bank = 0; bank < 2; ++bank) {
        const fs::path& path = bank ? odd_path : even_path;
        const auto& lines = (bank ? odd : even).lines;
        for (std::size_t li = 0; li < lines.size(); ++li)
            pointers[2 * li + bank] = static_cast<uint32_t>(hex_word(lines[li], a.ptr_bits, path, li + 1, "pointer"));
    }
    return pointers;
}

// The codebooks of one PE: n_slots x 2^weight_bits two's-complement values, value 0 of each slot 0.
std::vector<std::vector<int32_t>> read_codebooks(const fs::path& path, uint64_t n_slots, const ArchConfig& a) {
    const uint32_t ncodes = a.codebook_entries(), cvb = a.codebook_value_bits;
    const HexFile hex = hex_lines(path, hex_digits(cvb), n_slots * ncodes);
    const auto& lines = hex.lines;
    std::vector<std::vector<int32_t>> codebooks(n_slots, std::vector<int32_t>(ncodes, 0));
    for (std::size_t li = 0; li < lines.size(); ++li) {
        uint64_t v = hex_word(lines[li], cvb, path, li + 1, "codebook value");
        int64_t sv = (v >> (cvb - 1)) & 1 ? int64_t(v) - (int64_t(1) << cvb) : int64_t(v);  // two's complement
        codebooks[li / ncodes][li % ncodes] = static_cast<int32_t>(sv);
    }
    for (std::size_t s = 0; s < n_slots; ++s)
        if (codebooks[s][0] != 0)
            throw ImageError(fmt::format("{} line {}: codebook slot {} value 0 is {} (must be 0)", path.string(),
                                         s * ncodes + 1, s, codebooks[s][0]));
    return codebooks;
}

// The per-layer counts of PE pi, checked against its memories.
void read_layer_counts(const json& j, const std::string& p, std::size_t pi, const Image& img, PeImage& pe,
                       uint64_t n_entries, uint64_t n_ptr, uint64_t n_slots, const fs::path& dir, const Ctx& c) {
    const ArchConfig& a = img.arch;
    const uint32_t wb = a.weight_bits;
    const std::size_t nl = img.layers.size();
    const json& lc = c.array(j, p, "layers");
    if (lc.size() != nl) c.fail(p + ".layers", fmt::format("has {} entries, expected one per layer ({})", lc.size(), nl));
    for (std::size_t l = 0; l < nl; ++l) {
        const std::string lp = fmt::format("{}.layers[{}]", p, l);
        const LayerDesc& d = img.layers[l];
        PeLayerCounts cnt;
        cnt.entries = c.u64(lc[l], lp, "entries");
        cnt.padding = c.u64(lc[l], lp, "padding");
        cnt.rows = c.u64(lc[l], lp, "rows");
        const uint64_t rows = local_length(d.out_len, a.num_pes, uint32_t(pi));
        if (cnt.rows != rows)
            c.fail(lp + ".rows", fmt::format("{} differs from the {} rows PE {} owns in a {}-row layer", cnt.rows,
                                             rows, pi, d.out_len));
        if (cnt.entries > n_entries || d.entry_base > n_entries - cnt.entries)  // no wrap-around
            c.fail(lp + ".entries", fmt::format("entry_base {} + {} entries runs past the {} entries of {}",
                                                d.entry_base, cnt.entries, n_entries, p));
        if (cnt.entries > a.ptr_max_value())
            c.fail(lp + ".entries", fmt::format("{} entries cannot be addressed by {}-bit pointers", cnt.entries,
                                                a.ptr_bits));
        uint64_t pad = 0;
        for (uint64_t k = 0; k < cnt.entries; ++k) pad += entry_code(pe.entries[d.entry_base + k], wb) == 0;
        if (pad != cnt.padding)
            c.fail(lp + ".padding", fmt::format("{} differs from the {} code-0 entries in spmat.hex", cnt.padding, pad));
        const uint64_t np = uint64_t(d.num_batches) * d.pointers_per_batch();
        if (np > n_ptr || d.ptr_base > n_ptr - np)  // no wrap-around
            c.fail(fmt::format("layers[{}].ptr_base", l),
                   fmt::format("{} + {} pointers runs past the {} pointers of {}", d.ptr_base, np, n_ptr, p));
        // Pointers start at 0, never decrease (batches run on) and end at the layer's entry count.
        uint32_t prev = 0;
        for (uint64_t k = 0; k < np; ++k) {
            uint64_t addr = d.ptr_base + k;
            uint32_t v = pe.pointers[addr];
            const char* bank = addr % 2 ? "ptr_odd.hex" : "ptr_even.hex";
            if ((k == 0 && v != 0) || v < prev)
                throw ImageError(fmt::format(
                    "{}/{} line {}: pointer {} of layer '{}' is {} ({}; pointers must start at 0 and never decrease)",
                    (dir / pe_dir_name(pi)).string(), bank, addr / 2 + 1, addr, d.name, v,
                    k == 0 ? "the first" : fmt::format("previous {}", prev)));
            prev = v;
        }
        if (prev != cnt.entries)
            c.fail(lp + ".entries", fmt::format("{} differs from the layer's last pointer {}", cnt.entries, prev));
        if (d.codebook_slot >= n_slots)
            c.fail(fmt::format("layers[{}].codebook_slot", l),
                   fmt::format("{} is not among the {} codebook slots of {}", d.codebook_slot, n_slots, p));
        pe.layer_counts.push_back(cnt);
    }
}

// PE pi: its memories from its files, checked against the manifest.
PeImage read_pe(const json& j, std::size_t pi, const Image& img, const fs::path& dir, const Ctx& c) {
    const ArchConfig& a = img.arch;
    const std::string p = fmt::format("pes[{}]", pi);
    if (c.u64(j, p, "index") != pi) c.fail(p + ".index", fmt::format("{} must be {}", j["index"].dump(), pi));
    const json& files = c.at(j, p, "files");
    const std::string fp = p + ".files";
    PeImage pe;
    const uint64_t n_entries = c.u64(j, p, "entries");
    const uint64_t n_ptr = c.u64(j, p, "pointers");
    // Counts are checked against the hex files' real sizes before anything
    // is allocated from them; this cap only keeps the arithmetic exact.
    const uint64_t n_entries_max = uint64_t(1) << 48;
    if (n_entries > n_entries_max || n_ptr > n_entries_max)
        c.fail(p + (n_entries > n_entries_max ? ".entries" : ".pointers"),
               fmt::format("{} is out of range (allowed: 0 .. {})", std::max(n_entries, n_ptr), n_entries_max));
    const uint64_t n_slots = c.u64(j, p, "codebook_slots", std::max<uint64_t>(a.codebook_slots, 4096));
    if (!a.grow_memories && n_entries > a.spmat_capacity_entries())
        c.fail(p + ".entries", fmt::format("{} exceeds the sparse-matrix SRAM capacity of {} entries", n_entries,
                                           a.spmat_capacity_entries()));
    if (!a.grow_memories && n_ptr > a.ptr_capacity())
        c.fail(p + ".pointers", fmt::format("{} exceeds the pointer SRAM capacity of {} words", n_ptr,
                                            a.ptr_capacity()));
    pe.entries = read_spmat(member_path(dir, c.str(files, fp, "spmat"), c, fp + ".spmat"), n_entries, a);
    const fs::path even_path = member_path(dir, c.str(files, fp, "ptr_even"), c, fp + ".ptr_even");
    const fs::path odd_path = member_path(dir, c.str(files, fp, "ptr_odd"), c, fp + ".ptr_odd");
    pe.pointers = read_pointers(even_path, odd_path, n_ptr, a);
    pe.codebooks = read_codebooks(member_path(dir, c.str(files, fp, "codebook"), c, fp + ".codebook"), n_slots, a);
    read_layer_counts(j, p, pi, img, pe, n_entries, n_ptr, n_slots, dir, c);
    return pe;
}

void check_codebook_slots(const Image& img, const fs::path& dir, const std::string& manifest) {
    const std::size_t nl = img.layers.size();
    // A slot holds one layer's codebook when only that layer uses it.
    for (std::size_t l = 0; l < nl; ++l) {
        const LayerDesc& d = img.layers[l];
        bool shared = false;
        for (std::size_t k = 0; k < nl; ++k) shared |= k != l && img.layers[k].codebook_slot == d.codebook_slot;
        if (shared) continue;
        for (std::size_t pi = 0; pi < img.pes.size(); ++pi)
            if (img.pes[pi].codebooks[d.codebook_slot] != d.codebook)
                throw ImageError(fmt::format("{}/codebook.hex: slot {} differs from layers[{}].codebook in {}",
                                             (dir / pe_dir_name(pi)).string(), d.codebook_slot, l, manifest));
    }

}

// The input and expected vectors named in the manifest (.npy files).
void read_vectors(const json& m, Image& img, const fs::path& dir, const Ctx& c) {
    const ArchConfig& a = img.arch;
    const std::size_t nl = img.layers.size();
    const json& v = c.at(m, "", "vectors");
    auto vec_file = [&](const json& name, const std::string& field) {
        if (!name.is_string()) c.fail(field, fmt::format("{} must be a file name", name.dump()));
        return member_path(dir, name.get<std::string>(), c, field);
    };
    // The input is what the run computes on: an image without it cannot run.
    if (!v.contains("input")) c.fail("vectors.input", "is missing (the input vector file, e.g. \"input.npy\")");
    {
        for (double x : read_vector(vec_file(v["input"], "vectors.input"), img.layers[0].in_len, true, a.act_bits))
            img.input.push_back(static_cast<int32_t>(x));
    }
    if (v.contains("input_float"))
        img.input_float = read_vector(vec_file(v["input_float"], "vectors.input_float"), img.layers[0].in_len, false, 0);
    for (const char* key : {"expected", "expected_float"}) {
        const json& arr = c.array(v, "vectors", key);
        if (!arr.empty() && arr.size() != nl)
            c.fail(fmt::format("vectors.{}", key), fmt::format("has {} files, expected one per layer ({})", arr.size(), nl));
        const bool integer = std::string(key) == "expected";
        for (std::size_t l = 0; l < arr.size(); ++l) {
            auto data = read_vector(vec_file(arr[l], fmt::format("vectors.{}[{}]", key, l)), img.layers[l].out_len,
                                    integer, a.act_bits);
            if (integer) {
                img.expected.emplace_back();
                for (double x : data) img.expected.back().push_back(static_cast<int32_t>(x));
            } else {
                img.expected_float.push_back(std::move(data));
            }
        }
    }
}

}  // namespace

Image read_image_dir(const std::string& dir_in) {
    const fs::path dir(dir_in);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw ImageError(fmt::format("{}: not a directory (expected an image directory with manifest.json)", dir_in));
    const std::string manifest = (dir / "manifest.json").string();
    const Ctx c{manifest};
    const json m = read_manifest(dir, c);
    Image img;
    img.arch = read_arch(m, c, manifest);
    const json& jl = c.array(m, "", "layers");
    if (jl.empty()) c.fail("layers", "must hold at least one layer");
    for (std::size_t l = 0; l < jl.size(); ++l) img.layers.push_back(read_layer(jl[l], l, img.layers, img.arch, c));
    const json& jp = c.array(m, "", "pes");
    if (jp.size() != img.arch.num_pes)
        c.fail("pes", fmt::format("has {} entries, expected arch.num_pes = {}", jp.size(), img.arch.num_pes));
    for (std::size_t pi = 0; pi < jp.size(); ++pi) img.pes.push_back(read_pe(jp[pi], pi, img, dir, c));
    check_codebook_slots(img, dir, manifest);
    read_vectors(m, img, dir, c);
    return img;
}

}  // namespace eie
