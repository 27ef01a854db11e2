// model_registry.h — ModelLoader's state: name → LoadedModel, and the weights shared between
// names loaded from the same directory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/loaded_model.h"
#include "tolk/model_loader.h"

namespace tolk {

struct ModelLoader::Impl {
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<engine::LoadedModel>> models;
  // Keyed by canonical directory (+ tokenizer layout); weak, so the last unload frees them.
  std::map<std::string, std::weak_ptr<const model::Transformer>> transformers;
  std::map<std::string, std::weak_ptr<const text::Tokenizer>> tokenizers;

  // Throws kUnknownModel.
  std::shared_ptr<engine::LoadedModel> get(const std::string& name) const;
};

}  // namespace tolk
