// sentence_plan.cc — see sentence_plan.h.
#include "engine/sentence_plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "text/utf8.h"
#include "tolk/status.h"

namespace tolk::engine {
namespace {

int64_t token_limit(const LoadedModel& m) {
  const int64_t model_max = m.transformer->config().max_position_embeddings;
  return m.options.max_input_tokens > 0 ? std::min(m.options.max_input_tokens, model_max) : model_max;
}

decoding::SequenceInput tokenize(const LoadedModel& m, std::string_view text,
                                 const std::string& src_lang, int64_t forced) {
  decoding::SequenceInput in;
  in.forced_bos_id = forced;
  in.source_ids = m.tokenizer->encode_source(text, src_lang);
  return in;
}

[[noreturn]] void too_long(size_t tokens, int64_t limit, const char* what) {
  throw Error(StatusCode::kInputTooLong,
              fmt::format("{} is {} tokens; the limit is {} (max_input_tokens / "
                          "max_position_embeddings; long_sentences = split cuts it instead)",
                          what, tokens, limit));
}

// Scripts written without spaces between sentences.
bool joins_without_space(const std::string& lang) {
  for (const char* s : {"_Hans", "_Hant", "_Jpan", "_Thai", "_Khmr", "_Laoo", "_Mymr", "_Tibt"})
    if (lang.size() > 5 && lang.compare(lang.size() - 5, 5, s) == 0) return true;
  return false;
}

}  // namespace

size_t SentencePlan::span_of_piece(size_t piece) const {
  size_t first = 0;
  for (size_t s = 0; s < pieces_per_span.size(); ++s) {
    if (piece < first + pieces_per_span[s]) return s;
    first += pieces_per_span[s];
  }
  return 0;
}

SentencePlan plan_sentences(const LoadedModel& m, const std::string& text,
                            const std::string& src_lang, const std::string& tgt_lang) {
  if (static_cast<int64_t>(text.size()) > m.options.max_input_bytes)
    throw Error(StatusCode::kInputTooLong,
                fmt::format("input is {} bytes; max_input_bytes is {}", text.size(),
                            m.options.max_input_bytes));
  text::check_utf8(text, "input text");
  const int64_t forced = m.tokenizer->language_id(tgt_lang);
  const int64_t limit = token_limit(m);
  const bool can_cut = m.options.long_sentences == LongSentencePolicy::kSplit;
  const auto mode = m.options.sentence_splitting == SentenceSplitting::kPunctuation
                        ? text::SentenceSplitMode::kPunctuation
                        : text::SentenceSplitMode::kOff;
  SentencePlan plan;
  auto spans = text::split_sentences(text, src_lang, mode);
  if (spans.size() <= 1) {
    // One sentence: decode the text exactly as given.
    auto in = tokenize(m, text, src_lang, forced);
    if (static_cast<int64_t>(in.source_ids.size()) <= limit) {
      plan.source_tokens = static_cast<int64_t>(in.source_ids.size());
      plan.inputs.push_back(std::move(in));
      return plan;
    }
    if (!can_cut || spans.empty()) too_long(in.source_ids.size(), limit, "input");
  }
  auto count = [&](std::string_view piece) {
    return m.tokenizer->encode_source(piece, src_lang).size();
  };
  for (const auto& span : spans) {
    std::string_view sentence(text.data() + span.begin, span.end - span.begin);
    auto in = tokenize(m, sentence, src_lang, forced);
    std::vector<text::TextSpan> pieces{span};
    if (static_cast<int64_t>(in.source_ids.size()) > limit) {
      if (!can_cut) too_long(in.source_ids.size(), limit, "a sentence");
      pieces = text::split_to_fit(text, span, static_cast<size_t>(limit), count);
      if (pieces.empty()) too_long(in.source_ids.size(), limit, "a sentence");
    }
    plan.spans.push_back(span);
    plan.pieces_per_span.push_back(pieces.size());
    for (const auto& p : pieces) {
      auto piece = pieces.size() == 1
                       ? std::move(in)
                       : tokenize(m, std::string_view(text.data() + p.begin, p.end - p.begin),
                                  src_lang, forced);
      plan.source_tokens += static_cast<int64_t>(piece.source_ids.size());
      plan.inputs.push_back(std::move(piece));
    }
  }
  if (static_cast<int64_t>(plan.inputs.size()) > m.options.max_sentences_per_request)
    throw Error(StatusCode::kInputTooLong,
                fmt::format("input has {} sentences; max_sentences_per_request is {}",
                            plan.inputs.size(), m.options.max_sentences_per_request));
  return plan;
}

std::string piece_text(const LoadedModel& m, const decoding::SequenceOutput& out,
                       const TranslationOptions& options) {
  if (out.hypotheses.empty()) return {};
  return m.tokenizer->decode(out.hypotheses[0].ids, /*skip_special=*/true,
                             options.cleanup_tokenization_spaces);
}

TranslationResult assemble_result(const LoadedModel& m, const SentencePlan& plan,
                                  const std::string& text, const std::string& tgt_lang,
                                  const std::vector<const decoding::SequenceOutput*>& outputs,
                                  const TranslationOptions& options) {
  TranslationResult r;
  r.sentences = static_cast<int64_t>(outputs.size());
  r.source_tokens = plan.source_tokens;
  for (const auto* o : outputs)
    if (!o->hypotheses.empty()) r.generated_tokens += static_cast<int64_t>(o->hypotheses[0].ids.size()) - 1;
  if (plan.whole()) {
    for (const auto& h : outputs[0]->hypotheses) {
      Hypothesis hyp;
      hyp.ids = h.ids;
      hyp.score = h.score;
      hyp.text = m.tokenizer->decode(h.ids, /*skip_special=*/true, options.cleanup_tokenization_spaces);
      r.hypotheses.push_back(std::move(hyp));
    }
  } else {
    const std::string piece_sep = joins_without_space(tgt_lang) ? "" : " ";
    std::vector<std::string> sentences;
    Hypothesis joined;
    size_t piece = 0;
    for (size_t s = 0; s < plan.spans.size(); ++s) {
      std::string sentence;
      for (size_t k = 0; k < plan.pieces_per_span[s]; ++k, ++piece) {
        const std::string t = piece_text(m, *outputs[piece], options);
        if (!sentence.empty() && !t.empty()) sentence += piece_sep;
        sentence += t;
        if (!outputs[piece]->hypotheses.empty()) {
          const auto& best = outputs[piece]->hypotheses[0];
          joined.ids.insert(joined.ids.end(), best.ids.begin(), best.ids.end());
          joined.score += best.score;
        }
      }
      sentences.push_back(std::move(sentence));
    }
    joined.score /= static_cast<double>(std::max<size_t>(1, outputs.size()));
    joined.text = text::join_sentences(text, plan.spans, sentences, piece_sep);
    r.hypotheses.push_back(std::move(joined));
  }
  if (!r.hypotheses.empty()) {
    r.text = r.hypotheses[0].text;
    r.ids = r.hypotheses[0].ids;
    r.score = r.hypotheses[0].score;
  }
  return r;
}

}  // namespace tolk::engine
