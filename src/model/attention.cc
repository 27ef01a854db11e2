// attention.cc — see attention.h.
#include "model/attention.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <type_traits>

#include "model/decoder_state.h"
#include "model/query_attention.h"

namespace tolk::model {
namespace {
// attend_queries / attend_query_blocks (query_attention.h) take operands whose last dimension
// is contiguous: q and the mask float32, k and v both float32 or both float16 (the slot cache of
// reduced-precision compute types), q and k/v over the same rows and heads, and a mask (if any)
// of [B|1, H|1, Tq|1, keys]. Autograd (the trainer) keeps LibTorch's differentiable operations.
bool kernel_applies(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                    const torch::Tensor& mask) {
  const auto f = torch::kFloat32;
  if (q.scalar_type() != f || (k.scalar_type() != f && k.scalar_type() != torch::kHalf) ||
      v.scalar_type() != k.scalar_type())
    return false;
  if (q.requires_grad() || k.requires_grad() || v.requires_grad()) return false;
  if (mask.defined() && (mask.scalar_type() != f || mask.dim() != 4 ||
                         (mask.size(2) != 1 && mask.size(2) != q.size(2)) ||
                         mask.size(3) != k.size(2) || mask.stride(3) != 1 || mask.requires_grad() ||
                         (mask.size(0) != 1 && mask.size(0) != k.size(0)) ||
                         (mask.size(1) != 1 && mask.size(1) != k.size(1))))
    return false;
  return q.size(0) == k.size(0) && q.size(1) == k.size(1) && v.sizes() == k.sizes() &&
         q.size(3) == k.size(3) && q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1;
}

// out [B, Tq, H·hd] for q [B, H, Tq, hd] over k/v [B, H, Tk, hd] (kernel_applies holds); with
// row_keys (Tq = 1 only), row b reads its first row_keys[b] keys.
torch::Tensor query_kernel(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                           const torch::Tensor& mask, const int64_t* row_keys) {
  const int64_t B = k.size(0), H = k.size(1), Tk = k.size(2), hd = k.size(3), Tq = q.size(2);
  auto out = torch::empty({B, Tq, H * hd}, q.options());
  auto operand = [](const auto* base, const torch::Tensor& t) {
    return Operand<std::remove_const_t<std::remove_pointer_t<decltype(base)>>>{
        base, t.stride(0), t.stride(1), t.stride(2)};
  };
  QueryOperand m;
  if (mask.defined()) {
    m.base = mask.data_ptr<float>();
    m.batch_stride = mask.size(0) > 1 ? mask.stride(0) : 0;
    m.head_stride = mask.size(1) > 1 ? mask.stride(1) : 0;
    m.step = mask.size(2) > 1 ? mask.stride(2) : 0;
  }
  const auto qo = operand(q.data_ptr<float>(), q);
  float* o = out.data_ptr<float>();
  if (k.scalar_type() == torch::kHalf) {
    const auto ko = operand(k.data_ptr<c10::Half>(), k), vo = operand(v.data_ptr<c10::Half>(), v);
    if (Tq == 1) attend_queries(qo, ko, vo, m, B, H, Tk, hd, o, row_keys);
    else attend_query_blocks(qo, ko, vo, m, B, H, Tq, Tk, hd, o);
  } else {
    const auto ko = operand(k.data_ptr<float>(), k), vo = operand(v.data_ptr<float>(), v);
    if (Tq == 1) attend_queries(qo, ko, vo, m, B, H, Tk, hd, o, row_keys);
    else attend_query_blocks(qo, ko, vo, m, B, H, Tq, Tk, hd, o);
  }
  return out;
}

// Every query over every key: [B, H, Tq, hd].
torch::Tensor attend_all(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& mask) {
  auto scores = torch::matmul(q, k.transpose(-1, -2));
  if (mask.defined()) scores = scores + mask;
  return torch::matmul(torch::softmax(scores, -1), v);
}

// The LibTorch formulation, for what the kernel does not take (k broadcast over q, autograd).
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
  if (kernel_applies(q, k, v, mask)) return query_kernel(q, k, v, mask, nullptr);
  if (q.size(2) == 1) {
    // One query per (row, head), where the kernel does not apply.
    auto out = single_query(q, k, v, mask);
    return out.reshape({out.size(0), 1, -1});
  }
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2);
  torch::Tensor out;  // [B, H, Tq, hd]
  if (c10::InferenceMode::is_enabled() && at::get_num_threads() > 1 && !at::in_parallel_region() &&
      B * H > 1 && k.size(0) == B && k.size(1) == H && v.size(0) == B && v.size(1) == H) {
    // Operands the kernel does not take (kernel_applies; the encoder's and the full decoder's
    // attention take the kernel above). LibTorch's batched products run their batch on the
    // calling thread (its BLAS is kept to one thread in an engine: util/blas_threads.h), so the
    // rows (or, for one sentence, the heads) are split over the intra-op threads here.
    out = torch::empty({B, H, Tq, v.size(3)}, q.options());
    const int64_t dim = B > 1 ? 0 : 1;
    at::parallel_for(0, dim == 0 ? B : H, 1, [&](int64_t first, int64_t last) {
      c10::InferenceMode guard;  // thread-local, and parallel_for does not carry it
      auto part = [&](const torch::Tensor& t) {
        return t.size(dim) == 1 ? t : t.narrow(dim, first, last - first);
      };
      out.narrow(dim, first, last - first).copy_(attend_all(part(q), part(k), part(v),
                                                            mask.defined() ? part(mask) : mask));
    });
  } else {
    out = attend_all(q, k, v, mask);
  }
  return out.transpose(1, 2).reshape({B, Tq, -1});
}

torch::Tensor attend_rows(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const torch::Tensor& mask, const std::vector<int64_t>& row_keys) {
  if (q.size(2) == 1 && static_cast<int64_t>(row_keys.size()) == k.size(0) &&
      kernel_applies(q, k, v, mask))
    return query_kernel(q, k, v, mask, row_keys.data());
  // Row by row, each over its own keys only: callers may leave later keys unwritten (the slot
  // cache is not zeroed), and a masked key's garbage times a zero weight could still be NaN.
  if (static_cast<int64_t>(row_keys.size()) != k.size(0)) return attend(q, k, v, mask);
  std::vector<torch::Tensor> rows;
  for (int64_t b = 0; b < k.size(0); ++b) {
    const int64_t n = std::clamp<int64_t>(row_keys[static_cast<size_t>(b)], 1, k.size(2));
    auto m = mask.defined() ? mask.narrow(0, mask.size(0) > 1 ? b : 0, 1).narrow(3, 0, n) : mask;
    rows.push_back(attend(q.narrow(0, b, 1), k.narrow(0, b, 1).narrow(2, 0, n),
                          v.narrow(0, b, 1).narrow(2, 0, n), m));
  }
  return torch::cat(rows, 0);
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
