// raw_tensor.h — a tensor as a weight file describes it, before LibTorch sees it.
//
// The weight readers (safetensors, pytorch_model.bin) produce RawTensors and know nothing of
// LibTorch; model/weights.cc turns them into torch tensors and checks them against the config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tolk::model {

enum class DType { kF32, kF16, kBF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool };

// Bytes per element of a dtype.
size_t dtype_size(DType dtype) noexcept;
// Name as safetensors spells it ("F32", "BF16", …).
const char* dtype_name(DType dtype) noexcept;

struct RawTensor {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  // Element strides; empty means contiguous row-major.
  std::vector<int64_t> strides;
  // First element. Valid while `owner` lives. The readers guarantee that every element addressed
  // by shape/strides lies inside the buffer they checked.
  const void* data = nullptr;
  // Keeps the backing memory (an mmap, or a buffer read from a zip) alive.
  std::shared_ptr<const void> owner;

  int64_t numel() const noexcept;
};

// Tensors of one weight file by name. Aliases (tied weights) may share memory.
using RawTensorMap = std::map<std::string, RawTensor>;

}  // namespace tolk::model
