# vcpkg port of tolk — NOT tested: vcpkg is not available on the machines tolk is developed on
# (see README, "Packaging"). REF and SHA512 are filled in when a release is tagged.
vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO tolk-project/tolk
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)

# Only the libraries: no tests, benchmarks, CLI or trainer.
vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DTOLK_BUILD_TESTS=OFF
        -DTOLK_BUILD_BENCHMARKS=OFF
        -DTOLK_BUILD_TOOLS=OFF
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/tolk)
vcpkg_fixup_pkgconfig()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
