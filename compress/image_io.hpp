// The image directory: manifest.json, per-PE $readmemh hex files, and the
// input / expected output vectors as .npy (docs/image-format.md).
#pragma once

#include <stdexcept>
#include <string>

#include "compress/image.hpp"

namespace eie {

struct ImageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kImageFormatVersion = 1;

// Writes atomically: into a temporary sibling directory, renamed into place
// at the end; on any failure nothing is left at `dir`. An existing `dir`
// that is an image is replaced; anything else at `dir` is an error.
// `extra_manifest` (an object) is merged into manifest.json under "report".
void write_image_dir(const Image& image, const std::string& dir,
                     const nlohmann::json& extra_manifest = nlohmann::json::object());
// Reads and validates (version, sizes, ranges, hex line widths); errors name
// the file, the field, the value and what is allowed.
Image read_image_dir(const std::string& dir);

}  // namespace eie
