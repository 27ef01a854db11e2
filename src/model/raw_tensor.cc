// raw_tensor.cc — dtype helpers and RawTensor::numel.
#include "model/raw_tensor.h"

namespace tolk::model {

size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
    case DType::kI16:
      return 2;
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
      return 1;
  }
  return 0;  // not reached for valid enum values
}

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kBool: return "BOOL";
  }
  return "UNKNOWN";
}

// The readers have already checked that the product fits in int64 (they bound every tensor
// by its buffer), so a plain product is enough here. A scalar (empty shape) has one element.
int64_t RawTensor::numel() const noexcept {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace tolk::model
