// bf16_gemv.h — one float32 row times bfloat16 weights, with the CPU's AVX512-BF16
// dot-product instruction.
//
// Why not torch::linear: a decoder step of a lone sentence multiplies one row by every weight
// matrix, which is bound by reading the weights (2 bytes each). LibTorch 1.13 sends a bfloat16
// product to oneDNN, which costs ~70–100 µs per call whatever the size (measured, 1 row ×
// 1536×512: 108 µs, i.e. 15 GB/s for weights that sit in cache); a decoder step makes 37 such
// calls. This kernel streams each weight row once and keeps the input rows in registers.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace tolk::model {

// Rows up to which bf16_gemv is used. Measured on 2 cores, 2026-11-27 (µs, oneDNN with the
// float32 ↔ bfloat16 conversions / this kernel, 4 rows at a time): 2 rows × 768×256 38 / 14,
// 1536×512 67 / 36, 512×2048 105 / 45; 4 rows 39 / 22, 69 / 61, 144 / 88; 8 rows 39 / 44,
// 74 / 123, 144 / 162: up to 4 rows (a beam of 4 of one sentence) the kernel wins, beyond
// that the dot-product instruction's throughput, not memory, bounds it and oneDNN's AMX
// tiles win. (An earlier measurement, before the conversions were counted, put the crossing
// at 2 rows.)
constexpr int64_t kBf16GemvMaxRows = 4;

// Whether this CPU has AVX512-BF16 (and the build has the kernel).
bool bf16_gemv_available() noexcept;

// Whether bf16_gemv takes these operands: x float32 [rows, in] with rows ≤ kBf16GemvMaxRows,
// w bfloat16 [out, in], both contiguous, in a multiple of 32, and the CPU able; bias, if
// given, float32 [out] and contiguous.
bool bf16_gemv_applies(const torch::Tensor& x, const torch::Tensor& w,
                       const torch::Tensor& bias = {}) noexcept;

// y = x·wᵀ (+ bias) as float32 [rows, out]. x is rounded to bfloat16 (to nearest even, as
// x.to(torch::kBFloat16) does) and products are summed in float32, as oneDNN does; only the
// order of the additions differs. The bias is added to each float32 sum, as a separate
// float32 add_ would (one LibTorch operation less per layer: a one-sentence step is bound by
// the dispatch of its small operations). Callers check bf16_gemv_applies first.
torch::Tensor bf16_gemv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias = {});

// One row on raw storage: y[out] = x[in]·wᵀ (+ bias[out] when bias is not null), w row-major
// bfloat16 [out, in]. The same arithmetic as bf16_gemv; for the fused one-row decoder step
// (fused_row_step.h), which works on plain buffers. Requires bf16_gemv_available() and in % 32
// == 0.
void bf16_gemv_row(const float* x, const at::BFloat16* w, const float* bias, float* y, int64_t in,
                   int64_t out);

}  // namespace tolk::model
