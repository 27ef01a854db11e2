// workload.h — the sentences the speed scenarios translate, and one timed pass over them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tolk/engine.h"

namespace tolk::bench {

struct Sentence {
  std::string src_lang, tgt_lang, source, reference;
};

// Up to `limit` pairs of one direction from a test split (src<TAB>tgt<TAB>source<TAB>reference
// lines), spread evenly over the file (it is sorted by source), so the length distribution is
// the split's. Throws when the file is missing or has no such pair.
std::vector<Sentence> read_test_split(const std::string& path, const std::string& src_lang,
                                      const std::string& tgt_lang, size_t limit);

// A realistic decode length for a model that does not choose its own (the random benchmark
// model rarely emits </s>): the reference translation's length in characters / 3, in [3, 200].
int64_t forced_length(const Sentence& s);

struct PassTotals {
  double seconds = 0;
  int64_t sentences = 0, source_tokens = 0, generated_tokens = 0, failures = 0;
  std::vector<std::string> outputs;  // per sentence, in order ("" where it failed)
  std::vector<int64_t> source_each, generated_each;  // per sentence, in order
  std::string first_error;
};

// Translates every sentence through translate_async (so a continuous-mode model batches them
// as they come and go), waits for all, and times the whole pass. With `force_lengths` each
// sentence gets min_new_tokens = max_new_tokens = forced_length().
PassTotals translate_pass(TranslatorEngine& engine, const std::string& model,
                          const std::vector<Sentence>& sentences, const TranslationOptions& base,
                          bool force_lengths);

}  // namespace tolk::bench
