// compute_type.h — the number format the model's matrix products run in, chosen at load.
//
// The file on disk is never changed: weights are read as float32 and converted once when the
// model loads (weight_conversion.h). Activations, layer norms, softmax and the caches stay
// float32 in every type; only the linear layers' products change format.
//   float32   token-identical to the reference (NOTES.md tolerances)
//   bfloat16  weights stored bf16, products through oneDNN (AVX512-BF16 / AMX): about half the
//             bytes per step and several times the float32 GEMM rate on CPUs that have it
//   int8      dynamic quantization of the encoder/decoder linear layers (per-channel int8
//             weights, activations quantized per row on each call) on oneDNN (int8_matmul.h);
//             the embeddings stay float32, the output projection ranks in int8 and re-scores
//             each row's best candidates in float32
//   auto      bfloat16 where the CPU has native bf16, else float32 (int8 is never chosen
//             automatically: its answers differ from float32 more often)
#pragma once

#include <string>

namespace tolk::model {

enum class ComputeType { kFloat32, kBFloat16, kInt8 };

const char* compute_type_name(ComputeType type) noexcept;

struct ComputeChoice {
  ComputeType type = ComputeType::kFloat32;
  std::string reason;  // why this type (auto's choice, or a fallback); empty when as requested
};

// "float32" | "bfloat16" | "int8" | "auto" → the type this machine will run. A type the CPU or
// this LibTorch cannot run falls back to float32 with the reason set (the caller logs it).
// Throws Error(kInvalidArgument) for any other name.
ComputeChoice resolve_compute_type(const std::string& requested);

// The CPU executes bf16 dot products natively (AVX512_BF16 or AMX-BF16), per CPUID.
bool cpu_has_native_bf16() noexcept;
// oneDNN builds its int8 product on this CPU (int8_matmul.h).
bool int8_engine_available() noexcept;

}  // namespace tolk::model
