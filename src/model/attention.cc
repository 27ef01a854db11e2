// attention.cc — see attention.h.
#include "model/attention.h"

#include <torch/torch.h>

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

torch::Tensor single_query(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& mask) {
  auto scores = (q * k).sum(-1);                                  // [B, H, Tk]
  if (mask.defined()) scores = scores + mask.squeeze(2);          // [B|1, 1|H, Tk]
  auto probs = torch::softmax(scores, -1);
  return (probs.unsqueeze(-1) * v).sum(-2);                       // [B, H, hd]
}
}  // namespace

torch::Tensor split_heads(const torch::Tensor& x, int64_t heads) {
  const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  return x.view({B, T, heads, D / heads}).transpose(1, 2);
}

torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& mask) {
  if (q.size(2) == 1) {
    // One query per (row, head): every incremental decoder step.
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
