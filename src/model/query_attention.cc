// query_attention.cc — see query_attention.h.
#include "model/query_attention.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "util/cpu_features.h"

#include "model/lane_sum.h"    // defines TOLK_HAS_LANE_SUM where AVX-512 code can be built
#include "model/vector_exp.h"  // and TOLK_HAS_VECTOR_EXP
#if defined(TOLK_HAS_LANE_SUM) && defined(TOLK_HAS_VECTOR_EXP)
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

// 128-bit quarters 0, 2 of a then 0, 2 of b; and 1, 3 of each.
__attribute__((target("avx512f"))) inline __m512 even_quarters(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(_mm512_setzero_ps(), 0xFFFF, a, b, 0x88);
}
__attribute__((target("avx512f"))) inline __m512 odd_quarters(__m512 a, __m512 b) {
  return _mm512_mask_shuffle_f32x4(_mm512_setzero_ps(), 0xFFFF, a, b, 0xDD);
}

// Lane j of the result = the sum of v[j]'s 16 lanes: a transposing tree (pairs of registers,
// then of 64-bit halves, then of 128-bit quarters) that costs ~3 operations per register,
// where summing each register on its own is a chain of 16 dependent additions. (The masked
// forms of the shuffles, with a defined source, keep GCC 12's header from
// -Wmaybe-uninitialized.)
__attribute__((target("avx512f"))) inline __m512 sum_lanes_16(const __m512 (&v)[16]) {
  const __m512 z = _mm512_setzero_ps();
  const __mmask16 all = 0xFFFF;
  __m512 pairs[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)  // 128-bit lane L: [a0+a2, b0+b2, a1+a3, b1+b3] of v[2i], v[2i+1]
    pairs[i] = _mm512_add_ps(_mm512_mask_unpacklo_ps(z, all, v[2 * i], v[2 * i + 1]),
                             _mm512_mask_unpackhi_ps(z, all, v[2 * i], v[2 * i + 1]));
  __m512 quads[4];
  const __m512d zd = _mm512_setzero_pd();
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // 128-bit lane L: lane L's sums of v[4i .. 4i+3]
    const __m512d a = _mm512_castps_pd(pairs[2 * i]), b = _mm512_castps_pd(pairs[2 * i + 1]);
    quads[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_mask_unpacklo_pd(zd, 0xFF, a, b)),
                             _mm512_castpd_ps(_mm512_mask_unpackhi_pd(zd, 0xFF, a, b)));
  }
  // 128-bit lanes (0+1, 2+3) of two quads, then (0+1+2+3): lane 4i+m = the sum of v[4i+m].
  const __m512 h0 = _mm512_add_ps(even_quarters(quads[0], quads[1]), odd_quarters(quads[0], quads[1]));
  const __m512 h1 = _mm512_add_ps(even_quarters(quads[2], quads[3]), odd_quarters(quads[2], quads[3]));
  return _mm512_add_ps(even_quarters(h0, h1), odd_quarters(h0, h1));
}

// attend_one_query for hd a multiple of 16 (at most 256). Keys are scored 16 at a time: their
// products overlap, and one tree turns the 16 accumulators into 16 scores. The loops over
// chunks and keys are unrolled so that the query, the accumulators and the output stay in
// registers (left to -O2, GCC kept them on the stack: every multiply-add then waited for the
// previous one's store, and the kernel ran at a fraction of the memory bandwidth).
template <int64_t Chunks, typename T>
__attribute__((target("avx512f"))) void attend_one_query_avx512(
    const float* q, const T* k, int64_t k_step, const T* v, int64_t v_step, int64_t keys,
    const float* mask, float* out, std::vector<float>& p) {
  p.resize(static_cast<size_t>(keys));
  __m512 qv[Chunks];
#pragma GCC unroll 16
  for (int64_t c = 0; c < Chunks; ++c) qv[c] = _mm512_loadu_ps(q + 16 * c);
  __m512 top16 = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t t = 0; t < keys; t += 16) {
    const int64_t n = std::min<int64_t>(16, keys - t);
    __m512 acc[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) acc[j] = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int64_t c = 0; c < Chunks; ++c)
#pragma GCC unroll 16
      for (int j = 0; j < 16; ++j)
        if (j < n) acc[j] = _mm512_fmadd_ps(qv[c], load16(k + (t + j) * k_step + 16 * c), acc[j]);
    const __mmask16 live = static_cast<__mmask16>((1u << n) - 1);
    __m512 scores = sum_lanes_16(acc);
    if (mask) scores = _mm512_add_ps(scores, _mm512_maskz_loadu_ps(live, mask + t));
    _mm512_mask_storeu_ps(p.data() + t, live, scores);
    top16 = _mm512_mask_max_ps(top16, live, scores, top16);  // a NaN score is passed over
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, top16);
  float top = lanes[0];
  for (float x : lanes) top = std::max(top, x);
  // The weights exp(score − top), 16 at a time (the scalar std::exp per key was ~40 % of an
  // encoder query's time), and their sum.
  const __m512 shift = _mm512_set1_ps(top);
  __m512 sum16 = _mm512_setzero_ps();
  for (int64_t t = 0; t < keys; t += 16) {
    const __mmask16 live = keys - t >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (keys - t)) - 1);
    const __m512 e = exp_non_positive_exact(
        _mm512_sub_ps(_mm512_maskz_loadu_ps(live, p.data() + t), shift));
    _mm512_mask_storeu_ps(p.data() + t, live, e);
    sum16 = _mm512_mask_add_ps(sum16, live, sum16, e);
  }
  const float inv = 1.0f / lane_sum(sum16);
  __m512 o[Chunks];
#pragma GCC unroll 16
  for (int64_t c = 0; c < Chunks; ++c) o[c] = _mm512_setzero_ps();
  for (int64_t t = 0; t < keys; ++t) {
    const __m512 w = _mm512_set1_ps(p[static_cast<size_t>(t)] * inv);
#pragma GCC unroll 16
    for (int64_t c = 0; c < Chunks; ++c)
      o[c] = _mm512_fmadd_ps(w, load16(v + t * v_step + 16 * c), o[c]);
  }
#pragma GCC unroll 16
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
  if (!util::cpu_has_avx512f() || hd % 16 != 0 || hd / 16 > kMaxChunks || hd == 0) return nullptr;
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

namespace {
// A (row, query, head) item costs about this many keys' work on top of its own keys (the
// query's load, the softmax set-up, the output's store).
constexpr int64_t kItemOverheadKeys = 8;

// Every (row, query, head) item in out's order: item i is row i / (queries·heads), query
// (i / heads) % queries, head i % heads, written at out + i·hd.
template <typename T>
void attend_items(const QueryOperand& q, const Operand<T>& k, const Operand<T>& v,
                  const QueryOperand& mask, int64_t rows, int64_t heads, int64_t queries,
                  int64_t keys, int64_t hd, float* out, const int64_t* row_keys) {
  const int64_t per_row = queries * heads, items = rows * per_row;
  auto own_keys = [&](int64_t b) { return row_keys ? std::clamp<int64_t>(row_keys[b], 1, keys) : keys; };
  auto run = [&](int64_t first, int64_t last, std::vector<float>& p) {
    for (int64_t i = first; i < last; ++i) {
      const int64_t h = i % heads, t = (i / heads) % queries, b = i / per_row;
      const float* m = mask.base ? mask.base + b * mask.batch_stride + h * mask.head_stride +
                                       t * mask.step
                                 : nullptr;
      attend_one_query(q.base + b * q.batch_stride + h * q.head_stride + t * q.step,
                       k.base + b * k.batch_stride + h * k.head_stride, k.step,
                       v.base + b * v.batch_stride + h * v.head_stride, v.step, own_keys(b), hd,
                       m, out + i * hd, p);
    }
  };
  if (!row_keys) {  // every item the same work: equal item counts per thread
    const int64_t grain = std::max<int64_t>(1, kMinSplitWork / std::max<int64_t>(1, 2 * keys * hd));
    at::parallel_for(0, items, grain, [&](int64_t first, int64_t last) {
      std::vector<float> p;  // one per thread and call: keys floats
      run(first, last, p);
    });
    return;
  }
  // Rows read their own numbers of keys: the items are cut into one run of about equal work
  // per thread. (Cut by item count, the thread with a batch's long sources, which come first,
  // did twice the other's attention in a 256-sentence step: the other waited.)
  std::vector<int64_t> before(static_cast<size_t>(rows) + 1, 0);  // work of rows < b
  for (int64_t b = 0; b < rows; ++b)
    before[b + 1] = before[b] + (own_keys(b) + kItemOverheadKeys) * per_row;
  const int64_t total = before[rows];
  const int64_t threads = at::in_parallel_region() ? 1 : at::get_num_threads();
  const int64_t parts = std::clamp<int64_t>(total * 2 * hd / kMinSplitWork, 1, threads);
  // The first item whose work starts at or after `work`.
  auto item_at = [&](int64_t work) {
    if (work >= total) return items;
    const int64_t b = std::upper_bound(before.begin(), before.end(), work) - before.begin() - 1;
    const int64_t cost = own_keys(b) + kItemOverheadKeys;
    return b * per_row + std::min(per_row, (work - before[b] + cost - 1) / cost);
  };
  at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
    std::vector<float> p;
    for (int64_t part = first; part < last; ++part)
      run(item_at(total * part / parts), item_at(total * (part + 1) / parts), p);
  });
}
}  // namespace

template <typename T>
void attend_queries(const QueryOperand& q, const Operand<T>& k, const Operand<T>& v,
                    const QueryOperand& mask, int64_t rows, int64_t heads, int64_t keys, int64_t hd,
                    float* out, const int64_t* row_keys) {
  attend_items(q, k, v, mask, rows, heads, 1, keys, hd, out, row_keys);
}

template <typename T>
void attend_query_blocks(const QueryOperand& q, const Operand<T>& k, const Operand<T>& v,
                         const QueryOperand& mask, int64_t rows, int64_t heads, int64_t queries,
                         int64_t keys, int64_t hd, float* out) {
  attend_items(q, k, v, mask, rows, heads, queries, keys, hd, out, nullptr);
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
template void attend_query_blocks<float>(const QueryOperand&, const Operand<float>&,
                                         const Operand<float>&, const QueryOperand&, int64_t,
                                         int64_t, int64_t, int64_t, int64_t, float*);
template void attend_query_blocks<c10::Half>(const QueryOperand&, const Operand<c10::Half>&,
                                             const Operand<c10::Half>&, const QueryOperand&,
                                             int64_t, int64_t, int64_t, int64_t, int64_t, float*);

}  // namespace tolk::model
