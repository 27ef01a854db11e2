// logits_processors.h — HF's logits processors and sampling warpers, in HF's order.
//
// Greedy and sampling apply them to raw logits; beam search to log-probabilities (as HF does).
// Each works on scores [R, V] in place, one row per live sequence.
#pragma once

#include <torch/types.h>

#include <vector>

#include "decoding/generation_params.h"

namespace tolk::decoding {

// Runs, in HF v4.36's order: repetition penalty, no-repeat-ngram, min-new-tokens, forced BOS.
// `sequences[r]` is row r's tokens so far (decoder start included); its length is cur_len.
// `forced_bos[r]` is the target-language id forced at cur_len == 1.
void apply_logits_processors(torch::Tensor& scores,
                             const std::vector<std::vector<int64_t>>& sequences,
                             const std::vector<int64_t>& forced_bos,
                             const GenerationParams& params);

// Temperature, top-k, top-p (HF's warper order); min_tokens_to_keep = 1.
void apply_sampling_warpers(torch::Tensor& scores, const GenerationParams& params);

}  // namespace tolk::decoding
