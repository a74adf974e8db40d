// NumPy .npz reader: a zip archive (stored or deflated members) of .npy
// files, parsed by the foundation's .npy reader (hw/npy.hpp).
//
// Format reference: the PKWARE APPNOTE (zip local headers, central directory,
// zip64). Nothing here trusts the file: every length is checked before it is
// used, and every error names the file (or "file.npz:member") and the field.
#include "eie/compress/npz.hpp"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "eie/hw/file_io.hpp"

namespace eie {

namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
    throw NpyError(source + ": " + what);
}

[[noreturn]] void zip_fail(const std::string& path, const std::string& what) { fail(path, "zip: " + what); }

uint64_t load_le(const unsigned char* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::string read_file(const std::string& path, const char* what) {
    try {
        return read_regular_file(path, what, std::numeric_limits<uint64_t>::max());
    } catch (const FileError& e) {
        throw NpyError(e.what());
    }
}

}  // namespace

namespace {

// Inflates a raw-deflate member that the directory says holds `usize` bytes.
// The output grows only as zlib produces it (never sized from the claim up
// front), and inflation stops as soon as it would pass the claim or, once the
// .npy header is out, what that header can truthfully need.
std::string inflate_member(const unsigned char* in, uint64_t csize, uint64_t usize, const std::string& member) {
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail(member, "zlib initialisation failed");
    struct End {
        z_stream& z;
        ~End() { inflateEnd(&z); }
    } end{zs};
    std::string out;
    out.reserve(std::min<uint64_t>(usize, 1 << 20));
    uint64_t limit = usize;  // narrowed to the header's own size once it is known
    bool header_checked = false;
    std::vector<unsigned char> chunk(1 << 16);
    uint64_t in_left = csize;
    zs.next_in = const_cast<Bytef*>(in);
    int rc = Z_OK;
    for (;;) {
        if (zs.avail_in == 0 && in_left) {
            zs.avail_in = uInt(std::min<uint64_t>(in_left, 1u << 30));
            in_left -= zs.avail_in;
        }
        zs.next_out = chunk.data();
        zs.avail_out = uInt(chunk.size());
        rc = inflate(&zs, Z_NO_FLUSH);
        const std::size_t got = chunk.size() - zs.avail_out;
        if (out.size() + got > limit)
            fail(member, "inflates to more than the " + std::to_string(limit) + " bytes " +
                             (header_checked ? "its .npy header needs" : "the directory records"));
        try {
            out.append(reinterpret_cast<const char*>(chunk.data()), got);
        } catch (const std::bad_alloc&) {
            fail(member, "inflating to " + std::to_string(usize) + " bytes: does not fit in memory");
        }
        if (!header_checked && out.size() >= 12) {
            if (const auto needed = npy_needed_bytes(out, usize, member)) {
                limit = *needed;
                header_checked = true;
            }
        }
        if (rc == Z_STREAM_END) break;
        // Z_BUF_ERROR only means "no progress possible": go on while there is input.
        if (rc == Z_OK || (rc == Z_BUF_ERROR && (zs.avail_in || in_left))) continue;
        const std::string why = zs.msg ? zs.msg
                                : rc == Z_BUF_ERROR ? "the stream ends early"
                                                    : "error " + std::to_string(rc);
        fail(member, "deflate data are corrupt or truncated (zlib: " + why + ")");
    }
    if (out.size() != usize)
        fail(member, "inflated to " + std::to_string(out.size()) + " bytes, the directory says " + std::to_string(usize));
    return out;
}

}  // namespace

namespace {

// Where the central directory is, from the end-of-central-directory record
// (or its zip64 form).
struct CentralDirectory {
    uint64_t entries = 0, size = 0, offset = 0;
};

CentralDirectory find_central_directory(const unsigned char* u, std::size_t n, const std::string& path) {
    // End of central directory record: 22 bytes + a comment of up to 64 KB.
    if (n < 22) zip_fail(path, "file too short to be a zip archive (" + std::to_string(n) + " bytes)");
    std::size_t eocd = std::string::npos;
    const std::size_t lowest = n >= 22 + 65535 ? n - 22 - 65535 : 0;
    for (std::size_t p = n - 22 + 1; p-- > lowest;) {
        if (load_le(u + p, 4) == 0x06054b50 && p + 22 + load_le(u + p + 20, 2) <= n) {
            eocd = p;
            break;
        }
    }
    if (eocd == std::string::npos)
        zip_fail(path, "no end-of-central-directory record (not a zip archive, or truncated)");
    CentralDirectory cd{load_le(u + eocd + 10, 2), load_le(u + eocd + 12, 4), load_le(u + eocd + 16, 4)};
    if (cd.entries == 0xffff || cd.size == 0xffffffff || cd.offset == 0xffffffff) {
        // Zip64: a locator just before the EOCD points at the zip64 EOCD record.
        if (eocd < 20 || load_le(u + eocd - 20, 4) != 0x07064b50)
            zip_fail(path, "zip64 end-of-central-directory locator missing");
        uint64_t z64 = load_le(u + eocd - 20 + 8, 8);
        if (z64 > n || n - z64 < 56 || load_le(u + z64, 4) != 0x06064b50)
            zip_fail(path, "zip64 end-of-central-directory record missing or truncated");
        cd = CentralDirectory{load_le(u + z64 + 32, 8), load_le(u + z64 + 40, 8), load_le(u + z64 + 48, 8)};
    }
    if (cd.offset > n || cd.size > n - cd.offset)
        zip_fail(path, "central directory (offset " + std::to_string(cd.offset) + ", size " + std::to_string(cd.size) +
              ") lies outside the file (" + std::to_string(n) + " bytes)");
    return cd;
}

// One member as the central directory describes it.
struct ZipMember {
    std::string name, label;  // label: "file.npz:name", for messages
    uint64_t flags = 0, method = 0;
    uint32_t crc = 0;
    uint64_t csize = 0, usize = 0, local = 0;
};

// Reads directory entry `e` at `p` (advanced past it).
ZipMember read_directory_entry(const std::string& bytes, std::size_t& p, std::size_t cd_end, uint64_t e,
                               const std::string& path) {
    const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
    if (cd_end - p < 46 || load_le(u + p, 4) != 0x02014b50)
        zip_fail(path, "central directory entry " + std::to_string(e) + " is malformed or truncated");
    ZipMember m;
    m.flags = load_le(u + p + 8, 2);
    m.method = load_le(u + p + 10, 2);
    m.crc = uint32_t(load_le(u + p + 16, 4));
    m.csize = load_le(u + p + 20, 4);
    m.usize = load_le(u + p + 24, 4);
    const std::size_t name_len = load_le(u + p + 28, 2);
    const std::size_t extra_len = load_le(u + p + 30, 2);
    const std::size_t comment_len = load_le(u + p + 32, 2);
    m.local = load_le(u + p + 42, 4);
    if (cd_end - p < 46 + name_len + extra_len + comment_len)
        zip_fail(path, "central directory entry " + std::to_string(e) + " is truncated");
    m.name = bytes.substr(p + 46, name_len);
    m.label = path + ":" + m.name;
    // Zip64 extended information: the 64-bit values of exactly those
    // fields that are 0xffffffff in the fixed part, in this order.
    for (std::size_t x = p + 46 + name_len; x + 4 <= p + 46 + name_len + extra_len;) {
        const uint64_t id = load_le(u + x, 2), len = load_le(u + x + 2, 2);
        if (x + 4 + len > p + 46 + name_len + extra_len) break;
        if (id == 0x0001) {
            std::size_t q = x + 4, qend = x + 4 + len;
            auto take = [&](uint64_t& field) {
                if (field != 0xffffffff) return;
                if (q + 8 > qend) fail(m.label, "zip64 extra field too short");
                field = load_le(u + q, 8);
                q += 8;
            };
            take(m.usize);
            take(m.csize);
            take(m.local);
        }
        x += 4 + len;
    }
    p += 46 + name_len + extra_len + comment_len;
    return m;
}

// The member's uncompressed bytes (stored or deflated), CRC checked.
std::string member_bytes(const std::string& bytes, const ZipMember& m) {
    const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    if (m.flags & 1) fail(m.label, "member is encrypted, not supported");
    if (m.local > n || n - m.local < 30 || load_le(u + m.local, 4) != 0x04034b50)
        fail(m.label, "local header at offset " + std::to_string(m.local) + " is missing or truncated");
    const uint64_t data_off = m.local + 30 + load_le(u + m.local + 26, 2) + load_le(u + m.local + 28, 2);
    if (data_off > n || m.csize > n - data_off)
        fail(m.label, "compressed data (" + std::to_string(m.csize) + " bytes at offset " +
                          std::to_string(data_off) + ") run past the end of the file");
    std::string raw;
    if (m.method == 0) {
        if (m.csize != m.usize)
            fail(m.label, "stored member has compressed size " + std::to_string(m.csize) +
                              " != uncompressed size " + std::to_string(m.usize));
        raw = bytes.substr(data_off, m.csize);
    } else if (m.method == 8) {
        // Deflate expands at most ~1032:1; a larger claim is a corrupt
        // directory, and must not make us allocate it.
        if (m.usize > m.csize * 1032 + 1024)
            fail(m.label, "uncompressed size " + std::to_string(m.usize) + " is implausible for " +
                              std::to_string(m.csize) + " compressed bytes (corrupt directory)");
        raw = inflate_member(u + data_off, m.csize, m.usize, m.label);
    } else {
        fail(m.label, "compression method " + std::to_string(m.method) +
                          " is not supported (stored = 0 and deflate = 8 are; np.savez and "
                          "np.savez_compressed write those)");
    }
    const uint32_t actual_crc = uint32_t(crc32_z(0L, reinterpret_cast<const Bytef*>(raw.data()), raw.size()));
    if (actual_crc != m.crc) fail(m.label, "CRC-32 mismatch (the member is corrupt)");
    return raw;
}

}  // namespace

// ---------------------------------------------------------------------------
// .npz: a zip archive of .npy members. The central directory is the
// authoritative list (local headers written by streaming writers, as numpy's
// savez, may carry zero sizes plus a data descriptor).
std::map<std::string, NpyArray> read_npz(const std::string& path) {
    const std::string bytes = read_file(path, ".npz");
    const CentralDirectory cd =
        find_central_directory(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), path);
    std::map<std::string, NpyArray> out;
    std::size_t p = cd.offset;
    const std::size_t cd_end = cd.offset + cd.size;
    for (uint64_t e = 0; e < cd.entries; ++e) {
        const ZipMember m = read_directory_entry(bytes, p, cd_end, e, path);
        if (!m.name.empty() && m.name.back() == '/') continue;  // a directory entry
        const std::string raw = member_bytes(bytes, m);
        std::string key = m.name;
        if (key.size() >= 4 && key.compare(key.size() - 4, 4, ".npy") == 0) key.resize(key.size() - 4);
        if (out.count(key)) fail(m.label, "duplicate array name '" + key + "'");
        out.emplace(key, parse_npy(raw, m.label));
    }
    return out;
}

}  // namespace eie
