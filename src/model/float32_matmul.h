// float32_matmul.h — y = x·Wᵀ + b in float32 through one oneDNN matmul primitive per layer shape.
//
// LibTorch's mkldnn_linear (the path before) converts the input to a oneDNN tensor, reorders
// the weights and converts the output back on every call. Here a primitive with the row count
// left to run time is made once per (in, out, weight layout) and shared by every layer of that
// shape; the weights are used where they lie. With the weights stored as [in, out] (float32's
// inference layout below) oneDNN runs its plain jit gemm on them; measured on the 60M model's
// decoder products at 64 rows, 2 threads (distinct matrices, as in a step): mkldnn_linear
// 83.6 GFLOP/s, this with [out, in] weights 95.5, with [in, out] weights 134.3.
#pragma once

#include <torch/types.h>

namespace tolk::model {

// The layout float32 inference keeps linear weights in: [in, out] contiguous storage, returned
// as its [out, in] view (same values and sizes; every LibTorch operation still reads it as W).
torch::Tensor float32_inference_layout(const torch::Tensor& weight);

// Whether float32_matmul takes this weight: float32 [out, in], either contiguous or the view
// float32_inference_layout returns; no autograd.
bool float32_matmul_applies(const torch::Tensor& weight);

// x [rows, in] float32 → [rows, out] float32, bias [out] or undefined. Safe to call from several
// threads at once (each call brings its own scratchpad).
torch::Tensor float32_matmul(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias);

}  // namespace tolk::model
