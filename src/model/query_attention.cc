// query_attention.cc — see query_attention.h.
#include "model/query_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "model/lane_sum.h"
#define TOLK_QUERY_ATTENTION_AVX512 1
#endif

namespace tolk::model {
namespace {

// Softmax of p[0..keys) in place, unnormalised; returns the sum to divide by.
float exp_shifted(std::vector<float>& p, float top) {
  float sum = 0.0f;
  for (auto& x : p) sum += (x = std::exp(x - top));
  return sum;
}

template <typename T>
void attend_one_query_plain(const float* q, const T* k, int64_t k_step, const T* v,
                            int64_t v_step, int64_t keys, int64_t hd, const float* mask, float* out,
                            std::vector<float>& p) {
  p.resize(static_cast<size_t>(keys));
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t t = 0; t < keys; ++t) {
    const T* kt = k + t * k_step;
    float s = 0.0f;
    for (int64_t d = 0; d < hd; ++d) s += q[d] * static_cast<float>(kt[d]);
    if (mask) s += mask[t];
    p[static_cast<size_t>(t)] = s;
    top = std::max(top, s);
  }
  const float sum = exp_shifted(p, top);
  std::fill(out, out + hd, 0.0f);
  for (int64_t t = 0; t < keys; ++t) {
    const float w = p[static_cast<size_t>(t)] / sum;
    const T* vt = v + t * v_step;
    for (int64_t d = 0; d < hd; ++d) out[d] += w * static_cast<float>(vt[d]);
  }
}

#ifdef TOLK_QUERY_ATTENTION_AVX512
// Head sizes up to this many floats keep the query and the output in registers.
constexpr int64_t kMaxChunks = 16;

// 16 keys' or values' features as float32 lanes.
__attribute__((target("avx512f"))) inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
// (The masked forms, with a defined source, keep GCC 12's header from -Wmaybe-uninitialized.)
__attribute__((target("avx512f"))) inline __m512 load16(const c10::Half* p) {
  return _mm512_mask_cvtph_ps(_mm512_setzero_ps(), 0xFFFF,
                              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// attend_one_query for hd a multiple of 16 (at most 256): the query and the output stay in
// registers, and four keys are scored at a time so their products overlap.
template <int64_t Chunks, typename T>
__attribute__((target("avx512f"))) void attend_one_query_avx512(
    const float* q, const T* k, int64_t k_step, const T* v, int64_t v_step, int64_t keys,
    const float* mask, float* out, std::vector<float>& p) {
  p.resize(static_cast<size_t>(keys));
  __m512 qv[Chunks];
  for (int64_t c = 0; c < Chunks; ++c) qv[c] = _mm512_loadu_ps(q + 16 * c);
  float top = -std::numeric_limits<float>::infinity();
  int64_t t = 0;
  for (; t + 4 <= keys; t += 4) {
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                     _mm512_setzero_ps()};
    for (int64_t c = 0; c < Chunks; ++c)
      for (int64_t j = 0; j < 4; ++j)
        acc[j] = _mm512_fmadd_ps(qv[c], load16(k + (t + j) * k_step + 16 * c), acc[j]);
    for (int64_t j = 0; j < 4; ++j) {
      float s = lane_sum(acc[j]);
      if (mask) s += mask[t + j];
      p[static_cast<size_t>(t + j)] = s;
      top = std::max(top, s);
    }
  }
  for (; t < keys; ++t) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t c = 0; c < Chunks; ++c)
      acc = _mm512_fmadd_ps(qv[c], load16(k + t * k_step + 16 * c), acc);
    float s = lane_sum(acc);
    if (mask) s += mask[t];
    p[static_cast<size_t>(t)] = s;
    top = std::max(top, s);
  }
  const float inv = 1.0f / exp_shifted(p, top);
  __m512 o[Chunks];
  for (int64_t c = 0; c < Chunks; ++c) o[c] = _mm512_setzero_ps();
  for (t = 0; t < keys; ++t) {
    const __m512 w = _mm512_set1_ps(p[static_cast<size_t>(t)] * inv);
    for (int64_t c = 0; c < Chunks; ++c)
      o[c] = _mm512_fmadd_ps(w, load16(v + t * v_step + 16 * c), o[c]);
  }
  for (int64_t c = 0; c < Chunks; ++c) _mm512_storeu_ps(out + 16 * c, o[c]);
}

template <typename T>
using Kernel = void (*)(const float*, const T*, int64_t, const T*, int64_t, int64_t, const float*,
                        float*, std::vector<float>&);

template <typename T, int64_t... C>
Kernel<T> pick(int64_t chunks, std::integer_sequence<int64_t, C...>) {
  Kernel<T> k = nullptr;
  ((chunks == C + 1 ? (k = &attend_one_query_avx512<C + 1, T>, 0) : 0), ...);
  return k;
}

// The AVX-512 kernel for this head size, or null (no AVX-512, or hd not a multiple of 16 / > 256).
template <typename T>
Kernel<T> avx512_kernel(int64_t hd) {
  static const bool has = __builtin_cpu_supports("avx512f");
  if (!has || hd % 16 != 0 || hd / 16 > kMaxChunks || hd == 0) return nullptr;
  return pick<T>(hd / 16, std::make_integer_sequence<int64_t, kMaxChunks>{});
}
#endif

// Below this many multiply-adds (q·k and p·v over every row and head) the work stays on the
// calling thread: a one-sentence step's attention is a few µs, less than waking another thread.
constexpr int64_t kMinSplitWork = int64_t{1} << 15;

}  // namespace

template <typename T>
void attend_one_query(const float* q, const T* k, int64_t k_step, const T* v, int64_t v_step,
                      int64_t keys, int64_t hd, const float* mask, float* out, std::vector<float>& p) {
#ifdef TOLK_QUERY_ATTENTION_AVX512
  if (const Kernel<T> kernel = avx512_kernel<T>(hd)) return kernel(q, k, k_step, v, v_step, keys, mask, out, p);
#endif
  attend_one_query_plain(q, k, k_step, v, v_step, keys, hd, mask, out, p);
}

template <typename T>
void attend_queries(const QueryOperand& q, const Operand<T>& k, const Operand<T>& v,
                    const QueryOperand& mask, int64_t rows, int64_t heads, int64_t keys, int64_t hd,
                    float* out, const int64_t* row_keys) {
  const int64_t pairs = rows * heads;
  const int64_t per_pair = std::max<int64_t>(1, 2 * keys * hd);
  const int64_t grain = std::max<int64_t>(1, kMinSplitWork / per_pair);
  at::parallel_for(0, pairs, grain, [&](int64_t first, int64_t last) {
    std::vector<float> p;  // one per thread and call: keys floats
    for (int64_t i = first; i < last; ++i) {
      const int64_t b = i / heads, h = i % heads;
      const float* m = mask.base ? mask.base + b * mask.batch_stride + h * mask.head_stride : nullptr;
      const int64_t n = row_keys ? std::clamp<int64_t>(row_keys[b], 1, keys) : keys;
      attend_one_query(q.base + b * q.batch_stride + h * q.head_stride,
                       k.base + b * k.batch_stride + h * k.head_stride, k.key_stride,
                       v.base + b * v.batch_stride + h * v.head_stride, v.key_stride, n, hd, m,
                       out + i * hd, p);
    }
  });
}

// The two cache element types.
template void attend_one_query<float>(const float*, const float*, int64_t, const float*, int64_t,
                                      int64_t, int64_t, const float*, float*, std::vector<float>&);
template void attend_one_query<c10::Half>(const float*, const c10::Half*, int64_t, const c10::Half*,
                                          int64_t, int64_t, int64_t, const float*, float*,
                                          std::vector<float>&);
template void attend_queries<float>(const QueryOperand&, const Operand<float>&, const Operand<float>&,
                                    const QueryOperand&, int64_t, int64_t, int64_t, int64_t, float*,
                                    const int64_t*);
template void attend_queries<c10::Half>(const QueryOperand&, const Operand<c10::Half>&,
                                        const Operand<c10::Half>&, const QueryOperand&, int64_t,
                                        int64_t, int64_t, int64_t, float*, const int64_t*);

}  // namespace tolk::model
