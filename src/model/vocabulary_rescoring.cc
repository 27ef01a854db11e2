// vocabulary_rescoring.cc — see vocabulary_rescoring.h.
#include "model/vocabulary_rescoring.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "model/vocabulary_scan.h"
#include "util/cpu_features.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TOLK_RESCORE_AVX512 1
#endif

namespace tolk::model {
namespace {

// Σ w[d]·x[d] in double: each product of two floats is exact in double, so only the order of
// the additions differs between the two versions (far below float32's rounding).
double dot_plain(const float* w, const float* x, int64_t D) {
  double s = 0.0;
  for (int64_t d = 0; d < D; ++d) s += static_cast<double>(w[d]) * static_cast<double>(x[d]);
  return s;
}

#ifdef TOLK_RESCORE_AVX512
// (Masked conversions with a zero source and the lane sum through memory keep GCC 12's
// intrinsics headers from warning about uninitialised registers.)
__attribute__((target("avx512f"))) inline __m512d widen8(const float* p) {
  return _mm512_mask_cvtps_pd(_mm512_setzero_pd(), 0xFF, _mm256_loadu_ps(p));
}

__attribute__((target("avx512f"))) double dot_avx512(const float* w, const float* x, int64_t D) {
  __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
  int64_t d = 0;
  for (; d + 16 <= D; d += 16) {
    s0 = _mm512_fmadd_pd(widen8(w + d), widen8(x + d), s0);
    s1 = _mm512_fmadd_pd(widen8(w + d + 8), widen8(x + d + 8), s1);
  }
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, _mm512_add_pd(s0, s1));
  double s = dot_plain(w + d, x + d, D - d);
  for (double l : lanes) s += l;
  return s;
}
#endif

double dot(const float* w, const float* x, int64_t D) {
#ifdef TOLK_RESCORE_AVX512
  if (util::cpu_has_avx512f()) return dot_avx512(w, x, D);
#endif
  return dot_plain(w, x, D);
}

}  // namespace

void rescore_best_candidates(torch::Tensor& logits, const torch::Tensor& x, const torch::Tensor& head,
                             int64_t k) {
  const int64_t n = logits.size(0), V = logits.size(1), D = head.size(1);
  k = std::min(k, V);
  if (n == 0 || k <= 0) return;
  TORCH_CHECK(x.dim() == 2 && x.size(0) == n && x.size(1) == D && head.size(0) == V,
              "rescore_best_candidates: shapes do not match");
  const auto f = torch::kFloat32;
  if (logits.scalar_type() != f || x.scalar_type() != f || head.scalar_type() != f ||
      !logits.is_contiguous() || !head.is_contiguous()) {
    auto top = std::get<1>(logits.topk(k, 1));
    auto rows = head.index_select(0, top.reshape(-1)).view({n, k, D}).to(torch::kFloat64);
    auto exact = (rows * x.to(torch::kFloat64).unsqueeze(1)).sum(-1).to(logits.scalar_type());
    logits.scatter_(1, top, exact);
    return;
  }
  const auto xc = x.contiguous();
  float* lp = logits.data_ptr<float>();
  const float* xp = xc.data_ptr<float>();
  const float* hp = head.data_ptr<float>();
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> val;
    std::vector<int64_t> idx;
    for (int64_t r = begin; r < end; ++r) {
      float* row = lp + r * V;
      best_of_row(row, V, k, val, idx);
      for (int64_t j : idx) row[j] = static_cast<float>(dot(hp + j * D, xp + r * D, D));
    }
  });
}

}  // namespace tolk::model
