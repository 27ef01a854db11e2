// model_loader.cc — see tolk/model_loader.h.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "engine/model_registry.h"
#include "tolk/status.h"
#include "util/log.h"

namespace tolk {

std::shared_ptr<engine::LoadedModel> ModelLoader::Impl::get(const std::string& name) const {
  std::lock_guard<std::mutex> guard(mutex);
  auto it = models.find(name);
  if (it == models.end())
    throw Error(StatusCode::kUnknownModel, fmt::format("no model is loaded as '{}'", name));
  return it->second;
}

ModelLoader::ModelLoader() : impl_(std::make_unique<Impl>()) {}
ModelLoader::~ModelLoader() = default;

namespace {

std::string canonical_dir(const std::string& directory) {
  std::error_code ec;
  auto p = std::filesystem::canonical(directory, ec);
  return ec ? directory : p.string();
}

// Weights are shared between names only in the same converted format.
std::string weights_key(const std::string& dir, const ModelOptions& o) {
  return dir + "#" + model::compute_type_name(engine::resolved_compute_type(o));
}

std::string tokenizer_key(const std::string& dir, const ModelOptions& o) {
  return dir + (o.legacy_behaviour ? (*o.legacy_behaviour ? "#legacy" : "#new") : "#default");
}

}  // namespace

void ModelLoader::load(const std::string& name, const std::string& directory, ModelOptions options) {
  if (name.empty()) throw Error(StatusCode::kInvalidArgument, "model name is empty");
  const std::string dir = canonical_dir(directory);
  engine::SharedModelFiles shared;
  {
    std::lock_guard<std::mutex> guard(impl_->mutex);
    if (impl_->models.count(name))
      throw Error(StatusCode::kAlreadyExists, fmt::format("a model is already loaded as '{}'", name));
    if (auto it = impl_->transformers.find(weights_key(dir, options)); it != impl_->transformers.end())
      shared.transformer = it->second.lock();
    if (auto it = impl_->tokenizers.find(tokenizer_key(dir, options)); it != impl_->tokenizers.end())
      shared.tokenizer = it->second.lock();
  }
  // Slow (reads the weights unless shared): outside the lock.
  auto loaded = engine::load_model_directory(name, directory, options, shared);
  std::lock_guard<std::mutex> guard(impl_->mutex);
  if (!impl_->models.emplace(name, loaded).second)
    throw Error(StatusCode::kAlreadyExists, fmt::format("a model is already loaded as '{}'", name));
  impl_->transformers[weights_key(dir, options)] = loaded->transformer;
  impl_->tokenizers[tokenizer_key(dir, options)] = loaded->tokenizer;
  log::info("loaded model '{}' from {}{}", name, directory,
            shared.transformer ? " (weights shared with another name)" : "");
}

void ModelLoader::unload(const std::string& name, UnloadPolicy policy) {
  std::shared_ptr<engine::LoadedModel> m;
  {
    std::lock_guard<std::mutex> guard(impl_->mutex);
    auto it = impl_->models.find(name);
    if (it == impl_->models.end())
      throw Error(StatusCode::kUnknownModel, fmt::format("no model is loaded as '{}'", name));
    m = it->second;
    impl_->models.erase(it);
  }
  if (policy == UnloadPolicy::kCancel) m->cancel_all = true;
  std::unique_lock<std::mutex> lock(m->idle_mutex);
  m->idle.wait(lock, [&] { return m->unfinished.load() == 0; });
  log::info("unloaded model '{}'", name);
}

std::vector<std::string> ModelLoader::list() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  std::vector<std::string> names;
  for (const auto& [name, m] : impl_->models) names.push_back(name);
  return names;
}

ModelInfo ModelLoader::info(const std::string& name) const {
  auto m = impl_->get(name);
  ModelInfo info;
  info.name = m->name;
  info.directory = m->directory;
  info.config_json = m->transformer->config().to_json().dump(2);
  info.languages = m->tokenizer->languages();
  info.parameters = m->transformer->weights().parameter_count();
  info.weight_bytes = m->transformer->weights().byte_size();
  info.compute_type = model::compute_type_name(m->transformer->compute_type());
  return info;
}

std::vector<ModelMemory> ModelLoader::memory_report() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  std::vector<ModelMemory> out;
  for (const auto& [name, m] : impl_->models) {
    ModelMemory r;
    r.name = name;
    r.directory = m->directory;
    r.mode = m->options.mode;
    r.weight_bytes = m->transformer->weights().byte_size();
    r.in_flight = m->in_flight.load();
    for (const auto& [other, o] : impl_->models)
      if (other != name && o->transformer == m->transformer) r.shared_with.push_back(other);
    out.push_back(std::move(r));
  }
  return out;
}

int64_t ModelLoader::total_weight_bytes() const {
  std::lock_guard<std::mutex> guard(impl_->mutex);
  std::set<const model::Transformer*> seen;
  int64_t total = 0;
  for (const auto& [name, m] : impl_->models)
    if (seen.insert(m->transformer.get()).second) total += m->transformer->weights().byte_size();
  return total;
}

}  // namespace tolk
