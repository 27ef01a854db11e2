// translation_batch.h — one translate call's texts on one model, before and after the executor.
//
// Planning splits and tokenizes every text (a text that fails gets its error result at once,
// the others go on); all planned sentences become ONE executor request, so they batch with
// each other and with everyone else's; finishing re-joins each text's outputs in order. Sync
// calls wait for the executor on the calling thread; async calls hand the request over
// (Executor::submit) and finish on whichever engine thread gets the outcome.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "engine/loaded_model.h"
#include "engine/sentence_plan.h"
#include "scheduling/executor.h"
#include "tolk/options.h"
#include "tolk/result.h"

namespace tolk::engine {

class TranslationBatch {
 public:
  using clock_type = std::chrono::steady_clock;

  // `m` must outlive this object (callers hold the model's shared_ptr).
  TranslationBatch(const LoadedModel& m, std::vector<std::string> texts,
                   std::vector<std::string> src_langs, std::vector<std::string> tgt_langs,
                   TranslationOptions options, clock_type::time_point start);

  // The executor request for every planned sentence (no inputs when no text could be planned).
  // Its streaming callback refers to this object, which must outlive the request's run.
  scheduling::RunRequest request(const decoding::GenerationParams& params,
                                 decoding::StopCheck stop);

  // The results: after the executor's outputs (outputs[j] for request().inputs[j]), after the
  // request failed as a whole (every planned text gets the error), or when nothing was sent.
  std::vector<TranslationResult> finish(std::vector<decoding::SequenceOutput> outputs,
                                        const scheduling::ExecutionStats& stats);
  std::vector<TranslationResult> fail(StatusCode code, const std::string& message);
  std::vector<TranslationResult> results() const { return results_; }

 private:
  const LoadedModel& m_;
  std::vector<std::string> texts_, src_langs_, tgt_langs_;
  TranslationOptions options_;
  clock_type::time_point start_;
  double prepare_ms_ = 0.0;
  std::vector<TranslationResult> results_;
  std::vector<SentencePlan> plans_;
  std::vector<size_t> planned_;           // texts whose sentences are in the request
  std::vector<size_t> text_of_, piece_of_;  // request input j is piece piece_of_[j] of text_of_[j]
};

}  // namespace tolk::engine
