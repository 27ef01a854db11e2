// translation_batch.cc — see translation_batch.h.
#include "engine/translation_batch.h"

namespace tolk::engine {
namespace {

double ms_since(TranslationBatch::clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(TranslationBatch::clock_type::now() - t).count();
}

TranslationResult error_result(StatusCode code, const std::string& message) {
  TranslationResult r;
  r.status = code;
  r.error = message;
  return r;
}

}  // namespace

TranslationBatch::TranslationBatch(const LoadedModel& m, std::vector<std::string> texts,
                                   std::vector<std::string> src_langs,
                                   std::vector<std::string> tgt_langs, TranslationOptions options,
                                   clock_type::time_point start)
    : m_(m),
      texts_(std::move(texts)),
      src_langs_(std::move(src_langs)),
      tgt_langs_(std::move(tgt_langs)),
      options_(std::move(options)),
      start_(start),
      results_(texts_.size()),
      plans_(texts_.size()) {
  for (size_t i = 0; i < texts_.size(); ++i) {
    try {
      plans_[i] = plan_sentences(m_, texts_[i], src_langs_[i], tgt_langs_[i]);
      planned_.push_back(i);
      for (size_t k = 0; k < plans_[i].inputs.size(); ++k) {
        text_of_.push_back(i);
        piece_of_.push_back(k);
      }
    } catch (const Error& e) {
      results_[i] = error_result(e.code(), e.what());
    }
  }
  prepare_ms_ = ms_since(start_);
}

scheduling::RunRequest TranslationBatch::request(const decoding::GenerationParams& params,
                                                 decoding::StopCheck stop) {
  scheduling::RunRequest request;
  request.params = params;
  request.stop = std::move(stop);
  request.priority = options_.priority;
  for (size_t i : planned_)
    for (const auto& in : plans_[i].inputs) request.inputs.push_back(in);
  if (options_.on_sentence) {
    request.on_sentence = [this](size_t j, const decoding::SequenceOutput& out) {
      const auto& plan = plans_[text_of_[j]];
      SentenceUpdate u;
      u.text_index = text_of_[j];
      u.sentence_index = plan.whole() ? 0 : plan.span_of_piece(piece_of_[j]);
      u.sentence_count = plan.whole() ? 1 : plan.spans.size();
      u.translation = piece_text(m_, out, options_);
      options_.on_sentence(u);
    };
  }
  return request;
}

std::vector<TranslationResult> TranslationBatch::finish(
    std::vector<decoding::SequenceOutput> outputs, const scheduling::ExecutionStats& stats) {
  if (outputs.size() != text_of_.size())
    return fail(StatusCode::kInternal, "the executor returned a wrong number of sentences");
  const auto detok_start = clock_type::now();
  std::vector<std::vector<const decoding::SequenceOutput*>> per_text(texts_.size());
  for (size_t j = 0; j < outputs.size(); ++j) per_text[text_of_[j]].push_back(&outputs[j]);
  for (size_t i : planned_)
    results_[i] = assemble_result(m_, plans_[i], texts_[i], tgt_langs_[i], per_text[i], options_);
  const double detok_ms = ms_since(detok_start);
  for (size_t i : planned_) {
    auto& t = results_[i].timings;
    t.queue_ms = stats.queue_ms;
    t.encode_ms = prepare_ms_ + stats.timings.encode_ms;
    t.decode_ms = stats.timings.decode_ms + detok_ms;
    t.total_ms = ms_since(start_);
  }
  return results_;
}

std::vector<TranslationResult> TranslationBatch::fail(StatusCode code, const std::string& message) {
  for (size_t i : planned_) results_[i] = error_result(code, message);
  return results_;
}

}  // namespace tolk::engine
