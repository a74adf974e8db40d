# The Python module eie_model (python/eie_model.cpp, docs/python.md): built
# when pybind11 is found (Debian: pybind11-dev python3-pybind11 python3-dev),
# or required with -DEIE_WITH_PYTHON=ON. The libraries it links are built
# position-independent (EIE_POSITION_INDEPENDENT), so it is one shared object.
if(NOT DEFINED PYTHON_EXECUTABLE AND EXISTS /usr/bin/python3)
  # Debian's interpreter: the one with python3-numpy and the pybind11 headers
  # (another python3 first on PATH would lack them).
  set(PYTHON_EXECUTABLE /usr/bin/python3)
endif()
find_package(pybind11 CONFIG QUIET)
option(EIE_WITH_PYTHON "Build the Python module eie_model (needs pybind11)" ${pybind11_FOUND})
if(EIE_WITH_PYTHON)
  if(NOT pybind11_FOUND)
    message(FATAL_ERROR "EIE_WITH_PYTHON=ON but pybind11 was not found (apt-get install pybind11-dev python3-pybind11 python3-dev, or -DEIE_WITH_PYTHON=OFF)")
  endif()
  if(NOT EIE_POSITION_INDEPENDENT AND NOT BUILD_SHARED_LIBS)
    message(FATAL_ERROR "EIE_WITH_PYTHON needs EIE_POSITION_INDEPENDENT=ON (or BUILD_SHARED_LIBS=ON): a Python module is a shared object")
  endif()
  pybind11_add_module(eie_model_python MODULE NO_EXTRAS ${CMAKE_CURRENT_SOURCE_DIR}/python/eie_model.cpp)
  target_link_libraries(eie_model_python PRIVATE eie_inference eie_compress)
  set_target_properties(eie_model_python PROPERTIES OUTPUT_NAME eie_model
                        LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/python)
  if(EIE_TESTS)
    file(GLOB EIE_PYTHON_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/python/tests/test_*.py)
    set(EIE_PYTHON_TEST_ENV "")
    if(EIE_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # The interpreter is not instrumented: ASan's runtime must come first,
      # so the module is tested under the sanitizers rather than skipped.
      # Python's own allocations at exit are not the project's leaks.
      execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libasan.so
                      OUTPUT_VARIABLE asan_lib OUTPUT_STRIP_TRAILING_WHITESPACE)
      execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libubsan.so
                      OUTPUT_VARIABLE ubsan_lib OUTPUT_STRIP_TRAILING_WHITESPACE)
      set(EIE_PYTHON_TEST_ENV ";LD_PRELOAD=${asan_lib}:${ubsan_lib};ASAN_OPTIONS=detect_leaks=0")
      # The sweep test that compares the module with eie-sim runs it the same
      # way (without the runtime, the studies fall back to eie-sim).
      if(TEST "cli: sweep_module")
        set_tests_properties("cli: sweep_module" PROPERTIES ENVIRONMENT
          "LD_PRELOAD=${asan_lib}:${ubsan_lib};ASAN_OPTIONS=detect_leaks=0")
      endif()
    endif()
    foreach(t ${EIE_PYTHON_TESTS})
      get_filename_component(name ${t} NAME_WE)
      add_test(NAME "python: ${name}" COMMAND ${PYTHON_EXECUTABLE} ${t})
      set_tests_properties("python: ${name}" PROPERTIES ENVIRONMENT
        "PYTHONPATH=${CMAKE_CURRENT_BINARY_DIR}/python;EIE_BUILD_DIR=${CMAKE_CURRENT_BINARY_DIR};EIE_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}${EIE_PYTHON_TEST_ENV}")
    endforeach()
  endif()
endif()

# Installing the module is opt-in (a platform's Python packaging may want it
# elsewhere): -DEIE_INSTALL_PYTHON=ON puts eie_model.*.so in
# PREFIX/EIE_PYTHON_INSTALL_DIR; add that folder to PYTHONPATH (docs/python.md).
if(EIE_WITH_PYTHON)
  option(EIE_INSTALL_PYTHON "Install the Python module eie_model (with cmake --install)" OFF)
  set(EIE_PYTHON_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/python3/dist-packages" CACHE STRING
      "Where under the install prefix the Python module goes (relative to the prefix, or absolute)")
  if(EIE_INSTALL_PYTHON)
    install(TARGETS eie_model_python LIBRARY DESTINATION ${EIE_PYTHON_INSTALL_DIR})
  endif()
endif()
