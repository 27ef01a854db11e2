// linear.h — y = x·Wᵀ + b in whatever format the layer's weights were converted to.
//
// The Transformer calls these instead of torch::linear so one forward pass serves every
// compute type (compute_type.h): float32 weights run as they are (and under autograd, for the
// trainer); bf16 weights take a bf16 copy of the input and return float32; int8 layers quantize
// the float32 input per row and return float32 (int8_matmul.h).
#pragma once

#include <torch/types.h>

#include <memory>

#include "model/int8_matmul.h"
#include "model/weights.h"

namespace tolk::model {

// A linear layer with int8 weights (int8_matmul.h: one oneDNN primitive for every row count).
struct QuantizedLinear {
  std::shared_ptr<const Int8Matmul> product;
  int64_t in_features = 0;
  int64_t out_features = 0;
  int64_t bytes = 0;       // int8 weights + per-channel scales + float32 bias
};

// Quantizes a float32 layer: symmetric per-output-channel int8 weights, float32 bias.
std::shared_ptr<const QuantizedLinear> quantize_linear(const Linear& layer);

// x [..., in] → [..., out], float32 (x is float32).
torch::Tensor linear(const torch::Tensor& x, const Linear& layer);
// relu(linear(x, layer)): a feed-forward layer's first product. int8 layers apply the relu in
// the pass that scales their output rows; the others in place on the fresh product (out of
// place under autograd). Either way no second [rows, out] tensor is allocated and written.
torch::Tensor linear_relu(const torch::Tensor& x, const Linear& layer);
// x [..., in] · weightᵀ (no bias), float32; weight may be float32 or bf16.
torch::Tensor project(const torch::Tensor& x, const torch::Tensor& weight);
// project(x [rows, in], weight) written into out, a [rows, out] float32 view with unit column
// stride (a column slice of a wider matrix). Products that go through oneDNN are written there
// directly; the others (few rows, or a BLAS timed faster) are computed and copied.
void project_into(const torch::Tensor& x, const torch::Tensor& weight, torch::Tensor& out);

}  // namespace tolk::model
