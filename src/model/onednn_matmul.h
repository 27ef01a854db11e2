// onednn_matmul.h — y = x·Wᵀ + b for float32 inputs through one oneDNN matmul primitive per
// layer shape, with float32 or bfloat16 weights and a float32 result.
//
// LibTorch's paths did extra passes on every call. float32: mkldnn_linear converts the input
// to a oneDNN tensor, reorders the weights and converts the output back. bfloat16:
// torch::linear on bf16 operands returns bf16, so every layer's output was rounded to 8
// significant bits, then converted back to float32 and the bias added in another pass. Here a
// primitive with the row count left to run time is made once per (weight type, in, out,
// layout, bias) and shared by every layer of that shape; the weights are used where they lie,
// the bias is added and the float32 result written by the product itself (bf16 inputs are
// rounded from the float32 x in one conversion). Measured on the 60M model's decoder products
// at 64 rows, 2 threads (distinct matrices, as in a step), float32: mkldnn_linear 83.6 GFLOP/s,
// this with [out, in] weights 95.5, with [in, out] weights 134.3 (a Xeon with AVX-512).
#pragma once

#include <torch/types.h>

namespace tolk::model {

// The layout float32 inference keeps linear weights in: [in, out] contiguous storage, returned
// as its [out, in] view (same values and sizes; every LibTorch operation still reads it as W).
// bfloat16 weights stay [out, in] contiguous, the layout the one-row kernels read (bf16_gemv.h).
torch::Tensor float32_inference_layout(const torch::Tensor& weight);

// Whether onednn_matmul takes this weight: float32 or bfloat16 [out, in], either contiguous or
// the view float32_inference_layout returns; no autograd.
bool onednn_matmul_applies(const torch::Tensor& weight);

// x [rows, in] float32 → [rows, out] float32, bias [out] float32 or undefined. With bfloat16
// weights x is rounded to bfloat16 first; products accumulate in float32 and are not rounded
// again. Safe to call from several threads at once (each call brings its own scratchpad).
// Returns an undefined tensor where oneDNN has no implementation for the weight type on this
// CPU (bf16 without AVX-512), for the caller's LibTorch path.
torch::Tensor onednn_matmul(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias);

// The same product written into y, a [rows, out] float32 view whose rows may lie further apart
// than `out` (a column slice of a wider matrix: the sliced output projection writes each slice
// where it belongs instead of copying it there). Returns false, leaving y untouched, where
// onednn_matmul would return an undefined tensor.
bool onednn_matmul_into(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& bias, torch::Tensor& y);

}  // namespace tolk::model
