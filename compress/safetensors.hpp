// safetensors files (Hugging Face's tensor container): an 8-byte
// little-endian header length, a JSON header {"name": {"dtype", "shape",
// "data_offsets": [begin, end]}, "__metadata__": {...}}, then the raw
// little-endian tensor bytes. Read into the same NpyArray (doubles, C order)
// as the .npy/.npz reader, so every tool takes its layers the same way.
//
// Nothing in the header is trusted: the header length, every tensor's
// offsets and its size (product of the shape x element size) are checked
// against the file before any data are read. Errors raise NpyError naming the
// file, the tensor and the field.
#pragma once

#include <map>
#include <string>

#include "eie/hw/npy.hpp"

namespace eie {

// True when the name ends in ".safetensors".
bool is_safetensors_path(const std::string& path);

// All tensors, keyed by name; dtype is NumPy's descr of the same type
// ("<f4" for F32, "<fb" for BF16). Supported
// element types: F16, BF16, F32, F64, and the integer types I8..I64, U8..U64.
std::map<std::string, NpyArray> read_safetensors(const std::string& path);

// A named-array archive: .safetensors by name, otherwise .npz.
std::map<std::string, NpyArray> read_tensor_archive(const std::string& path);

}  // namespace eie
