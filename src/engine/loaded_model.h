// loaded_model.h — everything the engine keeps for one loaded model.
//
// Immutable after load except the executor, which is itself thread-safe. Requests hold a
// shared_ptr, so an unload never pulls a model from under a running request.
#pragma once

#include <memory>
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
};

// Loads and validates a model directory completely (config, weights, tokenizer, generation
// config) and builds its executor.
std::shared_ptr<LoadedModel> load_model_directory(const std::string& name,
                                                  const std::string& directory,
                                                  const ModelOptions& options);

}  // namespace tolk::engine
