// cpu_features.h — the instruction sets tolk's hand-written kernels choose between at run time.
//
// The library is built for the baseline x86-64 (a Debian package must run on any of them); the
// kernels that need AVX-512 are compiled with a target attribute and picked only where the CPU
// has it. __builtin_cpu_supports also checks that the OS saves the 512-bit registers.
#pragma once

namespace tolk::util {

inline bool cpu_has_avx512f() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
#else
  return false;
#endif
}

}  // namespace tolk::util
