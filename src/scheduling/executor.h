// executor.h — how a loaded model runs generate() calls from many threads.
//
// One executor per loaded model. The engine hands it a batch of sentences and waits for their
// outputs; the executor decides when and where the batch runs (exclusive lock now; pool and
// continuous batching implement the same interface).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoding/generate.h"
#include "model/transformer.h"
#include "tolk/options.h"
#include "tolk/status.h"

namespace tolk::scheduling {

struct ExecutionStats {
  double queue_ms = 0.0;  // time waiting for the model
  decoding::GenerationTimings timings;
};

// Called once per sentence as soon as its output is final (before run() returns).
using SentenceDone = std::function<void(size_t index, const decoding::SequenceOutput& output)>;

// One run() call: sentences of one request with their shared settings.
struct RunRequest {
  std::vector<decoding::SequenceInput> inputs;
  decoding::GenerationParams params;
  decoding::StopCheck stop;
  Priority priority = Priority::kNormal;  // matters where requests share a batch (continuous)
  SentenceDone on_sentence;                // optional
};

// Executors that finish a request's sentences together (exclusive, pool) stream them at the end.
inline void stream_all(const RunRequest& request,
                       const std::vector<decoding::SequenceOutput>& outputs) {
  if (!request.on_sentence) return;
  for (size_t i = 0; i < outputs.size(); ++i) request.on_sentence(i, outputs[i]);
}

// How a request handed over with Executor::submit() ended: its outputs, or the error.
struct RunOutcome {
  std::vector<decoding::SequenceOutput> outputs;
  ExecutionStats stats;
  StatusCode error = StatusCode::kOk;
  std::string message;
};
using RunDone = std::function<void(RunOutcome)>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Blocks until every sentence is decoded. Thread-safe. Throws tolk::Error.
  virtual std::vector<decoding::SequenceOutput> run(const RunRequest& request,
                                                    ExecutionStats* stats) = 0;
  // Hands a request over without blocking the calling thread, so an async request does not
  // hold an engine thread while its sentences wait in a batch. `done` is called exactly once,
  // on an executor thread, when the request ends; it must return quickly (it may run on the
  // scheduler thread) and must not drop the last reference to the model. Returns false, keeping
  // nothing, where requests need a thread of their own to run on (exclusive): the caller then
  // calls run(). Throws tolk::Error for a request refused at once (queue full, too long).
  virtual bool submit(RunRequest request, RunDone done) {
    (void)request;
    (void)done;
    return false;
  }
  // Live state for engine.stats(): queue lengths, batch occupancy, throughput.
  virtual nlohmann::json stats() const = 0;
};

// pool(N): N worker threads over the one shared Transformer.
std::unique_ptr<Executor> make_pool_executor(std::shared_ptr<const model::Transformer> model,
                                             int workers, int threads_per_worker);

// continuous: one scheduler loop batching every request's sentences at the step level.
std::unique_ptr<Executor> make_continuous_executor(std::shared_ptr<const model::Transformer> model,
                                                   const ModelOptions& options);

std::unique_ptr<Executor> make_executor(const ModelOptions& options,
                                        std::shared_ptr<const model::Transformer> model);

}  // namespace tolk::scheduling
