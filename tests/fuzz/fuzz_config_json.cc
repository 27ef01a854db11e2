// fuzz_config_json.cc — libFuzzer target for config.json / generation_config.json loading
// (model/model_config.cc).
//
// The input is the file's bytes. It is loaded both as config.json (ModelConfig::load) and as
// generation_config.json (GenerationDefaults::load_optional), and when both succeed the one is
// checked against the other, as the model loader does. tolk::Error is the documented failure;
// any other exception escaping, or a "successful" config that breaks the bounds model_config.h
// promises, is a bug and aborts.
#include <cstdint>
#include <cstdlib>
#include <optional>

#include <nlohmann/json.hpp>

#include "fuzz_common.h"
#include "model/model_config.h"
#include "tolk/status.h"

namespace {

using tolk::model::GenerationDefaults;
using tolk::model::ModelConfig;

void check_invariants(const ModelConfig& c) {
  auto in = [](int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
  bool ok = c.model_type == "m2m_100" && in(c.vocab_size, 1, tolk::model::kMaxVocab) &&
            in(c.d_model, 4, tolk::model::kMaxDModel) && in(c.encoder_layers, 1, tolk::model::kMaxLayers) &&
            in(c.decoder_layers, 1, tolk::model::kMaxLayers) && in(c.encoder_ffn_dim, 1, tolk::model::kMaxFfnDim) &&
            in(c.decoder_ffn_dim, 1, tolk::model::kMaxFfnDim) &&
            in(c.max_position_embeddings, 1, tolk::model::kMaxPositions) &&
            in(c.encoder_attention_heads, 1, c.d_model) && in(c.decoder_attention_heads, 1, c.d_model) &&
            c.d_model % c.encoder_attention_heads == 0 && c.d_model % c.decoder_attention_heads == 0;
  for (int64_t id : {c.pad_token_id, c.bos_token_id, c.eos_token_id, c.decoder_start_token_id})
    ok = ok && in(id, 0, c.vocab_size - 1);
  if (!ok) std::abort();
  // Both renderings must work on anything parse() accepted (dump() throws on invalid UTF-8).
  (void)c.to_json().dump();
  (void)c.describe();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tolk_fuzz::MemFile file("config.json");
  file.write(data, size);
  std::optional<ModelConfig> config;
  std::optional<GenerationDefaults> generation;
  try {
    config = ModelConfig::load(file.path());
    check_invariants(*config);
  } catch (const tolk::Error&) {
  }
  try {
    generation = GenerationDefaults::load_optional(file.path());
    (void)generation->to_json().dump();
  } catch (const tolk::Error&) {
  }
  if (config && generation) {
    try {
      generation->check_against(*config, "generation_config.json");
    } catch (const tolk::Error&) {
    }
  }
  return 0;
}
