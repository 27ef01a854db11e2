// int8_rows.cc — see int8_rows.h.
#include "model/int8_rows.h"

#include <cmath>

#include "util/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TOLK_INT8_ROWS_AVX512 1
#endif

namespace tolk::model {
namespace {

// The row's scale and the multiplier that maps it onto ±127.
struct RowScale {
  float scale, inv;
};

RowScale scale_for(float amax) {
  const bool usable = amax > 0.f && std::isfinite(amax);
  return {usable ? amax / 127.f : 1.f, usable ? 127.f / amax : 0.f};
}

#ifdef TOLK_INT8_ROWS_AVX512
// (Masked forms with a zero source keep GCC 12's intrinsics headers from warning about
// uninitialised registers.)
__attribute__((target("avx512f"))) float quantize_row_avx512(const float* x, int64_t n, int8_t* q) {
  const __m512 zero = _mm512_setzero_ps();
  const __m512i sign = _mm512_set1_epi32(0x7FFFFFFF);
  // max(|x|, acc) keeps acc where |x| is NaN (the second operand wins on unordered).
  __m512 acc = zero;
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 a = _mm512_castsi512_ps(_mm512_and_epi32(_mm512_castps_si512(_mm512_loadu_ps(x + j)), sign));
    acc = _mm512_mask_max_ps(zero, 0xFFFF, a, acc);
  }
  if (j < n) {
    const __mmask16 live = static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 a = _mm512_castsi512_ps(
        _mm512_and_epi32(_mm512_castps_si512(_mm512_mask_loadu_ps(zero, live, x + j)), sign));
    acc = _mm512_mask_max_ps(zero, 0xFFFF, a, acc);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, acc);
  float amax = 0.f;
  for (float v : lanes) amax = v > amax ? v : amax;
  const RowScale s = scale_for(amax);

  // clamp: max(v, −127) gives −127 for NaN, as the plain loop does; the conversion rounds half
  // to even (the default MXCSR mode) and the narrowing saturates (never needed after the clamp).
  const __m512 inv = _mm512_set1_ps(s.inv), lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
  for (j = 0; j < n; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    __m512 v = _mm512_mul_ps(_mm512_mask_loadu_ps(zero, live, x + j), inv);
    v = _mm512_mask_max_ps(zero, 0xFFFF, v, lo);
    v = _mm512_mask_min_ps(zero, 0xFFFF, v, hi);
    _mm512_mask_cvtsepi32_storeu_epi8(q + j, live, _mm512_maskz_cvtps_epi32(0xFFFF, v));
  }
  return s.scale;
}

__attribute__((target("avx512f"))) void scale_row_avx512(float* y, int64_t n, float scale, const float* bias,
                                                         bool relu) {
  const __m512 s = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    const __m512 v = _mm512_mask_loadu_ps(zero, live, y + j);
    __m512 r = bias ? _mm512_fmadd_ps(v, s, _mm512_mask_loadu_ps(zero, live, bias + j)) : _mm512_mul_ps(v, s);
    // max returns its second operand where either is NaN: a NaN entry stays NaN. (The masked
    // form, with a defined source, keeps GCC 12's header from -Wmaybe-uninitialized.)
    if (relu) r = _mm512_mask_max_ps(zero, 0xFFFF, zero, r);
    _mm512_mask_storeu_ps(y + j, live, r);
  }
}
#endif

}  // namespace

float quantize_row_int8_plain(const float* x, int64_t n, int8_t* q) {
  float amax = 0.f;
  for (int64_t j = 0; j < n; ++j) {
    const float a = std::fabs(x[j]);
    amax = a > amax ? a : amax;  // false for NaN: ignored
  }
  const RowScale s = scale_for(amax);
  // Round half to even by adding and subtracting 1.5·2²³ (exact for |v| ≤ 127): nearbyint in
  // the default rounding mode without a library call.
  constexpr float kRound = 12582912.f;
  for (int64_t j = 0; j < n; ++j) {
    float v = x[j] * s.inv;
    v = v >= -127.f ? v : -127.f;  // NaN → −127
    v = v <= 127.f ? v : 127.f;
    q[j] = static_cast<int8_t>(static_cast<int>((v + kRound) - kRound));
  }
  return s.scale;
}

void scale_row_add_bias_plain(float* y, int64_t n, float scale, const float* bias, bool relu) {
  if (bias)
    for (int64_t j = 0; j < n; ++j) y[j] = y[j] * scale + bias[j];
  else
    for (int64_t j = 0; j < n; ++j) y[j] *= scale;
  if (relu)
    for (int64_t j = 0; j < n; ++j) y[j] = y[j] < 0.f ? 0.f : y[j];  // NaN stays NaN, as torch.relu
}

float quantize_row_int8(const float* x, int64_t n, int8_t* q) {
#ifdef TOLK_INT8_ROWS_AVX512
  if (util::cpu_has_avx512f()) return quantize_row_avx512(x, n, q);
#endif
  return quantize_row_int8_plain(x, n, q);
}

void scale_row_add_bias(float* y, int64_t n, float scale, const float* bias, bool relu) {
#ifdef TOLK_INT8_ROWS_AVX512
  if (util::cpu_has_avx512f()) return scale_row_avx512(y, n, scale, bias, relu);
#endif
  scale_row_add_bias_plain(y, n, scale, bias, relu);
}

}  // namespace tolk::model
