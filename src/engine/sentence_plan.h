// sentence_plan.h — how one input text becomes decoder sequences and how their outputs become
// one translation again.
//
// A text of one sentence is decoded exactly as given (Hugging Face parity). A text of several
// sentences (ModelOptions::sentence_splitting) becomes one sequence per sentence, batched with
// everything else, and is re-joined with the original whitespace between sentences. A sentence
// longer than max_input_tokens is refused or cut at clause boundaries (long_sentences) — never
// silently truncated.
#pragma once

#include <string>
#include <vector>

#include "decoding/generate.h"
#include "engine/loaded_model.h"
#include "text/sentence_splitter.h"
#include "tolk/result.h"

namespace tolk::engine {

struct SentencePlan {
  std::vector<text::TextSpan> spans;           // the sentences; empty → the whole text as given
  std::vector<size_t> pieces_per_span;         // >1 where a long sentence was cut
  std::vector<decoding::SequenceInput> inputs; // one per piece, in text order
  int64_t source_tokens = 0;

  bool whole() const { return spans.empty(); }
  // Which span a piece belongs to.
  size_t span_of_piece(size_t piece) const;
};

// Validates and tokenizes a text. Throws tolk::Error (kInputTooLong, kInvalidUtf8,
// kUnknownLanguage, …).
SentencePlan plan_sentences(const LoadedModel& m, const std::string& text,
                            const std::string& src_lang, const std::string& tgt_lang);

// Best translation of one piece (for streaming).
std::string piece_text(const LoadedModel& m, const decoding::SequenceOutput& out,
                       const TranslationOptions& options);

// The result of a text from its pieces' outputs (outputs[i] for plan.inputs[i]).
TranslationResult assemble_result(const LoadedModel& m, const SentencePlan& plan,
                                  const std::string& text, const std::string& tgt_lang,
                                  const std::vector<const decoding::SequenceOutput*>& outputs,
                                  const TranslationOptions& options);

}  // namespace tolk::engine
