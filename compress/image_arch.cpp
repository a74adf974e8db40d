#include "eie/compress/image_arch.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "eie/compress/encode.hpp"

namespace eie {

std::vector<ParamDiff> check_arch_change(const ArchConfig& image_arch, const ArchConfig& arch) {
    std::vector<ParamDiff> quant, layout;
    for (const ParamDiff& d : diff(image_arch, arch)) {
        if (d.cls == ParamClass::quantisation) quant.push_back(d);
        if (d.cls == ParamClass::layout) layout.push_back(d);
    }
    if (!quant.empty()) {
        std::string made_for, sets;
        for (const ParamDiff& q : quant) {
            made_for += fmt::format("{}{}={}", made_for.empty() ? "" : ", ", q.name, q.from);
            sets += fmt::format(" --set {}={}", q.name, q.to);
        }
        throw ConfigError(fmt::format(
            "{}: {} the image's codebooks and fixed-point formats were made for {}. Re-run eie-compress with{} "
            "(eie-sim changes only timing and layout parameters of an existing image)",
            describe_changes(quant), quant.size() == 1 ? "a quantisation parameter;" : "quantisation parameters;",
            made_for, sets));
    }
    return layout;
}

std::string describe_changes(const std::vector<ParamDiff>& changes) {
    std::string s;
    for (const ParamDiff& d : changes) s += fmt::format("{}{} {} -> {}", s.empty() ? "" : ", ", d.name, d.from, d.to);
    return s;
}

Image image_for_arch(const Image& image, const ArchConfig& arch, const std::string& image_name, bool& reencoded) {
    reencoded = !check_arch_change(image.arch, arch).empty();
    if (!reencoded) {
        Image same = image;
        same.arch = arch;  // timing parameters only: the image runs as it is
        return same;
    }
    try {
        return reencode(image, arch);  // CapacityError propagates
    } catch (const std::invalid_argument& e) {
        throw ConfigError(fmt::format("{}: cannot re-encode the image: {}", image_name, e.what()));
    }
}

}  // namespace eie
