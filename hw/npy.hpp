// NumPy .npy reading and writing (.npz archives: compress/npz.hpp).
//
// Reading accepts float16/32/64 (and, for activations, integer types) in C or
// Fortran order, little- or big-endian; the data are returned as doubles in C
// (row-major) order. Every malformed file raises NpyError naming the file,
// the field (magic, header, dtype, shape, data) and what was expected.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace eie {

// Limits on what a header may claim (docs/input-safety.md). numpy writes
// headers of a few hundred bytes and nests at most a tuple in a dict.
constexpr uint64_t kNpyMaxHeaderBytes = 1 << 20;
constexpr int kNpyMaxHeaderNesting = 32;

struct NpyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct NpyArray {
    std::vector<uint64_t> shape;  // empty for a scalar
    std::vector<double> data;     // C order
    std::string dtype;            // the descr as read, e.g. "<f4"
    uint64_t size() const;
};

NpyArray read_npy(const std::string& path);
// Parses an in-memory .npy; `source` names it in errors (e.g. "net.npz:fc6.npy").
NpyArray parse_npy(const std::string& bytes, const std::string& source);
// For a reader that receives a .npy of `total` bytes piecewise (a deflated
// .npz member): nothing while `prefix` does not yet hold the whole header;
// then the bytes the header says the file needs (header and data), raising
// NpyError when `total` does not match them; `total` itself when the header
// cannot be parsed (parse_npy reports that on the whole file).
std::optional<uint64_t> npy_needed_bytes(const std::string& prefix, uint64_t total, const std::string& source);

// Writers (C order, little-endian). dtype of the file follows the element type.
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<float>& data);
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<double>& data);
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<int16_t>& data);
void write_npy(const std::string& path, const std::vector<uint64_t>& shape, const std::vector<int32_t>& data);
// Serialisers used by the writers and by tests that build malformed files.
std::string npy_bytes(const std::string& descr, bool fortran_order, const std::vector<uint64_t>& shape,
                      const std::string& raw_data);

}  // namespace eie
