// loaded_model.cc — see loaded_model.h.
#include "engine/loaded_model.h"

#include <fmt/format.h>

#include <filesystem>

#include "tolk/status.h"

namespace tolk::engine {

std::shared_ptr<LoadedModel> load_model_directory(const std::string& name,
                                                  const std::string& directory,
                                                  const ModelOptions& options,
                                                  const SharedModelFiles& shared) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw Error(StatusCode::kFileNotFound, fmt::format("{}: not a model directory", directory));
  if (options.compute_type != "float32")
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("compute_type '{}' is not supported yet (only float32)",
                            options.compute_type));
  if (options.device != "cpu")
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("device '{}' is not supported yet (only cpu)", options.device));
  if (options.max_queued_requests < 0)
    throw Error(StatusCode::kInvalidArgument, "max_queued_requests must be >= 0 (0 = no limit)");
  if (options.max_input_tokens < 0 || options.max_input_bytes <= 0)
    throw Error(StatusCode::kInvalidArgument,
                "max_input_tokens must be >= 0 (0 = the model's limit) and max_input_bytes > 0");
  if (options.max_sentences_per_request < 1)
    throw Error(StatusCode::kInvalidArgument, "max_sentences_per_request must be >= 1");

  auto m = std::make_shared<LoadedModel>();
  m->name = name;
  m->directory = directory;
  m->options = options;
  m->transformer = shared.transformer ? shared.transformer : model::Transformer::load(directory);
  text::TokenizerOptions tok_options;
  tok_options.legacy_behaviour = options.legacy_behaviour;
  m->tokenizer = shared.tokenizer ? shared.tokenizer : text::Tokenizer::load(directory, tok_options);
  const auto& config = m->transformer->config();
  if (m->tokenizer->size() > config.vocab_size)
    throw Error(StatusCode::kInvalidModel,
                fmt::format("{}: the tokenizer has {} ids but the model's vocab_size is {}",
                            directory, m->tokenizer->size(), config.vocab_size));
  m->generation_defaults =
      model::GenerationDefaults::load_optional(directory + "/generation_config.json");
  m->executor = scheduling::make_executor(options, m->transformer);
  return m;
}

InFlight::InFlight(std::shared_ptr<LoadedModel> m) : m_(std::move(m)) {
  const int64_t limit = m_->options.max_queued_requests;
  if (m_->in_flight.fetch_add(1) >= limit && limit > 0) {
    release();
    throw Error(StatusCode::kQueueFull,
                fmt::format("model '{}' already has {} requests queued or running "
                            "(max_queued_requests)", m_->name, limit));
  }
}

void InFlight::release() {
  std::lock_guard<std::mutex> lock(m_->idle_mutex);
  if (--m_->in_flight == 0) m_->idle.notify_all();
}

}  // namespace tolk::engine
