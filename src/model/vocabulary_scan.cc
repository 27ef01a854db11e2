// vocabulary_scan.cc — see vocabulary_scan.h.
#include "model/vocabulary_scan.h"

#include <atomic>
#include <cmath>
#include <limits>

#include "util/cpu_features.h"

#include "model/lane_sum.h"  // defines TOLK_HAS_LANE_SUM where AVX-512 code can be built
#include "model/vector_exp.h"
#ifdef TOLK_HAS_LANE_SUM
#define TOLK_SCAN_AVX512 1
#endif

namespace tolk::model {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

std::atomic<bool> vectorized_enabled{true};

[[maybe_unused]] bool vectorized() {
  return util::cpu_has_avx512f() && vectorized_enabled.load(std::memory_order_relaxed);
}

RowMax first_argmax_plain(const float* row, int64_t begin, int64_t n, RowMax best) {
  for (int64_t j = begin; j < n; ++j) {
    const float v = row[j];
    if (v != v) return {j, v};
    if (v > best.value) best = {j, v};
  }
  return best;
}

// Adds row[j] to the sorted candidates if it beats the k-th; count = candidates so far.
inline void offer(float v, int64_t j, int64_t k, int64_t& count, float* val, int64_t* idx) {
  if (v != v) return;  // NaN
  if (count == k && !(v > val[k - 1])) return;
  int64_t pos = count < k ? count++ : k - 1;  // the slot it enters from below
  while (pos > 0 && v > val[pos - 1]) {
    val[pos] = val[pos - 1];
    idx[pos] = idx[pos - 1];
    --pos;
  }
  val[pos] = v;
  idx[pos] = j;
}

#ifdef TOLK_SCAN_AVX512
// (The masked forms with a zero source, and the lane sums through memory instead of
// _mm512_reduce_* (lane_sum.h), keep GCC 12's intrinsics headers from warning about uninitialised registers.)

__attribute__((target("avx512f"))) inline float lane_max(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float m = lanes[0];
  for (int i = 1; i < 16; ++i) m = lanes[i] > m ? lanes[i] : m;
  return m;
}

__attribute__((target("avx512f"))) RowMax first_argmax_avx512(const float* row, int64_t n) {
  // Pass 1: the maximum, stopping at the first vector that holds a NaN.
  __m512 m = _mm512_set1_ps(kNegInf);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 v = _mm512_loadu_ps(row + j);
    if (const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)) {
      const int64_t at = j + __builtin_ctz(nan);
      return {at, row[at]};
    }
    m = _mm512_mask_max_ps(m, 0xFFFF, m, v);
  }
  float top = lane_max(m);
  for (int64_t t = j; t < n; ++t) {
    if (row[t] != row[t]) return {t, row[t]};
    if (row[t] > top) top = row[t];
  }
  // Pass 2: where it first occurs (the row is in cache now).
  const __m512 want = _mm512_set1_ps(top);
  for (j = 0; j + 16 <= n; j += 16)
    if (const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), want, _CMP_EQ_OQ))
      return {j + __builtin_ctz(hit), top};
  for (; j < n; ++j)
    if (row[j] == top) return {j, top};
  return {0, row[0]};  // not reached: top is one of the entries
}

__attribute__((target("avx512f"))) float exp_sum_avx512(const float* row, int64_t n, float max) {
  const __m512 m = _mm512_set1_ps(max);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    s0 = _mm512_add_ps(s0, exp_non_positive(_mm512_sub_ps(_mm512_loadu_ps(row + j), m)));
    s1 = _mm512_add_ps(s1, exp_non_positive(_mm512_sub_ps(_mm512_loadu_ps(row + j + 16), m)));
  }
  for (; j < n; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - j)) - 1);
    const __m512 e = exp_non_positive(
        _mm512_sub_ps(_mm512_mask_loadu_ps(_mm512_setzero_ps(), live, row + j), m));
    s0 = _mm512_mask_add_ps(s0, live, s0, e);
  }
  return lane_sum(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f"))) void best_of_row_avx512(const float* row, int64_t n, int64_t k,
                                                           int64_t& count, float* val, int64_t* idx) {
  int64_t j = 0;
  for (; j < n && count < k; ++j) offer(row[j], j, k, count, val, idx);
  // Full: only entries above the k-th can enter, and after the first few hundred they are
  // rare, so the row is compared 16 at a time and the few that pass are offered in order.
  for (; j + 16 <= n; j += 16) {
    __mmask16 pass =
        _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), _mm512_set1_ps(val[k - 1]), _CMP_GT_OQ);
    while (pass) {
      const int lane = __builtin_ctz(pass);
      pass &= pass - 1;
      offer(row[j + lane], j + lane, k, count, val, idx);
    }
  }
  for (; j < n; ++j) offer(row[j], j, k, count, val, idx);
}
#endif

}  // namespace

void set_vectorized_vocabulary_scans(bool enabled) { vectorized_enabled.store(enabled); }

RowMax first_argmax(const float* row, int64_t n) {
#ifdef TOLK_SCAN_AVX512
  if (vectorized()) return first_argmax_avx512(row, n);
#endif
  if (row[0] != row[0]) return {0, row[0]};
  return first_argmax_plain(row, 1, n, {0, row[0]});
}

float log_sum_exp(const float* row, int64_t n, float max) {
  if (!std::isfinite(max)) return max;
#ifdef TOLK_SCAN_AVX512
  if (vectorized()) return max + std::log(exp_sum_avx512(row, n, max));
#endif
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j) sum += std::exp(static_cast<double>(row[j]) - max);
  return max + static_cast<float>(std::log(sum));
}

void best_of_row(const float* row, int64_t n, int64_t k, std::vector<float>& val,
                 std::vector<int64_t>& idx) {
  val.assign(static_cast<size_t>(std::max<int64_t>(k, 0)), 0.0f);
  idx.assign(val.size(), 0);
  int64_t count = 0;
  if (k > 0) {
#ifdef TOLK_SCAN_AVX512
    if (vectorized()) {
      best_of_row_avx512(row, n, k, count, val.data(), idx.data());
    } else
#endif
    {
      for (int64_t j = 0; j < n; ++j) offer(row[j], j, k, count, val.data(), idx.data());
    }
  }
  val.resize(static_cast<size_t>(count));
  idx.resize(static_cast<size_t>(count));
}

}  // namespace tolk::model
