// loaded_model.cc — see loaded_model.h.
#include "engine/loaded_model.h"

#include <fmt/format.h>

#include <torch/types.h>

#include <filesystem>
#include <optional>

#include "model/compute_type.h"
#include "tolk/status.h"
#include "util/log.h"

namespace tolk::engine {
namespace {

// Only the CPU is supported by the LibTorch tolk is built against here (Debian's is CPU-only);
// a device string LibTorch does not parse is a bad argument, a valid but unavailable one too.
void check_device(const std::string& device) {
  if (device == "cpu") return;
  std::optional<torch::Device> parsed;
  try {
    parsed.emplace(device);
  } catch (const std::exception&) {
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("unknown device '{}' (expected cpu, or cuda[:N] on a CUDA build)", device));
  }
  if (parsed->is_cpu()) return;
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("device '{}' is not available: this build runs on the CPU only", device));
}

}  // namespace

model::ComputeType resolved_compute_type(const ModelOptions& options) {
  return model::resolve_compute_type(options.compute_type).type;
}

std::shared_ptr<LoadedModel> load_model_directory(const std::string& name,
                                                  const std::string& directory,
                                                  const ModelOptions& options,
                                                  const SharedModelFiles& shared) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw Error(StatusCode::kFileNotFound, fmt::format("{}: not a model directory", directory));
  const model::ComputeChoice compute = model::resolve_compute_type(options.compute_type);
  check_device(options.device);
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
  if (!shared.transformer && !compute.reason.empty())
    log::info("model '{}': compute type {} ({})", name, model::compute_type_name(compute.type),
              compute.reason);
  m->transformer = shared.transformer ? shared.transformer
                                      : model::Transformer::load(directory, compute.type);
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
    --m_->in_flight;
    throw Error(StatusCode::kQueueFull,
                fmt::format("model '{}' already has {} requests queued or running "
                            "(max_queued_requests)", m_->name, limit));
  }
  ++m_->unfinished;
}

void InFlight::release() {
  if (released_) return;
  released_ = true;
  --m_->in_flight;
}

InFlight::~InFlight() {
  release();
  std::lock_guard<std::mutex> lock(m_->idle_mutex);
  if (--m_->unfinished == 0) m_->idle.notify_all();
}

}  // namespace tolk::engine
