// bf16_gemv.cc — see bf16_gemv.h.
#include "model/bf16_gemv.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

#include "model/lane_sum.h"
#define TOLK_BF16_GEMV_KERNEL 1
#endif

namespace tolk::model {
namespace {

#ifdef TOLK_BF16_GEMV_KERNEL
// Output rows per inner block: independent accumulators hide the latency of the dot-product
// instruction; 4 rows × up to 4 inputs = 16 of the 32 vector registers.
constexpr int64_t kBlock = 4;

__attribute__((target("avx512f,avx512bw,avx512bf16"))) inline __m512bh input_chunk(const uint16_t* xb,
                                                                                int64_t i) {
  return (__m512bh)_mm512_loadu_si512(xb + i * 32);
}

// One output block at a time: each 64-byte load of weights feeds every input row.
template <int64_t Rows>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void gemv_range(
    const uint16_t* xb, int64_t chunks, const uint16_t* w, int64_t in, int64_t begin, int64_t end,
    const float* bias, float* y, int64_t out) {
  int64_t o = begin;
  for (; o + kBlock <= end; o += kBlock) {
    __m512 acc[Rows][kBlock];
    for (int64_t r = 0; r < Rows; ++r)
      for (int64_t b = 0; b < kBlock; ++b) acc[r][b] = _mm512_setzero_ps();
    for (int64_t c = 0; c < chunks; ++c) {
      __m512bh wv[kBlock];
#pragma GCC unroll 4
      for (int64_t b = 0; b < kBlock; ++b)
        wv[b] = (__m512bh)_mm512_loadu_si512(w + (o + b) * in + c * 32);
#pragma GCC unroll 4
      for (int64_t r = 0; r < Rows; ++r) {
        const __m512bh xv = input_chunk(xb, r * chunks + c);
#pragma GCC unroll 4
        for (int64_t b = 0; b < kBlock; ++b) acc[r][b] = _mm512_dpbf16_ps(acc[r][b], xv, wv[b]);
      }
    }
    for (int64_t r = 0; r < Rows; ++r)
      for (int64_t b = 0; b < kBlock; ++b)
        y[r * out + o + b] = lane_sum(acc[r][b]) + (bias ? bias[o + b] : 0.0f);
  }
  for (; o < end; ++o) {
    for (int64_t r = 0; r < Rows; ++r) {
      __m512 acc = _mm512_setzero_ps();
      for (int64_t c = 0; c < chunks; ++c)
        acc = _mm512_dpbf16_ps(acc, input_chunk(xb, r * chunks + c),
                               (__m512bh)_mm512_loadu_si512(w + o * in + c * 32));
      y[r * out + o] = lane_sum(acc) + (bias ? bias[o] : 0.0f);
    }
  }
}

// The input rows in bfloat16, 32 values per vector: element j of chunk c is x[32c + j]
// (cvtne2ps puts its second operand in the low half), the same order as a weight load.
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void pack_input(const float* x, int64_t rows,
                                                                       int64_t in, uint16_t* xb) {
  const int64_t chunks = in / 32;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < chunks; ++c) {
      const float* p = x + r * in + c * 32;
      _mm512_storeu_si512(xb + (r * chunks + c) * 32,
                          (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(p + 16), _mm512_loadu_ps(p)));
    }
}

bool cpu_has_avx512_bf16() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  if (eax < 1) return false;
  __cpuid_count(7, 1, eax, ebx, ecx, edx);
  // __builtin_cpu_supports also checks that the OS saves the 512-bit registers.
  return ((eax >> 5) & 1u) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
}
#endif

}  // namespace

bool bf16_gemv_available() noexcept {
#ifdef TOLK_BF16_GEMV_KERNEL
  static const bool available = cpu_has_avx512_bf16();
  return available;
#else
  return false;
#endif
}

bool bf16_gemv_applies(const torch::Tensor& x, const torch::Tensor& w,
                       const torch::Tensor& bias) noexcept {
  if (bias.defined() && (bias.scalar_type() != torch::kFloat32 || bias.dim() != 1 ||
                         bias.size(0) != w.size(0) || !bias.is_contiguous() || bias.requires_grad()))
    return false;
  return bf16_gemv_available() && x.dim() == 2 && w.dim() == 2 &&
         x.scalar_type() == torch::kFloat32 && w.scalar_type() == torch::kBFloat16 &&
         x.size(0) >= 1 && x.size(0) <= kBf16GemvMaxRows && x.size(1) == w.size(1) &&
         w.size(1) % 32 == 0 && x.is_contiguous() && w.is_contiguous() && !x.requires_grad();
}

torch::Tensor bf16_gemv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias) {
#ifdef TOLK_BF16_GEMV_KERNEL
  const int64_t rows = x.size(0), in = x.size(1), out = w.size(0), chunks = in / 32;
  auto y = torch::empty({rows, out}, x.options());
  std::vector<uint16_t> xb(static_cast<size_t>(rows * in));  // the input rows in bfloat16
  pack_input(x.data_ptr<float>(), rows, in, xb.data());
  const auto* wp = reinterpret_cast<const uint16_t*>(w.data_ptr<at::BFloat16>());
  float* yp = y.data_ptr<float>();
  const float* bp = bias.defined() ? bias.data_ptr<float>() : nullptr;
  // Split the output rows between the intra-op threads; each part reads its own weight rows.
  const int64_t grain = std::max<int64_t>(kBlock, (64 * 1024) / (2 * in));
  at::parallel_for(0, out, grain, [&](int64_t begin, int64_t end) {
    switch (rows) {
      case 1: gemv_range<1>(xb.data(), chunks, wp, in, begin, end, bp, yp, out); break;
      case 2: gemv_range<2>(xb.data(), chunks, wp, in, begin, end, bp, yp, out); break;
      case 3: gemv_range<3>(xb.data(), chunks, wp, in, begin, end, bp, yp, out); break;
      default: gemv_range<4>(xb.data(), chunks, wp, in, begin, end, bp, yp, out); break;
    }
  });
  return y;
#else
  auto y = torch::linear(x.to(torch::kBFloat16), w).to(torch::kFloat32);
  return bias.defined() ? y.add_(bias) : y;
#endif
}

void bf16_gemv_row(const float* x, const at::BFloat16* w, const float* bias, float* y, int64_t in,
                   int64_t out) {
#ifdef TOLK_BF16_GEMV_KERNEL
  const int64_t chunks = in / 32;
  thread_local std::vector<uint16_t> xb;
  xb.resize(static_cast<size_t>(in));
  pack_input(x, 1, in, xb.data());
  const auto* wp = reinterpret_cast<const uint16_t*>(w);
  const uint16_t* xp = xb.data();
  const int64_t grain = std::max<int64_t>(kBlock, (64 * 1024) / (2 * in));
  at::parallel_for(0, out, grain, [&](int64_t begin, int64_t end) {
    gemv_range<1>(xp, chunks, wp, in, begin, end, bias, y, out);
  });
#else
  (void)x, (void)w, (void)bias, (void)y, (void)in, (void)out;
  TORCH_CHECK(false, "bf16_gemv_row: this build has no AVX512-BF16 kernel");
#endif
}

}  // namespace tolk::model
