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
#include "engine/translation_request.h"
#include "engine/option_resolver.h"
#include "engine/sentence_plan.h"
#include "text/utf8.h"
#include "tolk/engine.h"
#include "util/log.h"

namespace tolk {

using engine::LoadedModel;

struct TranslatorEngine::Impl {
  EngineOptions options;
  ModelLoader loader;
  std::unique_ptr<engine::AsyncRunner> runner;  // created with the engine, shut down first

  std::shared_ptr<LoadedModel> get(const std::string& name) const {
    return const_cast<ModelLoader&>(loader).impl().get(name);
  }
};

namespace {

using clock_type = std::chrono::steady_clock;
double ms_since(clock_type::time_point t) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

TranslationResult error_result(StatusCode code, const std::string& message) {
  TranslationResult r;
  r.status = code;
  r.error = message;
  return r;
}

// The whole request path for texts already bound to a model: plan each text's sentences, run
// all valid sentences as one request on the model's executor (streaming finished sentences),
// re-join and detokenize. Per-item errors stay per item.
std::vector<TranslationResult> run_translation(const LoadedModel& m,
                                               const std::vector<std::string>& texts,
                                               const std::vector<std::string>& src_langs,
                                               const std::vector<std::string>& tgt_langs,
                                               const TranslationOptions& options,
                                               const decoding::GenerationParams& params,
                                               const decoding::StopCheck& stop,
                                               clock_type::time_point start) {
  std::vector<TranslationResult> results(texts.size());
  std::vector<engine::SentencePlan> plans(texts.size());
  scheduling::RunRequest request;
  request.params = params;
  request.stop = stop;
  request.priority = options.priority;
  std::vector<size_t> text_of, piece_of;  // request.inputs[j] is piece piece_of[j] of text_of[j]
  std::vector<size_t> planned;
  for (size_t i = 0; i < texts.size(); ++i) {
    try {
      plans[i] = engine::plan_sentences(m, texts[i], src_langs[i], tgt_langs[i]);
      planned.push_back(i);
      for (size_t k = 0; k < plans[i].inputs.size(); ++k) {
        request.inputs.push_back(plans[i].inputs[k]);
        text_of.push_back(i);
        piece_of.push_back(k);
      }
    } catch (const Error& e) {
      results[i] = error_result(e.code(), e.what());
    }
  }
  const double prepare_ms = ms_since(start);
  if (request.inputs.empty()) return results;
  if (options.on_sentence) {
    request.on_sentence = [&](size_t j, const decoding::SequenceOutput& out) {
      const auto& plan = plans[text_of[j]];
      SentenceUpdate u;
      u.text_index = text_of[j];
      u.sentence_index = plan.whole() ? 0 : plan.span_of_piece(piece_of[j]);
      u.sentence_count = plan.whole() ? 1 : plan.spans.size();
      u.translation = engine::piece_text(m, out, options);
      options.on_sentence(u);
    };
  }

  scheduling::ExecutionStats stats;
  std::vector<decoding::SequenceOutput> outputs;
  try {
    outputs = m.executor->run(request, &stats);
  } catch (const Error& e) {
    for (size_t i : planned) results[i] = error_result(e.code(), e.what());
    return results;
  } catch (const std::exception& e) {  // LibTorch's c10::Error and the like: a bug, not input
    for (size_t i : planned) results[i] = error_result(StatusCode::kInternal, e.what());
    return results;
  }
  const auto detok_start = clock_type::now();
  std::vector<std::vector<const decoding::SequenceOutput*>> per_text(texts.size());
  for (size_t j = 0; j < outputs.size(); ++j) per_text[text_of[j]].push_back(&outputs[j]);
  for (size_t i : planned)
    results[i] = engine::assemble_result(m, plans[i], texts[i], tgt_langs[i], per_text[i], options);
  const double detok_ms = ms_since(detok_start);
  for (size_t i : planned) {
    auto& t = results[i].timings;
    t.queue_ms = stats.queue_ms;
    t.encode_ms = prepare_ms + stats.timings.encode_ms;
    t.decode_ms = stats.timings.decode_ms + detok_ms;
    t.total_ms = ms_since(start);
  }
  return results;
}

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
  return run_translation(*m, texts, src_langs, tgt_langs, options, params, stop, start);
}

std::shared_ptr<TranslationRequest> TranslatorEngine::translate_async(
    const std::string& model, const std::string& text, const std::string& src_lang,
    const std::string& tgt_lang, const TranslationOptions& options, TranslationCallback callback) {
  const auto start = clock_type::now();
  auto m = impl_->get(model);
  const auto params =
      engine::resolve_generation_params(options, m->generation_defaults, m->transformer->config());
  auto state = std::make_shared<TranslationRequest::State>();
  state->callback = std::move(callback);
  state->deadline = deadline_of(options, start);
  engine::AsyncRunner* runner = impl_->runner.get();
  auto in_flight = std::make_shared<engine::InFlight>(m);
  auto task = [m, in_flight, text, src_lang, tgt_lang, options, params, state, runner,
               start](bool shutting_down) {
    LoadedModel* loaded = m.get();
    // The model's slot is freed before the result is published (see InFlight::release).
    auto finish = [&in_flight, &state](TranslationResult r) {
      in_flight->release();
      state->finish(std::move(r));
    };
    auto stop = [state, runner, loaded] {
      if (runner->shutting_down()) return StatusCode::kShutdown;
      if (state->cancelled.load() || loaded->cancel_all.load()) return StatusCode::kCancelled;
      if (clock_type::now() > state->deadline) return StatusCode::kTimeout;
      return StatusCode::kOk;
    };
    if (shutting_down) return finish(error_result(StatusCode::kShutdown, "engine is shutting down"));
    if (const StatusCode early = stop(); early != StatusCode::kOk)
      return finish(error_result(early, early == StatusCode::kCancelled ? "request cancelled"
                                                                        : "request deadline passed"));
    try {
      auto results = run_translation(*m, {text}, {src_lang}, {tgt_lang}, options, params, stop, start);
      finish(std::move(results[0]));
    } catch (const std::exception& e) {
      finish(error_result(StatusCode::kInternal, e.what()));
    }
  };
  // The handle exists before the task is queued: once queued, the request must reach its
  // caller, so nothing that can fail may come after submit().
  auto handle = std::make_shared<TranslationRequest>(state);
  if (!runner->submit(std::move(task)))
    throw Error(runner->shutting_down() ? StatusCode::kShutdown : StatusCode::kQueueFull,
                runner->shutting_down() ? "engine is shutting down"
                                        : "too many queued requests (max_queued_requests)");
  return handle;
}

const char* version() noexcept { return "0.1.0"; }

}  // namespace tolk
