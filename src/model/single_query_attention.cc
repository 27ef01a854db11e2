// single_query_attention.cc — see single_query_attention.h.
#include "model/single_query_attention.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace tolk::model {
namespace {

// Eight independent partial sums: without them the compiler must keep IEEE order and runs
// one dependent add per element; with them it vectorises.
inline float dot(const float* a, const float* b, int64_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t d = 0;
  for (; d + 8 <= n; d += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[d + j] * b[d + j];
  float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; d < n; ++d) s += a[d] * b[d];
  return s;
}

}  // namespace

bool single_query_attention_applies(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, const torch::Tensor& mask) {
  auto f32 = [](const torch::Tensor& t) { return t.scalar_type() == torch::kFloat32 && t.dim() == 4; };
  if (!f32(q) || !f32(k) || !f32(v) || q.size(2) != 1) return false;
  if (k.stride(3) != 1 || v.stride(3) != 1 || k.sizes() != v.sizes()) return false;
  if (q.size(0) != k.size(0) || q.size(1) != k.size(1) || q.size(3) != k.size(3)) return false;
  if (q.requires_grad() || k.requires_grad() || v.requires_grad()) return false;
  if (!mask.defined()) return true;
  return mask.scalar_type() == torch::kFloat32 && mask.dim() == 4 && mask.size(1) == 1 &&
         mask.size(2) == 1 && mask.size(3) == k.size(2) &&
         (mask.size(0) == 1 || mask.size(0) == k.size(0));
}

torch::Tensor attend_single_query(const torch::Tensor& q_in, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& mask) {
  const int64_t B = k.size(0), H = k.size(1), T = k.size(2), hd = k.size(3);
  const auto q = q_in.contiguous();  // [B, H, 1, hd]
  auto out = torch::empty({B, H, hd}, q.options());
  const float* qp = q.data_ptr<float>();
  const float* kp = k.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const float* mp = mask.defined() ? mask.data_ptr<float>() : nullptr;
  const int64_t ks0 = k.stride(0), ks1 = k.stride(1), ks2 = k.stride(2);
  const int64_t vs0 = v.stride(0), vs1 = v.stride(1), vs2 = v.stride(2);
  const int64_t ms0 = mask.defined() && mask.size(0) > 1 ? mask.stride(0) : 0;
  const int64_t ms3 = mask.defined() ? mask.stride(3) : 0;
  at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> p(static_cast<size_t>(T));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t b = i / H, h = i % H;
      const float* qi = qp + i * hd;
      const float* kb = kp + b * ks0 + h * ks1;
      const float* vb = vp + b * vs0 + h * vs1;
      float top = -std::numeric_limits<float>::infinity();
      for (int64_t t = 0; t < T; ++t) {
        float s = dot(qi, kb + t * ks2, hd);
        if (mp) s += mp[b * ms0 + t * ms3];
        p[t] = s;
        top = std::max(top, s);
      }
      float sum = 0.f;
      for (int64_t t = 0; t < T; ++t) {
        p[t] = std::exp(p[t] - top);
        sum += p[t];
      }
      float* o = op + i * hd;
      std::fill(o, o + hd, 0.f);
      const float inv = 1.f / sum;
      for (int64_t t = 0; t < T; ++t) {
        const float w = p[t] * inv;
        const float* vt = vb + t * vs2;
        for (int64_t d = 0; d < hd; ++d) o[d] += w * vt[d];
      }
    }
  });
  return out.view({B, 1, H * hd});
}

}  // namespace tolk::model
