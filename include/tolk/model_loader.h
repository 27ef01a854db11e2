// tolk/model_loader.h — the registry of loaded models, owned by a TranslatorEngine.
//
//   engine.models().load("fr", "/models/nllb-600M", options);
//   engine.models().load("fr-bulk", "/models/nllb-600M", pool_options);  // same weights, shared
//   for (const auto& m : engine.models().memory_report()) ...
//
// Loading the same directory (after resolving symlinks) under two names shares one copy of the
// weights and tokenizer between them; each name keeps its own ModelOptions (mode, limits).
// Every method is safe to call from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tolk/options.h"

namespace tolk {

// What `tolk info` prints: the facts of a loaded model.
struct ModelInfo {
  std::string name;
  std::string directory;
  std::string config_json;               // the parsed config, as JSON text
  std::vector<std::string> languages;    // language codes the tokenizer knows
  int64_t parameters = 0;                // unique parameters (tied weights counted once)
  int64_t weight_bytes = 0;              // bytes of weights held in memory
  // The format its products run in on this machine: "float32", "bfloat16" or "int8" (after
  // ModelOptions::compute_type's "auto" and any fallback).
  std::string compute_type;
};

struct ModelMemory {
  std::string name;
  std::string directory;
  ExecutionMode mode = ExecutionMode::kContinuous;
  int64_t weight_bytes = 0;              // the weights this name uses (shared or not)
  std::vector<std::string> shared_with;  // other names using the very same weights
  int64_t in_flight = 0;                 // requests running or queued on it now
};

// How unload treats requests already running or queued on the model.
enum class UnloadPolicy {
  kWait,    // let them finish; unload returns when they have
  kCancel,  // end them with kCancelled at their next step, then return
};

class ModelLoader {
 public:
  ModelLoader();
  ~ModelLoader();
  ModelLoader(const ModelLoader&) = delete;
  ModelLoader& operator=(const ModelLoader&) = delete;

  // Loads and validates a model directory under `name`. Throws Error: kAlreadyExists,
  // kFileNotFound, kInvalidModel, kUnsupportedModel, kInvalidArgument.
  void load(const std::string& name, const std::string& directory, ModelOptions options = {});
  // New requests for `name` fail with kUnknownModel at once; returns once the requests already
  // on it have ended. Throws kUnknownModel.
  void unload(const std::string& name, UnloadPolicy policy = UnloadPolicy::kWait);
  std::vector<std::string> list() const;
  ModelInfo info(const std::string& name) const;
  // One entry per loaded name. Bytes of weights shared by several names appear in each of them;
  // total_weight_bytes() counts each copy once.
  std::vector<ModelMemory> memory_report() const;
  int64_t total_weight_bytes() const;

  struct Impl;  // src/engine/model_registry.h
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tolk
