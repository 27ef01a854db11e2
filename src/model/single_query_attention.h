// single_query_attention.h — softmax(q·kᵀ + mask)·v for one query per (row, head): the
// attention of every incremental decoder step, in one pass over the cached keys and values.
#pragma once

#include <torch/types.h>

namespace tolk::model {

// q [B, H, 1, hd]; k, v [B, H, Tk, hd] float32 with the last dimension contiguous (views into a
// cache are fine); mask additive, broadcastable as [B, 1, 1, Tk] (or [1, 1, 1, Tk]), or
// undefined. Returns [B, 1, H·hd]. Each (row, head) reads its keys and values once; the generic
// tensor formulations either hand B·H tiny products to BLAS one at a time or materialise a
// [B, H, Tk, hd] temporary (measured: 2–9× slower than BLAS-free code for the former).
torch::Tensor attend_single_query(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& mask);

// Whether attend_single_query accepts these operands (float32, one query, contiguous rows).
bool single_query_attention_applies(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, const torch::Tensor& mask);

}  // namespace tolk::model
