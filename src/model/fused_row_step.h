// fused_row_step.h — one decoder layer for one row, on plain buffers, with bfloat16 weights.
//
// Why: a decoder step of a lone sentence (latency) is bound by dispatching its small LibTorch
// operations, not by arithmetic: with bfloat16 weights a layer's products take ~60 µs on the
// demo model, while the ~50 LibTorch operations around them (layer norms, views, chunks,
// scaling, residual adds, the cache writes) took longer. For one row each of them is a short
// loop, so the whole layer runs here as plain loops plus the bf16_gemv kernel: the same
// arithmetic in float32 as the LibTorch path (layer norm statistics are summed in double).
// Transformer::decode_step_slots takes this path only where fused_row_step_applies().
#pragma once

#include <cstdint>
#include <vector>

#include "model/model_config.h"
#include "model/slot_cache.h"
#include "model/weights.h"

namespace tolk::model {

// Whether every decoder layer has bfloat16 weights with float32 biases the kernel takes, the
// CPU has AVX512-BF16, the activation is relu, and the cache is contiguous, its K/V all float32
// or all float16 (slot_cache_dtype).
bool fused_row_step_applies(const ModelConfig& config, const ModelWeights& weights,
                            const SlotCache& cache);

// For tests and benchmarks: turns the fused path off (and on again) process-wide.
void set_fused_row_step_enabled(bool enabled);
bool fused_row_step_enabled();

// Working buffers of one step, reused across its layers.
struct FusedRowScratch {
  std::vector<float> h, qkv, attn, proj, ffn;
};

// Decoder layer `layer` on slot row 0: x (float32 [d_model], the residual stream) is updated in
// place; the row's self-attention K/V for position `past` are written to the cache, and
// attention covers positions 0..past and the first `source_length` source tokens (with the
// row's additive cross mask).
void fused_row_layer(const ModelConfig& config, const DecoderLayerWeights& l, SlotLayer& cache,
                     const float* cross_mask_row, int64_t past, int64_t source_length, float* x,
                     FusedRowScratch& scratch);

}  // namespace tolk::model
