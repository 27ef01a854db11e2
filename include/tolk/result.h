// tolk/result.h — what a translation returns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tolk/status.h"

namespace tolk {

struct Hypothesis {
  std::string text;
  // The generated sequence as Hugging Face's generate() returns it: decoder start token,
  // target language code, pieces, and </s> if the hypothesis finished.
  std::vector<int64_t> ids;
  // Sum of the chosen tokens' log-probabilities (the forced language step adds 0) divided by
  // (number of tokens after the start token) ** length_penalty — HF's sequence score.
  double score = 0.0;
};

struct TranslationTimings {
  double queue_ms = 0.0;      // waiting for the model (lock, queue)
  double encode_ms = 0.0;     // tokenizer + encoder
  double decode_ms = 0.0;     // decoder steps + detokenizer
  double total_ms = 0.0;
};

struct TranslationResult {
  StatusCode status = StatusCode::kOk;
  std::string error;                   // message when status != kOk
  std::string text;                    // best hypothesis
  std::vector<int64_t> ids;            // best hypothesis' ids
  double score = 0.0;                  // best hypothesis' score
  std::vector<Hypothesis> hypotheses;  // n-best, best first (size num_hypotheses)
  TranslationTimings timings;

  bool ok() const noexcept { return status == StatusCode::kOk; }
};

}  // namespace tolk
