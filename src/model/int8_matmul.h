// int8_matmul.h — y = x·Wᵀ + b with int8 weights, one oneDNN primitive per layer for any number
// of rows.
//
// Why not LibTorch's dynamic-quantized linear (quantized::linear_dynamic, oneDNN engine): in
// LibTorch 1.13 it keeps one reusable primitive per layer, made for the input shape of the
// layer's first call. Every call with another row count takes a path whose primitive carries
// that call's input scale as a constant, so oneDNN compiles a new kernel on every such call.
// Measured here (2048×512 layer, 64 rows, inputs that differ per call): ~5× the time of a call
// of the first call's shape. A decoder sees many row counts (sentences join and leave, beams
// end, the output projection runs on live rows only), so most calls paid it.
//
// Here the primitive is created once, at load, with the row count left to run time and the
// weight scales as constants; each call quantizes its input per row (symmetric int8, the row's
// largest magnitude → 127), runs the product in int32 with the weight scales applied, and
// multiplies each output row by its input scale while adding the bias.
#pragma once

#include <torch/types.h>

#include <memory>
#include <vector>

namespace tolk::model {

class Int8Matmul {
 public:
  // weight [out, in] float32, bias [out] float32 or undefined. Quantizes the weights per output
  // channel (symmetric: the row's largest magnitude → 127; an all-zero row gets scale 1) and
  // packs them in the layout the primitive wants. Throws std::runtime_error where oneDNN has no
  // int8 product for this CPU.
  Int8Matmul(const torch::Tensor& weight, const torch::Tensor& bias);
  ~Int8Matmul();
  Int8Matmul(const Int8Matmul&) = delete;
  Int8Matmul& operator=(const Int8Matmul&) = delete;

  // x [rows, in] float32 → [rows, out] float32; with `relu`, max(0, ·) of it, applied in the
  // pass that scales the rows (no pass of its own). Safe to call from several threads at once.
  torch::Tensor apply(const torch::Tensor& x, bool relu = false) const;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  int64_t bytes() const;  // packed int8 weights + scales + bias

 private:
  struct Primitive;  // the oneDNN objects (int8_matmul.cc), kept out of this header
  int64_t in_ = 0, out_ = 0;
  torch::Tensor bias_;  // [out] float32, or undefined
  std::unique_ptr<Primitive> prim_;
};

}  // namespace tolk::model
