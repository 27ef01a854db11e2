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

// A text of several sentences (ModelOptions::sentence_splitting) is translated sentence by
// sentence and re-joined with the original whitespace between sentences: then `ids` is the
// concatenation of the sentences' ids, `score` their mean, and `hypotheses` holds the one joined
// best hypothesis (n-best lists exist per sentence only, so they are returned for one-sentence
// texts). A one-sentence text is translated exactly as given, as Hugging Face would.
struct TranslationResult {
  StatusCode status = StatusCode::kOk;
  std::string error;                   // message when status != kOk
  std::string text;                    // best hypothesis
  std::vector<int64_t> ids;            // best hypothesis' ids
  double score = 0.0;                  // best hypothesis' score
  std::vector<Hypothesis> hypotheses;  // n-best, best first (size num_hypotheses)
  TranslationTimings timings;
  int64_t sentences = 0;               // sequences the text was decoded as
  int64_t source_tokens = 0;           // encoder tokens, all sentences
  int64_t generated_tokens = 0;        // decoder tokens produced, all sentences

  bool ok() const noexcept { return status == StatusCode::kOk; }
};

}  // namespace tolk
