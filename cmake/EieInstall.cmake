# Install rules (docs/embedding.md): `cmake --install build --prefix P` gives
#   P/include/eie/{hw,compress,pe,ccu}/...   the headers, included as "eie/hw/..."
#   P/lib/libeie_{base,compress,model,inference}.{a,so}
#   P/lib/cmake/eie-model/                   find_package(eie-model): eie::base, eie::compress, eie::model, eie::inference
#   P/lib/pkgconfig/eie-model.pc             pkg-config --cflags --libs eie-model
#   P/bin/eie-*                              the tools, when built
include(CMakePackageConfigHelpers)
set(EIE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/eie-model)

set(EIE_INSTALLED_LIBRARIES "")
foreach(lib ${EIE_COMPONENT_LIBRARIES})
  if(TARGET ${lib})
    list(APPEND EIE_INSTALLED_LIBRARIES ${lib})
  endif()
endforeach()
install(TARGETS ${EIE_INSTALLED_LIBRARIES} EXPORT eie-model-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The headers of the libraries, in their source folders under include/eie
# (compress/train needs libtorch and is not part of the component).
foreach(dir hw compress pe ccu)
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/eie/${dir}
          FILES_MATCHING PATTERN "*.hpp" PATTERN "train" EXCLUDE)
endforeach()

install(EXPORT eie-model-targets NAMESPACE eie:: FILE eie-model-targets.cmake DESTINATION ${EIE_CMAKE_DIR})
# The build tree is a package too: find_package(eie-model) with
# CMAKE_PREFIX_PATH (or eie-model_DIR) pointing at the build directory.
export(EXPORT eie-model-targets NAMESPACE eie:: FILE ${CMAKE_CURRENT_BINARY_DIR}/eie-model-targets.cmake)
configure_package_config_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/eie-modelConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/eie-modelConfig.cmake INSTALL_DESTINATION ${EIE_CMAKE_DIR})
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/eie-modelConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/eie-modelConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/eie-modelConfigVersion.cmake
        DESTINATION ${EIE_CMAKE_DIR})

# pkg-config: the libraries in link order; the dependencies' own .pc files
# (SystemC, fmt, nlohmann_json, zlib) are Required, so their flags follow.
# Static libraries need them at link time too, hence Requires (not .private).
if(IS_ABSOLUTE ${CMAKE_INSTALL_LIBDIR})
  set(EIE_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
else()
  set(EIE_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
endif()
if(IS_ABSOLUTE ${CMAKE_INSTALL_INCLUDEDIR})
  set(EIE_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
else()
  set(EIE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/eie-model.pc.in ${CMAKE_CURRENT_BINARY_DIR}/eie-model.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/eie-model.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(EIE_TOOLS "")
foreach(tool eie-compress eie-sim eie-train eie-energy-calibrate)
  if(TARGET ${tool})
    list(APPEND EIE_TOOLS ${tool})
  endif()
endforeach()
if(EIE_TOOLS)
  install(TARGETS ${EIE_TOOLS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
