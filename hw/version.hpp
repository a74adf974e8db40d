// The project's version, one home: the CMake project version (CMakeLists.txt
// passes it as EIE_VERSION). Every tool prints it for --version and the
// statistics files record it.
#pragma once

#ifndef EIE_VERSION
#error "EIE_VERSION comes from CMakeLists.txt (project VERSION)"
#endif

namespace eie {

inline constexpr const char* kEieVersion = EIE_VERSION;

}  // namespace eie
