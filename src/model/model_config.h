// model_config.h — the parts of a Hugging Face M2M100/NLLB config.json (and
// generation_config.json) that tolk's math depends on, validated before anything is allocated.
//
// Every size is bounded (see the k*Max constants) so that later allocations sized from the config
// cannot explode on a hostile or corrupt file, and every flag that would change the forward pass
// in a way tolk does not implement is refused rather than ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace tolk::model {

// Feed-forward activation (config "activation_function").
enum class Activation {
  kRelu,      // "relu"
  kGelu,      // "gelu": exact, 0.5·x·(1 + erf(x/√2))
  kGeluTanh,  // "gelu_new", "gelu_pytorch_tanh": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  kSilu,      // "silu", "swish": x·sigmoid(x)
};

// Canonical name of an activation ("relu", "gelu", "gelu_new", "silu").
const char* activation_name(Activation activation) noexcept;

// Bounds on config sizes.
inline constexpr int64_t kMaxDModel = 65536;
inline constexpr int64_t kMaxLayers = 1024;
inline constexpr int64_t kMaxVocab = 10'000'000;
inline constexpr int64_t kMaxFfnDim = 1'000'000;
inline constexpr int64_t kMaxPositions = 1'000'000;

struct ModelConfig {
  std::string model_type;  // always "m2m_100" after a successful parse
  int64_t vocab_size = 0;
  int64_t d_model = 0;
  int64_t encoder_layers = 0;
  int64_t decoder_layers = 0;
  int64_t encoder_attention_heads = 0;
  int64_t decoder_attention_heads = 0;
  int64_t encoder_ffn_dim = 0;
  int64_t decoder_ffn_dim = 0;
  // Optional in config.json; the defaults are Hugging Face M2M100Config's.
  int64_t max_position_embeddings = 1024;
  int64_t pad_token_id = 1;
  int64_t bos_token_id = 0;
  int64_t eos_token_id = 2;
  int64_t decoder_start_token_id = 2;
  bool scale_embedding = true;  // embeddings × sqrt(d_model) when true
  bool tie_word_embeddings = true;
  Activation activation = Activation::kRelu;
  std::string torch_dtype;  // informational ("float32", …); empty when absent

  int64_t encoder_head_dim() const noexcept { return d_model / encoder_attention_heads; }
  int64_t decoder_head_dim() const noexcept { return d_model / decoder_attention_heads; }

  // Reads and validates `config_json_path`. Throws tolk::Error: kFileNotFound if missing or
  // unreadable; kInvalidModel for corrupt JSON, a missing required field, a wrong JSON type or an
  // out-of-range value; kUnsupportedModel for another architecture, an unsupported activation, or a
  // flag that changes the math in a way tolk does not implement. Messages name the file and field.
  static ModelConfig load(const std::string& config_json_path);
  // Validates an already parsed config; `source_name` prefixes error messages.
  static ModelConfig parse(const nlohmann::json& json, const std::string& source_name);

  // The validated fields as a JSON object (for `tolk info`).
  nlohmann::json to_json() const;
  // One line: "m2m_100 d_model=64 layers=2/2 heads=4/4 ffn=128/128 vocab=454 …".
  std::string describe() const;
};

// Defaults from generation_config.json. Every field is empty unless the file sets it; JSON null
// counts as unset. The same keys in config.json (legacy, e.g. NLLB's "max_length": 200) can be
// read with parse() on that document; precedence is the caller's decision.
struct GenerationDefaults {
  std::optional<int64_t> max_length, max_new_tokens, min_length, min_new_tokens;
  std::optional<int64_t> num_beams, no_repeat_ngram_size, top_k;
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id, decoder_start_token_id;
  std::optional<int64_t> forced_bos_token_id, forced_eos_token_id;
  std::optional<double> length_penalty, repetition_penalty, temperature, top_p;
  std::optional<bool> do_sample, early_stopping;

  // Absent file → all fields empty. Throws kInvalidModel for corrupt JSON, a wrong type or an
  // out-of-range value; kUnsupportedModel for an eos_token_id list of more than one id, or
  // early_stopping "never" (tolk implements only true/false); kFileNotFound if it exists but
  // cannot be read.
  static GenerationDefaults load_optional(const std::string& generation_config_path);
  static GenerationDefaults parse(const nlohmann::json& json, const std::string& source_name);

  // Throws kInvalidModel if a token id set here is outside [0, config.vocab_size).
  void check_against(const ModelConfig& config, const std::string& source_name) const;

  nlohmann::json to_json() const;  // only the fields that are set
};

}  // namespace tolk::model
