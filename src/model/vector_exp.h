// vector_exp.h — exp(x) for x ≤ 0 over 16 float lanes with AVX-512: the shifted exponentials of
// a softmax (attention weights) and of a log-sum-exp (the vocabulary scans).
//
// Why by hand: both loops called the scalar std::exp once per entry; in the encoder's
// self-attention that was ~40 % of the time per query. Include only where
// TOLK_HAS_VECTOR_EXP is defined.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TOLK_HAS_VECTOR_EXP 1

namespace tolk::model {

// exp(x) for x ≤ 0 (x = entry − max): 2^n · p(r) with x = n·ln2 + r, |r| ≤ ln2/2, p the
// degree-6 Taylor polynomial (relative error < 2e-7 on that interval); scalef applies 2^n with
// IEEE underflow. Inputs below −104 (exp < the smallest float) are clamped there, which also
// turns −inf (and NaN) into a contribution of ≤ 1e-45 that vanishes in any sum holding
// exp(0) = 1; exp_non_positive_exact gives those what std::exp gives.
__attribute__((target("avx512f"))) inline __m512 exp_non_positive(__m512 x) {
  const __m512 zero = _mm512_setzero_ps();
  x = _mm512_mask_max_ps(zero, 0xFFFF, x, _mm512_set1_ps(-104.0f));
  const __m512 n = _mm512_mask_roundscale_ps(zero, 0xFFFF,
                                             _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);  // ln2 in two parts: exact n·hi
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 720);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  return _mm512_mask_scalef_ps(zero, 0xFFFF, p, n);
}

// The same, except that x < −104 gives exactly 0 and NaN gives NaN, as std::exp: an attention
// weight of a masked key (score + finfo.min) is then exactly 0, as in LibTorch's softmax.
__attribute__((target("avx512f"))) inline __m512 exp_non_positive_exact(__m512 x) {
  __m512 e = exp_non_positive(x);
  e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-104.0f), _CMP_LT_OQ),
                         _mm512_setzero_ps());
  return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

}  // namespace tolk::model
#endif
