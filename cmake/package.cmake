# cmake --install: the public headers, the layer libraries (static, or shared with BUILD_SHARED_LIBS), the kiln program,
# a versioned CMake package (find_package(kiln 0.1 CONFIG REQUIRED) gives kiln::kiln; COMPONENTS cuda asks for the
# CUDA backend) and kiln.pc for pkg-config. The build tree holds the same package, so find_package also works with
# kiln_DIR pointing at a build folder. docs/api.md shows a program linking it.
include(CMakePackageConfigHelpers)

if(KILN_CUDA_EMULATION)
  # The emulator is a test harness (and Boost.Context a dependency no user needs): nothing to install from this build.
  return()
endif()

set(kiln_layers kiln_base kiln_kernels kiln_engine kiln_data kiln_models kiln_train)
set(kiln_package_dir ${CMAKE_INSTALL_LIBDIR}/cmake/kiln)

install(TARGETS ${kiln_layers} kiln EXPORT kilnTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(folder base engine data models train)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${folder}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${kiln_package_dir})
export(EXPORT kilnTargets NAMESPACE kiln:: FILE ${PROJECT_BINARY_DIR}/kilnTargets.cmake)

# What the package config needs to find the libraries kiln was linked with on the user's machine.
set(KILN_PACKAGE_BUILT_WITH_CUDA ${KILN_CUDA})
get_filename_component(KILN_PACKAGE_OPENBLAS_HINT "${OPENBLAS_LIBRARY}" DIRECTORY)
if(KILN_CUDA)
  get_filename_component(KILN_PACKAGE_CUDNN_HINT "${CUDNN_LIBRARY}" DIRECTORY)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kilnConfig.cmake.in ${PROJECT_BINARY_DIR}/kilnConfig.cmake
  INSTALL_DESTINATION ${kiln_package_dir})
# 0.x: a new minor version may change the API, so only the same major.minor satisfies a request.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kilnConfig.cmake ${PROJECT_BINARY_DIR}/kilnConfigVersion.cmake
  DESTINATION ${kiln_package_dir})

# kiln.pc: the layers from the top down (static archives need that order), then what they link.
set(kiln_pc_libs "-lkiln_train -lkiln_data -lkiln_models -lkiln_engine -lkiln_kernels -lkiln_base")
set(kiln_pc_dependencies "${OPENBLAS_LIBRARY} -lz -pthread")
if(KILN_CUDA)
  set(kiln_pc_dependencies
      "${kiln_pc_dependencies} -L${CUDAToolkit_LIBRARY_DIR} -lcudart -lcublas ${CUDNN_LIBRARY} -Wl,-rpath,${CUDAToolkit_LIBRARY_DIR}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/kiln.pc.in ${PROJECT_BINARY_DIR}/kiln.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kiln.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
