// translator_engine.cc — the request path: validate → tokenize → executor → detokenize.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <mutex>

#include "engine/async_runner.h"
#include "engine/loaded_model.h"
#include "engine/model_registry.h"
#include "engine/translation_batch.h"
#include "engine/translation_request.h"
#include "engine/option_resolver.h"
#include "engine/sentence_plan.h"
#include "text/utf8.h"
#include "tolk/engine.h"
#include "util/blas_threads.h"
#include "util/openmp_workers.h"
#include "util/log.h"

namespace tolk {

using engine::LoadedModel;

struct TranslatorEngine::Impl {
  EngineOptions options;
  // Declared before the loader so it outlives every executor: shutdown() waits for the open
  // async requests, whose stop checks and continuations refer to it.
  std::unique_ptr<engine::AsyncRunner> runner;
  ModelLoader loader;

  std::shared_ptr<LoadedModel> get(const std::string& name) const {
    return const_cast<ModelLoader&>(loader).impl().get(name);
  }
};

namespace {

using clock_type = std::chrono::steady_clock;
TranslationResult error_result(StatusCode code, const std::string& message) {
  TranslationResult r;
  r.status = code;
  r.error = message;
  return r;
}

// A sync call's executor run: the calling thread waits for the model's executor.
std::vector<TranslationResult> run_on_this_thread(const LoadedModel& m,
                                                  engine::TranslationBatch& batch,
                                                  const scheduling::RunRequest& request) {
  if (request.inputs.empty()) return batch.results();
  scheduling::ExecutionStats stats;
  std::vector<decoding::SequenceOutput> outputs;
  try {
    outputs = m.executor->run(request, &stats);
  } catch (const Error& e) {
    return batch.fail(e.code(), e.what());
  } catch (const std::exception& e) {  // LibTorch's c10::Error and the like: a bug, not input
    return batch.fail(StatusCode::kInternal, e.what());
  }
  return batch.finish(std::move(outputs), stats);
}

// Everything an async request keeps until its result is published. Held by the runner's task,
// then by the executor's completion (moved along, never copied: the model must not be released
// on the executor's own thread), then by the continuation that publishes the result.
struct AsyncCall {
  std::shared_ptr<LoadedModel> model;
  std::unique_ptr<engine::InFlight> in_flight;
  std::shared_ptr<TranslationRequest::State> state;
  std::unique_ptr<engine::TranslationBatch> batch;
  engine::AsyncRunner* runner = nullptr;

  // Publishes the result and closes the request (the model's slot is freed first, see
  // InFlight::release).
  void end(TranslationResult r) {
    in_flight->release();
    state->finish(std::move(r));
    runner->request_ended();
  }
};

clock_type::time_point deadline_of(const TranslationOptions& o, clock_type::time_point start) {
  if (o.timeout_ms < 0) throw Error(StatusCode::kInvalidArgument, "timeout_ms must be >= 0");
  return o.timeout_ms > 0 ? start + std::chrono::milliseconds(o.timeout_ms)
                          : clock_type::time_point::max();
}

}  // namespace

TranslatorEngine::TranslatorEngine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  log::set_level(log::parse_level(options.log_level));
  if (options.intra_threads < 0)
    throw Error(StatusCode::kInvalidArgument, "intra_threads must be >= 0 (0 = LibTorch default)");
  // LibTorch's intra-op pool is process-global: set once, here, and only when asked.
  if (options.intra_threads > 0) torch::set_num_threads(options.intra_threads);
  // One pool of compute threads: OpenBLAS's own pool would compete with OpenMP's on the cores.
  if (util::keep_blas_on_calling_thread()) log::debug("OpenBLAS runs on the calling thread");
  if (options.async_threads < 1 || options.async_threads > 1024)
    throw Error(StatusCode::kInvalidArgument, "async_threads must be in [1, 1024]");
  if (options.max_queued_requests < 1)
    throw Error(StatusCode::kInvalidArgument, "max_queued_requests must be >= 1");
  impl_->runner = std::make_unique<engine::AsyncRunner>(options.async_threads, options.max_queued_requests);
  impl_->options = std::move(options);
}

TranslatorEngine::~TranslatorEngine() {
  if (impl_ && impl_->runner) impl_->runner->shutdown();
}

void TranslatorEngine::load_model(const std::string& name, const std::string& directory,
                                  ModelOptions options) {
  impl_->loader.load(name, directory, std::move(options));
  // Loading converts weights in parallel loops on this thread (util/openmp_workers.h).
  util::release_openmp_workers();
}

void TranslatorEngine::unload_model(const std::string& name, UnloadPolicy policy) {
  impl_->loader.unload(name, policy);
}

std::vector<std::string> TranslatorEngine::list_models() const { return impl_->loader.list(); }

ModelInfo TranslatorEngine::model_info(const std::string& name) const {
  return impl_->loader.info(name);
}

std::string TranslatorEngine::stats() const {
  nlohmann::json j;
  j["models"] = nlohmann::json::object();
  for (const auto& mem : impl_->loader.memory_report()) {
    std::shared_ptr<LoadedModel> m;
    try {
      m = impl_->get(mem.name);
    } catch (const Error&) {
      continue;  // unloaded meanwhile
    }
    auto s = m->executor->stats();
    s["weight_bytes"] = mem.weight_bytes;
    s["compute_type"] = model::compute_type_name(m->transformer->compute_type());
    s["shared_with"] = mem.shared_with;
    s["in_flight_requests"] = mem.in_flight;
    j["models"][mem.name] = std::move(s);
  }
  j["async_queued_requests"] = impl_->runner->queued();
  return j.dump();
}

ModelLoader& TranslatorEngine::models() { return impl_->loader; }
const ModelLoader& TranslatorEngine::models() const { return impl_->loader; }

TranslationResult TranslatorEngine::translate_sync(const std::string& model,
                                                   const std::string& text,
                                                   const std::string& src_lang,
                                                   const std::string& tgt_lang,
                                                   const TranslationOptions& options) {
  auto results = translate_batch(model, {text}, {src_lang}, {tgt_lang}, options);
  if (!results[0].ok()) throw Error(results[0].status, results[0].error);
  return std::move(results[0]);
}

std::vector<TranslationResult> TranslatorEngine::translate_batch(
    const std::string& model, const std::vector<std::string>& texts, const std::string& src_lang,
    const std::string& tgt_lang, const TranslationOptions& options) {
  return translate_batch(model, texts, std::vector<std::string>(texts.size(), src_lang),
                         std::vector<std::string>(texts.size(), tgt_lang), options);
}

std::vector<TranslationResult> TranslatorEngine::translate_batch(
    const std::string& model, const std::vector<std::string>& texts,
    const std::vector<std::string>& src_langs, const std::vector<std::string>& tgt_langs,
    const TranslationOptions& options) {
  const auto start = clock_type::now();
  if (src_langs.size() != texts.size() || tgt_langs.size() != texts.size())
    throw Error(StatusCode::kInvalidArgument, "one source and one target language per text");
  auto m = impl_->get(model);
  engine::InFlight in_flight(m);
  const auto params =
      engine::resolve_generation_params(options, m->generation_defaults, m->transformer->config());
  const auto deadline = deadline_of(options, start);
  engine::AsyncRunner* runner = impl_->runner.get();
  LoadedModel* loaded = m.get();
  auto stop = [deadline, runner, loaded] {
    if (runner->shutting_down()) return StatusCode::kShutdown;
    if (loaded->cancel_all.load()) return StatusCode::kCancelled;
    if (clock_type::now() > deadline) return StatusCode::kTimeout;
    return StatusCode::kOk;
  };
  engine::TranslationBatch batch(*m, texts, src_langs, tgt_langs, options, start);
  return run_on_this_thread(*m, batch, batch.request(params, stop));
}

std::shared_ptr<TranslationRequest> TranslatorEngine::translate_async(
    const std::string& model, const std::string& text, const std::string& src_lang,
    const std::string& tgt_lang, const TranslationOptions& options, TranslationCallback callback) {
  const auto start = clock_type::now();
  auto call = std::make_shared<AsyncCall>();
  call->model = impl_->get(model);
  const auto params = engine::resolve_generation_params(options, call->model->generation_defaults,
                                                        call->model->transformer->config());
  call->state = std::make_shared<TranslationRequest::State>();
  call->state->callback = std::move(callback);
  call->state->deadline = deadline_of(options, start);
  call->runner = impl_->runner.get();
  call->in_flight = std::make_unique<engine::InFlight>(call->model);
  auto task = [call, text, src_lang, tgt_lang, options, params, start](bool shutting_down) mutable {
    engine::AsyncRunner* runner = call->runner;
    LoadedModel* loaded = call->model.get();
    auto stop = [state = call->state, runner, loaded] {
      if (runner->shutting_down()) return StatusCode::kShutdown;
      if (state->cancelled.load() || loaded->cancel_all.load()) return StatusCode::kCancelled;
      if (clock_type::now() > state->deadline) return StatusCode::kTimeout;
      return StatusCode::kOk;
    };
    if (shutting_down) return call->end(error_result(StatusCode::kShutdown, "engine is shutting down"));
    if (const StatusCode early = stop(); early != StatusCode::kOk)
      return call->end(error_result(early, early == StatusCode::kCancelled
                                               ? "request cancelled"
                                               : "request deadline passed"));
    try {
      call->batch = std::make_unique<engine::TranslationBatch>(
          *loaded, std::vector<std::string>{text}, std::vector<std::string>{src_lang},
          std::vector<std::string>{tgt_lang}, options, start);
      auto request = call->batch->request(params, stop);
      if (request.inputs.empty()) return call->end(call->batch->results()[0]);
      // The executor's completion moves the call on to a continuation on this runner: the
      // result is assembled and published there, not on the scheduler thread.
      auto done = [call](scheduling::RunOutcome outcome) mutable {
        engine::AsyncRunner* r = call->runner;
        r->post([call = std::move(call), outcome = std::move(outcome)]() mutable {
          try {
            auto results = outcome.error == StatusCode::kOk
                               ? call->batch->finish(std::move(outcome.outputs), outcome.stats)
                               : call->batch->fail(outcome.error, outcome.message);
            call->end(std::move(results[0]));
          } catch (const std::exception& e) {
            call->end(error_result(StatusCode::kInternal, e.what()));
          }
        });
      };
      if (loaded->executor->submit(request, std::move(done))) return;
      call->end(run_on_this_thread(*loaded, *call->batch, request)[0]);
    } catch (const Error& e) {
      call->end(error_result(e.code(), e.what()));
    } catch (const std::exception& e) {
      call->end(error_result(StatusCode::kInternal, e.what()));
    }
  };
  // The handle exists before the task is queued: once queued, the request must reach its
  // caller, so nothing that can fail may come after submit().
  auto handle = std::make_shared<TranslationRequest>(call->state);
  engine::AsyncRunner* runner = impl_->runner.get();
  if (!runner->submit(std::move(task)))
    throw Error(runner->shutting_down() ? StatusCode::kShutdown : StatusCode::kQueueFull,
                runner->shutting_down() ? "engine is shutting down"
                                        : "too many open async requests (max_queued_requests)");
  return handle;
}

const char* version() noexcept { return "0.1.0"; }

}  // namespace tolk
