// attention.cc — see attention.h.
#include "model/attention.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/decoder_state.h"

namespace tolk::model {
namespace {
// Single-query attention by multiply-and-sum materialises [rows, heads, keys, head_dim]
// temporaries; it runs over at most this many elements of K at a time (2 MB of float32, in
// cache), one block of rows after another. Measured on 2 cores for 64 rows × 8 heads × 64
// dims (ms per call, multiply-and-sum in one piece / batched matrix products / in blocks):
// 16 keys 0.34 / 1.50 / 0.32, 64 keys 1.50 / 1.93 / 1.06, 256 keys 8.2 / 7.0–9.3 / 4.0–5.9,
// 400 keys 13–15 / 10–11 / 9.3–11. Batched products of [1, hd]·[hd, keys] go to BLAS one
// (row, head) at a time, with a tensor view made for each. A hand-written loop lost to both.
constexpr int64_t kBlockElements = int64_t{1} << 19;

// Up to this many elements of K, single-query attention runs as one plain loop: a one-sentence
// decoder step is dominated by the dispatch of its ~700 small LibTorch operations, and the
// multiply-and-sum path below is 9 of them per call, two calls per layer.
constexpr int64_t kLoopElements = int64_t{1} << 16;

bool loop_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                  const torch::Tensor& mask) {
  const auto f = torch::kFloat32;
  if (q.scalar_type() != f || k.scalar_type() != f || v.scalar_type() != f) return false;
  if (mask.defined() && (mask.scalar_type() != f || mask.dim() != 4 || mask.stride(3) != 1)) return false;
  if (q.requires_grad() || k.requires_grad() || v.requires_grad()) return false;
  return q.size(0) == k.size(0) && q.size(1) == k.size(1) && q.stride(3) == 1 &&
         k.stride(3) == 1 && v.stride(3) == 1 && k.numel() <= kLoopElements;
}

// softmax(q·kᵀ + mask)·v for q [B, H, 1, hd] over k/v [B, H, Tk, hd] (any strides but the last),
// mask [B|1, H|1, 1, Tk]: the same arithmetic as the LibTorch path, in float32.
torch::Tensor single_query_loop(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& mask) {
  const int64_t B = k.size(0), H = k.size(1), Tk = k.size(2), hd = k.size(3);
  auto out = torch::empty({B, 1, H * hd}, q.options());
  float* o = out.data_ptr<float>();
  const float* qp = q.data_ptr<float>();
  const float* kp = k.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  const float* mp = mask.defined() ? mask.data_ptr<float>() : nullptr;
  const int64_t mb = mp && mask.size(0) > 1 ? mask.stride(0) : 0;
  const int64_t mh = mp && mask.size(1) > 1 ? mask.stride(1) : 0;
  std::vector<float> p;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      attend_one_query(qp + b * q.stride(0) + h * q.stride(1), kp + b * k.stride(0) + h * k.stride(1),
                       k.stride(2), vp + b * v.stride(0) + h * v.stride(1), v.stride(2), Tk, hd,
                       mp ? mp + b * mb + h * mh : nullptr, o + (b * H + h) * hd, p);
  return out;
}

torch::Tensor single_query(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& mask) {
  auto scores = (q * k).sum(-1);                                  // [B, H, Tk]
  if (mask.defined()) scores = scores + mask.squeeze(2);          // [B|1, 1|H, Tk]
  auto probs = torch::softmax(scores, -1);
  return (probs.unsqueeze(-1) * v).sum(-2);                       // [B, H, hd]
}
}  // namespace

void attend_one_query(const float* q, const float* k, int64_t k_step, const float* v, int64_t v_step,
                      int64_t keys, int64_t hd, const float* mask, float* out, std::vector<float>& p) {
  p.resize(static_cast<size_t>(keys));
  float top = -std::numeric_limits<float>::infinity();
  for (int64_t t = 0; t < keys; ++t) {
    const float* kt = k + t * k_step;
    float s = 0.0f;
    for (int64_t d = 0; d < hd; ++d) s += q[d] * kt[d];
    if (mask) s += mask[t];
    p[static_cast<size_t>(t)] = s;
    top = std::max(top, s);
  }
  float sum = 0.0f;
  for (auto& x : p) sum += (x = std::exp(x - top));
  std::fill(out, out + hd, 0.0f);
  for (int64_t t = 0; t < keys; ++t) {
    const float w = p[static_cast<size_t>(t)] / sum;
    const float* vt = v + t * v_step;
    for (int64_t d = 0; d < hd; ++d) out[d] += w * vt[d];
  }
}

torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  return x.view({B, T, heads, D / heads}).transpose(1, 2);
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& mask) {
  if (q.size(2) == 1) {
    // One query per (row, head): every incremental decoder step.
    if (loop_applies(q, k, v, mask)) return single_query_loop(q, k, v, mask);
    const int64_t B = k.size(0), H = k.size(1), Tk = k.size(2), hd = k.size(3);
    const bool same_batch = q.size(0) == B && q.size(1) == H;  // else k is broadcast over q
    const int64_t block = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(1, H * Tk * hd));
    if (!same_batch || block >= B) {
      auto out = single_query(q, k, v, mask);
      return out.reshape({out.size(0), 1, -1});
    }
    auto out = torch::empty({B, H, hd}, q.options());
    const bool mask_per_row = mask.defined() && mask.size(0) == B;
    for (int64_t b = 0; b < B; b += block) {
      const int64_t n = std::min(block, B - b);
      const auto m = mask_per_row ? mask.narrow(0, b, n) : mask;
      out.narrow(0, b, n).copy_(single_query(q.narrow(0, b, n), k.narrow(0, b, n), v.narrow(0, b, n), m));
    }
    return out.view({B, 1, H * hd});
  }
  auto scores = torch::matmul(q, k.transpose(-1, -2));
  if (mask.defined()) scores = scores + mask;
  auto probs = torch::softmax(scores, -1);
  auto out = torch::matmul(probs, v);  // [B, H, Tq, hd]
  const int64_t B = out.size(0), Tq = out.size(2);
  return out.transpose(1, 2).reshape({B, Tq, -1});
}

torch::Tensor additive_key_mask(const torch::Tensor& attention_mask) {
  auto keep = attention_mask.to(torch::kBool).view({attention_mask.size(0), 1, 1, -1});
  return torch::zeros(keep.sizes(), torch::kFloat32).masked_fill(keep.logical_not(),
                                                                  mask_min_value());
}

torch::Tensor causal_mask(int64_t batch, int64_t length, const torch::Tensor& key_mask) {
  auto future = torch::ones({length, length}, torch::kBool).triu(1);
  auto mask = torch::zeros({batch, 1, length, length}, torch::kFloat32);
  if (key_mask.defined())
    mask = mask.masked_fill(key_mask.to(torch::kBool).logical_not().view({batch, 1, 1, length}),
                            mask_min_value());
  return mask.masked_fill(future, mask_min_value());
}

torch::Tensor layer_norm(const torch::Tensor& x, const LayerNorm& norm) {
  return torch::layer_norm(x, {x.size(-1)}, norm.weight, norm.bias, 1e-5);
}

}  // namespace tolk::model
