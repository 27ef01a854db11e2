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
#include <memory>
#include <string>
#include <vector>

#include "tolk/options.h"
#include "tolk/result.h"
#include "tolk/status.h"

namespace tolk {

// What `tolk info` prints: the facts of a loaded model.
struct ModelInfo {
  std::string name;
  std::string directory;
  std::string config_json;               // the parsed config, as JSON text
  std::vector<std::string> languages;    // language codes the tokenizer knows
  int64_t parameters = 0;                // unique parameters (tied weights counted once)
  int64_t weight_bytes = 0;              // bytes of weights held in memory
};

class TranslatorEngine {
 public:
  explicit TranslatorEngine(EngineOptions options = {});
  ~TranslatorEngine();
  TranslatorEngine(const TranslatorEngine&) = delete;
  TranslatorEngine& operator=(const TranslatorEngine&) = delete;

  // Loads a model directory (Hugging Face layout) under `name`. Everything is validated here,
  // not at first use. Throws Error: kAlreadyExists, kFileNotFound, kInvalidModel,
  // kUnsupportedModel, kInvalidArgument.
  void load_model(const std::string& name, const std::string& directory, ModelOptions options = {});
  // Unloads a model; requests already running on it finish first. Throws kUnknownModel.
  void unload_model(const std::string& name);
  std::vector<std::string> list_models() const;
  ModelInfo model_info(const std::string& name) const;

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Library version, "MAJOR.MINOR.PATCH".
const char* version() noexcept;

}  // namespace tolk
