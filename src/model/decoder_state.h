// decoder_state.h — the mutable per-batch decoding state: KV caches and the source mask.
//
// Owned by exactly one decoding loop; never shared between threads. Self-attention caches are
// preallocated to the maximum length, so a step writes one column in place instead of
// concatenating (no whole-cache copy per step).
#pragma once

#include <torch/types.h>

#include <vector>

namespace tolk::model {

struct LayerCache {
  torch::Tensor self_k, self_v;    // [B, H, capacity, hd]
  torch::Tensor cross_k, cross_v;  // [B, H, S, hd], computed once from the encoder output
};

class DecoderState {
 public:
  std::vector<LayerCache> layers;
  torch::Tensor source_mask;       // additive [B, 1, 1, S]: 0 keep, finfo(float).min masked
  int64_t length = 0;              // decoder tokens already cached (the start token included)
  int64_t capacity = 0;

  int64_t batch_size() const { return source_mask.defined() ? source_mask.size(0) : 0; }

  // Keeps rows `index` (int64 [B']) in that order: reorders beams, drops finished rows.
  void select_rows(const torch::Tensor& index);
};

// The additive attention mask value HF uses: torch.finfo(float32).min, never -inf.
float mask_min_value();

}  // namespace tolk::model
