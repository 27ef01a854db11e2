// float16_values.cc — see float16_values.h.
#include "model/float16_values.h"

#include <algorithm>

#include "util/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TOLK_FLOAT16_AVX512 1
#endif

namespace tolk::model {
namespace {

// c10::Half's own conversion rounds to nearest even, like vcvtps2ph below.
void to_float16_plain(const float* src, c10::Half* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = src[i];
    // Written so that NaN falls through both tests unchanged.
    dst[i] = c10::Half(x > kFloat16Max ? kFloat16Max : (x < -kFloat16Max ? -kFloat16Max : x));
  }
}

#ifdef TOLK_FLOAT16_AVX512
__attribute__((target("avx512f"))) void to_float16_avx512(const float* src, c10::Half* dst, int64_t n) {
  const __m512 hi = _mm512_set1_ps(kFloat16Max), lo = _mm512_set1_ps(-kFloat16Max);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // max/min return their second operand when either is NaN: x goes second, so NaN survives.
    // (The masked forms, with a defined source, keep GCC 12's header from -Wmaybe-uninitialized.)
    const __m512 zero = _mm512_setzero_ps();
    const __m512 x = _mm512_mask_min_ps(zero, 0xFFFF, hi,
                                        _mm512_mask_max_ps(zero, 0xFFFF, lo, _mm512_loadu_ps(src + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                        _mm512_mask_cvtps_ph(_mm256_setzero_si256(), 0xFFFF, x,
                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  to_float16_plain(src + i, dst + i, n - i);
}
#endif

}  // namespace

void to_float16(const float* src, c10::Half* dst, int64_t n) {
#ifdef TOLK_FLOAT16_AVX512
  if (util::cpu_has_avx512f()) return to_float16_avx512(src, dst, n);
#endif
  to_float16_plain(src, dst, n);
}

}  // namespace tolk::model
