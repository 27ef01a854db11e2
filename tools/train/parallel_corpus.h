// parallel_corpus.h — the demo-model trainer's data: a TSV of translation pairs, tokenized once
// with the model's own NLLB tokenizer, cut into length-bucketed batches.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace tolk::train {

struct Example {
  std::vector<int64_t> source;  // [src_lang] pieces </s>  (the engine's encode_source layout)
  std::vector<int64_t> labels;  // [tgt_lang] pieces </s>  (HF `labels` of text_target)
};

// One batch: indices into the example list, all of similar length.
using Batch = std::vector<size_t>;

// Reads lines "src_lang\ttgt_lang\tsrc_text\ttgt_text". Lines whose token sequences exceed
// max_tokens on either side are skipped (counted in *skipped).
std::vector<Example> read_tsv_corpus(const std::string& path, const text::Tokenizer& tokenizer,
                                     size_t max_tokens, size_t* skipped);

// Groups examples of similar length so that batch_size × longest sequence stays under
// max_batch_tokens, then orders the batches by a seeded shuffle (deterministic per seed).
std::vector<Batch> make_batches(const std::vector<Example>& examples, size_t max_batch_tokens,
                                uint64_t seed);

}  // namespace tolk::train
