// attention.h — the building blocks of M2M100 attention and normalisation.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "model/weights.h"

namespace tolk::model {

// [B, T, D] → [B, H, T, D/H]: head h owns features [h·hd, (h+1)·hd).
torch::Tensor split_heads(const torch::Tensor& x, int64_t heads);

// softmax(q·kᵀ + mask)·v with q [B,H,Tq,hd], k/v [B,H,Tk,hd]; returns heads merged, [B, Tq, D].
// `mask` is additive and broadcastable to [B, H, Tq, Tk], or undefined for none.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     const torch::Tensor& mask);
// The same for one query per row (Tq = 1) where row b's keys from row_keys[b] on are masked
// for it: those need not be read (query_attention.h). A decoder step passes each row's own
// cache length and source length, so short rows in a batch with long ones stay cheap.
// Keys from row_keys[b] on are never read (not even multiplied by a zero weight), so they may
// hold anything: the slot cache is allocated unzeroed.
torch::Tensor attend_rows(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                          const torch::Tensor& mask, const std::vector<int64_t>& row_keys);

// attention_mask [B, S] (1 keep, 0 pad) → additive [B, 1, 1, S]: 0 or finfo(float32).min.
// Only key columns are masked; padded query rows are still computed, as in HF.
torch::Tensor additive_key_mask(const torch::Tensor& attention_mask);

// Causal additive mask [B, 1, T, T] (min strictly above the diagonal); with a decoder attention
// mask [B, T], padded key columns are set to min on top of it (masked_fill, never min + min).
torch::Tensor causal_mask(int64_t batch, int64_t length, const torch::Tensor& key_mask);

torch::Tensor layer_norm(const torch::Tensor& x, const LayerNorm& norm);

}  // namespace tolk::model
