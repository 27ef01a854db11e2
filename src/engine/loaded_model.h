// loaded_model.h — everything the engine keeps for one loaded model.
//
// Immutable after load except the executor, which is itself thread-safe. Requests hold a
// shared_ptr, so an unload never pulls a model from under a running request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "model/model_config.h"
#include "model/transformer.h"
#include "scheduling/executor.h"
#include "text/tokenizer.h"
#include "tolk/options.h"

namespace tolk::engine {

struct LoadedModel {
  std::string name;
  std::string directory;
  ModelOptions options;
  std::shared_ptr<const model::Transformer> transformer;
  std::shared_ptr<const text::Tokenizer> tokenizer;
  model::GenerationDefaults generation_defaults;
  std::unique_ptr<scheduling::Executor> executor;

  // Requests queued or running on this model (what max_queued_requests limits: a request
  // leaves it just before its result is published), requests not yet fully ended (unload waits
  // for these to reach 0: a request leaves only after its result is published), and the
  // unload-with-cancel flag their stop checks read.
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> unfinished{0};
  std::atomic<bool> cancel_all{false};
  std::mutex idle_mutex;
  std::condition_variable idle;
};

// Counts one request as in flight on a model for its lifetime. Constructing one past the
// model's max_queued_requests throws kQueueFull (and counts nothing).
class InFlight {
 public:
  explicit InFlight(std::shared_ptr<LoadedModel> m);
  ~InFlight();
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  // Frees the request's max_queued_requests slot now (idempotent): an async request does so
  // just before its result is published, so a caller woken by the result finds the slot free.
  // The request still counts as unfinished (unload waits) until this object is destroyed.
  void release();

 private:
  std::shared_ptr<LoadedModel> m_;
  bool released_ = false;
};

// The compute type `options` resolve to on this machine (compute_type.h); throws
// kInvalidArgument for an unknown name. Models share weights only when this matches.
model::ComputeType resolved_compute_type(const ModelOptions& options);

// What two names loaded from the same directory share.
struct SharedModelFiles {
  std::shared_ptr<const model::Transformer> transformer;
  std::shared_ptr<const text::Tokenizer> tokenizer;
};

// Loads and validates a model directory completely (config, weights, tokenizer, generation
// config) and builds its executor. `shared` (from another name loaded from the same directory)
// is used instead of reading the weights and tokenizer again.
std::shared_ptr<LoadedModel> load_model_directory(const std::string& name,
                                                  const std::string& directory,
                                                  const ModelOptions& options,
                                                  const SharedModelFiles& shared = {});

}  // namespace tolk::engine
