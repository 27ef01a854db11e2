// compute_type.cc — see compute_type.h.
#include "model/compute_type.h"

#include <fmt/format.h>
#include <torch/torch.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "model/int8_matmul.h"
#include "tolk/status.h"

namespace tolk::model {

const char* compute_type_name(ComputeType type) noexcept {
  switch (type) {
    case ComputeType::kFloat32: return "float32";
    case ComputeType::kBFloat16: return "bfloat16";
    case ComputeType::kInt8: return "int8";
  }
  return "float32";
}

bool cpu_has_native_bf16() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool amx_bf16 = (edx >> 22) & 1u;
  const unsigned max_sub = eax;
  bool avx512_bf16 = false;
  if (max_sub >= 1) {
    __cpuid_count(7, 1, eax, ebx, ecx, edx);
    avx512_bf16 = (eax >> 5) & 1u;
  }
  return avx512_bf16 || amx_bf16;
#else
  return false;  // other architectures: oneDNN's bf16 path is emulated, slower than float32
#endif
}

bool int8_engine_available() noexcept {
  // Whether oneDNN builds its int8 product on this CPU (int8_matmul.h): try once, on a tiny layer.
  static const bool available = [] {
    try {
      Int8Matmul probe(torch::ones({8, 8}), torch::Tensor());
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }();
  return available;
}

ComputeChoice resolve_compute_type(const std::string& requested) {
  ComputeChoice c;
  if (requested == "float32") return c;
  if (requested == "bfloat16") {
    if (cpu_has_native_bf16()) {
      c.type = ComputeType::kBFloat16;
    } else {
      c.reason = "bfloat16 requested, but this CPU has neither AVX512_BF16 nor AMX-BF16 "
                 "(emulated bf16 is slower than float32): using float32";
    }
    return c;
  }
  if (requested == "int8") {
    if (int8_engine_available()) {
      c.type = ComputeType::kInt8;
    } else {
      c.reason = "int8 requested, but oneDNN has no int8 product on this CPU: using float32";
    }
    return c;
  }
  if (requested == "auto") {
    if (cpu_has_native_bf16()) {
      c.type = ComputeType::kBFloat16;
      c.reason = "auto: the CPU has native bf16 (AVX512_BF16/AMX)";
    } else {
      c.reason = "auto: no native bf16 on this CPU";
    }
    return c;
  }
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("unknown compute_type '{}' (float32, bfloat16, int8 or auto)", requested));
}

}  // namespace tolk::model
