// IDX files, the format of the MNIST family of data sets (MNIST,
// Fashion-MNIST, EMNIST, KMNIST), plain or gzip-compressed.
//
// The format (LeCun et al., "THE MNIST DATABASE of handwritten digits"): a
// 4-byte magic 00 00 TT NN, where TT is the element type (08 unsigned byte,
// 09 signed byte, 0B int16, 0C int32, 0D float32, 0E float64) and NN the
// number of dimensions; then NN big-endian uint32 sizes; then the elements,
// big-endian, in C order. Debian's dataset-fashion-mnist ships them as
// /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz.
//
// Nothing here trusts the header: the sizes it claims are checked against the
// data that is really there before they are believed, and memory grows only
// with data actually read, so a 100-byte file claiming 4 GB costs 100 bytes.
// Every error raises IdxError naming the file, the field and what was expected.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "eie/hw/npy.hpp"

namespace eie {

struct IdxError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// True when the file starts (after gunzip) with a valid IDX magic. Never
// throws: unreadable files are simply not IDX files.
bool looks_like_idx(const std::string& path);

// Any IDX element type; shape from the header, data as doubles in C order,
// dtype "idx:u1", "idx:i1", "idx:i2", "idx:i4", "idx:f4" or "idx:f8".
NpyArray read_idx(const std::string& path);

// An idx3 unsigned-byte image file -> shape (N, rows*cols), values / 255 in [0, 1].
NpyArray read_idx_images(const std::string& path);

// An idx1 file of integer labels (any integer element type).
std::vector<int64_t> read_idx_labels(const std::string& path);

}  // namespace eie
