// The image directory: manifest.json, per-PE $readmemh hex files, and the
// input / expected output vectors as .npy (docs/image-format.md).
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "eie/hw/image.hpp"

namespace eie {

struct ImageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr int kImageFormatVersion = 1;

// Writes atomically: into a temporary sibling directory, renamed into place
// at the end; on any failure nothing is left at `dir`. An existing `dir`
// that is an image is replaced; anything else at `dir` is an error.
// `extra_manifest` (an object) is merged into manifest.json under "report".
// `extra_files` (relative name -> content) are written into the image
// directory with it, so they are replaced together (e.g. a report saved
// inside the image); a name that leaves the directory or collides with an
// image file is an error. Temporaries left by killed runs are removed first.
void write_image_dir(const Image& image, const std::string& dir,
                     const nlohmann::json& extra_manifest = nlohmann::json::object(),
                     const std::map<std::string, std::string>& extra_files = {});
// One layer's record in manifest.json (docs/image-format.md): the one list of
// a layer's fields, also what the Python module's Image.layers gives.
nlohmann::ordered_json layer_json(const LayerDesc& layer);
// True when `dir` is a directory holding a manifest.json of format
// "eie-image": what a writer may replace (tools check it before any work).
bool is_image_dir(const std::string& dir);
// Reads and validates (version, sizes, ranges, hex line widths); errors name
// the file, the field, the value and what is allowed.
Image read_image_dir(const std::string& dir);

}  // namespace eie
