# TolkInstall.cmake — what `cmake --install` puts where (GNU layout under CMAKE_INSTALL_PREFIX):
#   include/tolk.h                       the C ABI (tolk::tolk_c, pkg-config "tolk")
#   include/tolk/*.h                     the C++ API (tolk::tolk, pkg-config "tolk-cpp")
#   lib/libtolk.so.0.1.0, libtolk_c.so…  versioned shared libraries (SONAME libtolk.so.0, …)
#   lib/libtolk_spm.so                   the isolated SentencePiece module; libtolk finds it
#                                        next to itself (src/text/sentencepiece_model.cc)
#   lib/cmake/tolk/                      find_package(tolk CONFIG): targets + version file
#   lib/pkgconfig/tolk.pc, tolk-cpp.pc
#   bin/tolk                             the command-line program
# LibTorch, fmt and SentencePiece stay private to the libraries: consumers link only tolk.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TOLK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tolk)

# Installed binaries find their sibling libraries without LD_LIBRARY_PATH.
set_target_properties(tolk tolk_c PROPERTIES INSTALL_RPATH "$ORIGIN")
if(TARGET tolk_cli)
  set_target_properties(tolk_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
  install(TARGETS tolk_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(TARGETS tolk tolk_c EXPORT tolkTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS tolk_spm LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tolk DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/capi/tolk.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT tolkTargets NAMESPACE tolk:: DESTINATION ${TOLK_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/tolkConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tolkConfig.cmake
                              INSTALL_DESTINATION ${TOLK_CMAKE_DIR})
# 0.x: only the same minor version is compatible (the C++ API passes option structs by value).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tolkConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tolkConfig.cmake ${PROJECT_BINARY_DIR}/tolkConfigVersion.cmake
        DESTINATION ${TOLK_CMAKE_DIR})

# Relocatable .pc files: the prefix is found from the file's own folder, so
# `cmake --install build --prefix DIR` works for any DIR.
file(RELATIVE_PATH TOLK_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
foreach(pc tolk tolk-cpp)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
