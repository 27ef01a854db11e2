// tolk/engine.h — TranslatorEngine, the C++ entry point.
//
//   tolk::TranslatorEngine engine;
//   engine.load_model("nllb", "/models/nllb-200-distilled-600M");
//   auto r = engine.translate_sync("nllb", "Open the file", "eng_Latn", "fra_Latn");
//   std::cout << r.text << "\n";
//
// Every method is safe to call from any thread at any time. A loaded model's weights and
// tokenizer are shared, read-only, by everything that runs on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tolk/options.h"
#include "tolk/result.h"
#include "tolk/model_loader.h"
#include "tolk/status.h"

namespace tolk {

// The handle of an asynchronous translation. Every accepted request ends exactly once: with a
// result, or with an error status (kCancelled, kTimeout, kShutdown, …) in the result.
class TranslationRequest {
 public:
  struct State;
  explicit TranslationRequest(std::shared_ptr<State> state);
  // Asks the request to stop; it ends with kCancelled unless it already ended. Any thread.
  void cancel();
  // Waits up to timeout_ms (negative = forever, 0 = poll); true once the request has ended.
  bool wait(int64_t timeout_ms) const;
  bool done() const;
  // The result once ended (waits if needed). Without a callback it can be taken once; a second
  // call throws kInvalidArgument. With a callback, the callback received it and this throws too.
  TranslationResult take_result();
  // The final status once ended (kOk while still running).
  StatusCode status() const;

 private:
  std::shared_ptr<State> state_;
};

// Runs on an engine thread when a request ends; it must return quickly.
using TranslationCallback = std::function<void(TranslationResult&&)>;

class TranslatorEngine {
 public:
  explicit TranslatorEngine(EngineOptions options = {});
  ~TranslatorEngine();
  TranslatorEngine(const TranslatorEngine&) = delete;
  TranslatorEngine& operator=(const TranslatorEngine&) = delete;

  // Destruction answers every pending request with kShutdown, waits for running ones, and joins
  // all engine threads; no callback runs after the destructor returns.

  // Loads a model directory (Hugging Face layout) under `name`. Everything is validated here,
  // not at first use. Throws Error: kAlreadyExists, kFileNotFound, kInvalidModel,
  // kUnsupportedModel, kInvalidArgument.
  void load_model(const std::string& name, const std::string& directory, ModelOptions options = {});
  // Unloads a model; requests already running on it finish first. Throws kUnknownModel.
  void unload_model(const std::string& name, UnloadPolicy policy = UnloadPolicy::kWait);
  std::vector<std::string> list_models() const;
  ModelInfo model_info(const std::string& name) const;
  // Live statistics as a JSON object: per model its mode, queue lengths per priority, live
  // sentences, batch occupancy histogram (continuous), requests, sentences, generated tokens,
  // busy time and tokens per busy second, weight bytes; and the async queue.
  std::string stats() const;

  // The registry behind the four calls above (memory report, shared weights).
  ModelLoader& models();
  const ModelLoader& models() const;

  // Translates one text. Throws Error on any failure (kUnknownModel, kUnknownLanguage,
  // kInvalidUtf8, kInvalidArgument, kInputTooLong, …).
  TranslationResult translate_sync(const std::string& model, const std::string& text,
                                   const std::string& src_lang, const std::string& tgt_lang,
                                   const TranslationOptions& options = {});

  // Translates many texts in one padded batch. Never throws for a bad item: each result carries
  // its own status. Throws only for errors of the whole call (unknown model, bad options).
  std::vector<TranslationResult> translate_batch(const std::string& model,
                                                 const std::vector<std::string>& texts,
                                                 const std::string& src_lang,
                                                 const std::string& tgt_lang,
                                                 const TranslationOptions& options = {});

  // Same, with a target language per text (sources may differ too).
  std::vector<TranslationResult> translate_batch(const std::string& model,
                                                 const std::vector<std::string>& texts,
                                                 const std::vector<std::string>& src_langs,
                                                 const std::vector<std::string>& tgt_langs,
                                                 const TranslationOptions& options = {});

  // Queues a translation and returns at once. Throws only for errors of the call itself
  // (unknown model, bad options); input errors end the request with their status. `callback`
  // (optional) runs once on an engine thread with the result. options.timeout_ms bounds the
  // time from submission to completion (kTimeout).
  std::shared_ptr<TranslationRequest> translate_async(const std::string& model,
                                                      const std::string& text,
                                                      const std::string& src_lang,
                                                      const std::string& tgt_lang,
                                                      const TranslationOptions& options = {},
                                                      TranslationCallback callback = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Library version, "MAJOR.MINOR.PATCH".
const char* version() noexcept;

}  // namespace tolk
