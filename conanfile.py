"""Conan 2 recipe for tolk — NOT tested: Conan is not available on the machines tolk is
developed on (see README, "Packaging").

Builds the libraries only (no tests, benchmarks, CLI or trainer) and exposes the same targets
as the installed CMake package: tolk::tolk (C++ API) and tolk::tolk_c (C ABI). LibTorch is
taken from the build machine (CMake's find_package(Torch); set Torch_DIR if it is not in a
default place), as tolk's own build does.
"""
from conan import ConanFile
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy
import os


class TolkConan(ConanFile):
    name = "tolk"
    version = "0.1.0"
    license = "MIT"
    description = "Embeddable NLLB-200 / M2M100 translation engine on LibTorch, with a C ABI"
    topics = ("translation", "nllb", "m2m100", "libtorch", "inference")
    settings = "os", "arch", "compiler", "build_type"
    package_type = "shared-library"
    exports_sources = ("CMakeLists.txt", "LICENSE", "cmake/*", "include/*", "src/*", "capi/*",
                       "examples/*", "tools/*", "benchmarks/*", "tests/*")

    def requirements(self):
        self.requires("fmt/[>=9 <11]")
        self.requires("nlohmann_json/[>=3.11 <4]")
        self.requires("sentencepiece/[>=0.1.97]")

    def layout(self):
        cmake_layout(self)

    def generate(self):
        CMakeDeps(self).generate()
        tc = CMakeToolchain(self)
        tc.variables["TOLK_BUILD_TESTS"] = False
        tc.variables["TOLK_BUILD_BENCHMARKS"] = False
        tc.variables["TOLK_BUILD_TOOLS"] = False
        tc.generate()

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        CMake(self).install()

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "tolk")
        cpp = self.cpp_info.components["tolk"]
        cpp.libs = ["tolk"]
        cpp.set_property("cmake_target_name", "tolk::tolk")
        cpp.set_property("pkg_config_name", "tolk-cpp")
        cpp.requires = ["fmt::fmt", "nlohmann_json::nlohmann_json", "sentencepiece::sentencepiece"]
        c_abi = self.cpp_info.components["tolk_c"]
        c_abi.libs = ["tolk_c"]
        c_abi.requires = ["tolk"]
        c_abi.set_property("cmake_target_name", "tolk::tolk_c")
        c_abi.set_property("pkg_config_name", "tolk")
