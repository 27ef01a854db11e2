// logits_processors.cc — see logits_processors.h.
#include "decoding/logits_processors.h"

#include <torch/torch.h>

#include <limits>
#include <map>
#include <set>

namespace tolk::decoding {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// HF RepetitionPenaltyLogitsProcessor: every token already in the sequence (the decoder start
// token included) is made less likely: negative scores × penalty, positive ÷ penalty.
void repetition_penalty(float* row, const std::vector<int64_t>& seq, double penalty) {
  std::set<int64_t> seen(seq.begin(), seq.end());
  for (int64_t id : seen) {
    const float s = row[id];
    row[id] = s < 0 ? static_cast<float>(s * penalty) : static_cast<float>(s / penalty);
  }
}

// HF NoRepeatNGramLogitsProcessor: ban every token that would complete an n-gram already seen.
void no_repeat_ngram(float* row, const std::vector<int64_t>& seq, int64_t n) {
  const int64_t len = static_cast<int64_t>(seq.size());
  if (len + 1 < n) return;
  const int64_t start = len - n + 1;  // the last n-1 tokens are the prefix to match
  for (int64_t i = 0; i + n <= len; ++i) {
    bool match = true;
    for (int64_t j = 0; j < n - 1 && match; ++j) match = seq[i + j] == seq[start + j];
    if (match) row[seq[i + n - 1]] = kNegInf;
  }
}

}  // namespace

void apply_logits_processors(torch::Tensor& scores,
                             const std::vector<std::vector<int64_t>>& sequences,
                             const std::vector<int64_t>& forced_bos,
                             const GenerationParams& p) {
  const int64_t rows = scores.size(0), vocab = scores.size(1);
  const bool penalise = p.repetition_penalty != 1.0;
  const bool ngram = p.no_repeat_ngram_size > 0;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = scores.data_ptr<float>() + r * vocab;
    const auto& seq = sequences[r];
    const int64_t cur_len = static_cast<int64_t>(seq.size());
    if (penalise) repetition_penalty(row, seq, p.repetition_penalty);
    if (ngram) no_repeat_ngram(row, seq, p.no_repeat_ngram_size);
    // Tokens generated so far, not counting the decoder start token.
    if (cur_len - 1 < p.min_new_tokens && p.eos_token_id < vocab) row[p.eos_token_id] = kNegInf;
    if (cur_len == 1) {  // ForcedBOSTokenLogitsProcessor: only the language code, at score 0
      for (int64_t v = 0; v < vocab; ++v) row[v] = kNegInf;
      row[forced_bos[r]] = 0.0f;
    }
  }
}

void apply_sampling_warpers(torch::Tensor& scores, const GenerationParams& p) {
  if (p.temperature != 1.0) scores.div_(p.temperature);
  const int64_t vocab = scores.size(1);
  if (p.top_k > 0 && p.top_k < vocab) {
    auto kth = std::get<0>(scores.topk(p.top_k, -1)).narrow(1, p.top_k - 1, 1);
    scores.masked_fill_(scores < kth, kNegInf);
  }
  if (p.top_p < 1.0) {
    auto [sorted, order] = scores.sort(-1, /*descending=*/false);
    auto cumulative = sorted.softmax(-1).cumsum(-1);
    auto remove_sorted = cumulative <= (1.0 - p.top_p);
    remove_sorted.narrow(1, vocab - 1, 1).fill_(false);  // always keep the most likely token
    auto remove = remove_sorted.scatter(1, order, remove_sorted);
    scores.masked_fill_(remove, kNegInf);
  }
}

}  // namespace tolk::decoding
