// fuzz_safetensors.cc — libFuzzer target for the safetensors reader (model/safetensors_reader.cc).
//
// The input is a whole .safetensors file. The reader treats files as hostile, so for any input it
// must either return tensors whose every byte lies inside the mapping, or throw tolk::Error.
// Any other exception escapes on purpose (libFuzzer reports it as a crash), and every returned
// tensor is read end to end so that ASan sees an out-of-bounds view.
#include <cstdint>
#include <cstdlib>

#include "fuzz_common.h"
#include "model/safetensors_reader.h"
#include "tolk/status.h"

namespace {

// Sums every byte a tensor claims, so that a view past the mapping faults under ASan/SIGSEGV.
uint8_t touch(const tolk::model::RawTensor& t) {
  const int64_t numel = t.numel();
  if (numel < 0 || !t.strides.empty()) std::abort();  // the reader promises contiguous tensors
  const size_t bytes = static_cast<size_t>(numel) * tolk::model::dtype_size(t.dtype);
  if (bytes > 0 && t.data == nullptr) std::abort();
  const auto* p = static_cast<const volatile uint8_t*>(t.data);
  uint8_t sum = 0;
  for (size_t i = 0; i < bytes; ++i) sum = static_cast<uint8_t>(sum + p[i]);
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tolk_fuzz::MemFile file("fuzz.safetensors");
  file.write(data, size);
  try {
    std::map<std::string, std::string> metadata;
    const tolk::model::RawTensorMap tensors = tolk::model::read_safetensors(file.path(), &metadata);
    volatile uint8_t sink = 0;
    for (const auto& [name, tensor] : tensors) {
      if (name == "__metadata__") std::abort();  // documented as never returned
      sink = static_cast<uint8_t>(sink + touch(tensor));
    }
    (void)sink;
  } catch (const tolk::Error& e) {
    if (e.code() != tolk::StatusCode::kInvalidModel && e.code() != tolk::StatusCode::kFileNotFound)
      std::abort();  // only these two are documented for read_safetensors
  }
  return 0;
}
