// vocabulary_rescoring.cc — see vocabulary_rescoring.h.
#include "model/vocabulary_rescoring.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace tolk::model {
namespace {

// The k highest entries of row[0, V), best first; equal values keep the lower index first.
void best_of_row(const float* row, int64_t V, int64_t k, std::vector<float>& val,
                 std::vector<int64_t>& idx) {
  int64_t count = 0;
  for (int64_t j = 0; j < V; ++j) {
    const float v = row[j];
    if (v != v) continue;                                 // NaN
    if (count == k && !(v > val[static_cast<size_t>(k - 1)])) continue;
    int64_t pos = count < k ? count++ : k - 1;            // the slot it enters from below
    while (pos > 0 && v > val[static_cast<size_t>(pos - 1)]) {
      val[static_cast<size_t>(pos)] = val[static_cast<size_t>(pos - 1)];
      idx[static_cast<size_t>(pos)] = idx[static_cast<size_t>(pos - 1)];
      --pos;
    }
    val[static_cast<size_t>(pos)] = v;
    idx[static_cast<size_t>(pos)] = j;
  }
  idx.resize(static_cast<size_t>(count));
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
    std::vector<float> val(static_cast<size_t>(k));
    std::vector<int64_t> idx;
    for (int64_t r = begin; r < end; ++r) {
      idx.assign(static_cast<size_t>(k), 0);
      float* row = lp + r * V;
      best_of_row(row, V, k, val, idx);
      const float* xr = xp + r * D;
      for (int64_t j : idx) {
        const float* w = hp + j * D;
        double s = 0.0;
        for (int64_t d = 0; d < D; ++d) s += static_cast<double>(w[d]) * static_cast<double>(xr[d]);
        row[j] = static_cast<float>(s);
      }
    }
  });
}

}  // namespace tolk::model
