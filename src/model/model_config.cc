// model_config.cc — see model_config.h.
#include "model/model_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tolk/status.h"

namespace tolk::model {
namespace {

using nlohmann::json;

// Real configs are a few KB. The cap keeps a hostile file (e.g. megabytes of '[') from turning
// into a huge DOM.
constexpr uint64_t kMaxConfigFileBytes = 1 << 20;

[[noreturn]] void fail(StatusCode code, const std::string& source, const std::string& field, const std::string& what) {
  throw Error(code, source + ": " + field + ": " + what);
}

// A short rendering of a JSON value for error messages.
std::string show(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Reads a small file. Returns false if it does not exist; throws for anything else unusual.
bool read_small_file(const std::string& path, std::string* text) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return false;
    throw Error(StatusCode::kFileNotFound, path + ": cannot access (" + std::strerror(err) + ")");
  }
  if (!S_ISREG(st.st_mode)) throw Error(StatusCode::kFileNotFound, path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxConfigFileBytes)
    throw Error(StatusCode::kInvalidModel, path + ": " + std::to_string(st.st_size) + " bytes, larger than the " +
                                               std::to_string(kMaxConfigFileBytes) + "-byte limit for a config file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in) throw Error(StatusCode::kFileNotFound, path + ": cannot read");
  *text = buf.str();
  return true;
}

json parse_object(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(StatusCode::kInvalidModel, source + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw Error(StatusCode::kInvalidModel, source + ": top level is not a JSON object");
  return j;
}

// `v` as an int64, or a kInvalidModel naming `field`.
int64_t int_value(const json& v, const char* field, const std::string& source) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail(StatusCode::kInvalidModel, source, field, "integer too large (got " + show(v) + ")");
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  fail(StatusCode::kInvalidModel, source, field, "must be an integer (got " + show(v) + ")");
}

// The integer at j[field]; nullopt when absent (or null, if `null_is_absent`).
std::optional<int64_t> get_int(const json& j, const char* field, const std::string& source, bool null_is_absent) {
  auto it = j.find(field);
  if (it == j.end() || (null_is_absent && it->is_null())) return std::nullopt;
  return int_value(*it, field, source);
}

int64_t in_range(int64_t v, int64_t lo, int64_t hi, const char* field, const std::string& source) {
  if (v < lo || v > hi)
    fail(StatusCode::kInvalidModel, source, field,
         "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "] (got " + std::to_string(v) + ")");
  return v;
}

int64_t required_int(const json& j, const char* field, const std::string& source, int64_t lo, int64_t hi) {
  std::optional<int64_t> v = get_int(j, field, source, false);
  if (!v) fail(StatusCode::kInvalidModel, source, field, "missing (required)");
  return in_range(*v, lo, hi, field, source);
}

int64_t optional_int(const json& j, const char* field, const std::string& source, int64_t dflt, int64_t lo, int64_t hi) {
  return in_range(get_int(j, field, source, false).value_or(dflt), lo, hi, field, source);
}

bool optional_bool(const json& j, const char* field, const std::string& source, bool dflt) {
  auto it = j.find(field);
  if (it == j.end()) return dflt;
  if (!it->is_boolean()) fail(StatusCode::kInvalidModel, source, field, "must be true or false (got " + show(*it) + ")");
  return it->get<bool>();
}

// Flags from the BART family that M2M100 never sets (or always sets) and that would change the
// forward pass. tolk implements exactly M2M100, so a deviating value is refused, not ignored.
struct FixedFlag {
  const char* field;
  bool required;
  const char* why;
};
constexpr FixedFlag kFixedFlags[] = {
    {"is_encoder_decoder", true, "M2M100 is an encoder-decoder"},
    {"normalize_before", true, "post-LayerNorm layers"},
    {"add_final_layer_norm", true, "no final encoder/decoder LayerNorm"},
    {"layernorm_embedding", false, "an embedding LayerNorm"},
    {"normalize_embedding", false, "an embedding LayerNorm"},
    {"static_position_embeddings", true, "learned position embeddings"},
    {"add_bias_logits", false, "a bias on the output logits"},
    {"tie_encoder_decoder", false, "encoder and decoder sharing weights"},
};

constexpr struct {
  const char* name;
  Activation activation;
} kActivations[] = {{"relu", Activation::kRelu},       {"gelu", Activation::kGelu},
                    {"gelu_new", Activation::kGeluTanh}, {"gelu_pytorch_tanh", Activation::kGeluTanh},
                    {"silu", Activation::kSilu},       {"swish", Activation::kSilu}};

void check_model_type(const json& j, const std::string& source) {
  auto it = j.find("model_type");
  if (it != j.end()) {
    if (!it->is_string()) fail(StatusCode::kInvalidModel, source, "model_type", "must be a string (got " + show(*it) + ")");
    if (*it != "m2m_100")
      fail(StatusCode::kUnsupportedModel, source, "model_type",
           "'" + it->get<std::string>() + "' is not supported (tolk serves m2m_100 / NLLB models)");
    return;
  }
  auto arch = j.find("architectures");
  if (arch != j.end() && arch->is_array()) {
    for (const json& a : *arch)
      if (a == "M2M100ForConditionalGeneration") return;
  }
  fail(StatusCode::kUnsupportedModel, source, "model_type",
       "missing, and architectures does not name M2M100ForConditionalGeneration");
}

}  // namespace

const char* activation_name(Activation activation) noexcept {
  switch (activation) {
    case Activation::kRelu: return "relu";
    case Activation::kGelu: return "gelu";
    case Activation::kGeluTanh: return "gelu_new";
    case Activation::kSilu: return "silu";
  }
  return "unknown";
}

ModelConfig ModelConfig::load(const std::string& config_json_path) {
  std::string text;
  if (!read_small_file(config_json_path, &text))
    throw Error(StatusCode::kFileNotFound, config_json_path + ": no such file");
  return parse(parse_object(text, config_json_path), config_json_path);
}

ModelConfig ModelConfig::parse(const json& j, const std::string& src) {
  if (!j.is_object()) throw Error(StatusCode::kInvalidModel, src + ": top level is not a JSON object");
  check_model_type(j, src);
  for (const FixedFlag& f : kFixedFlags) {
    auto it = j.find(f.field);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_boolean()) fail(StatusCode::kInvalidModel, src, f.field, "must be true or false (got " + show(*it) + ")");
    if (it->get<bool>() != f.required)
      fail(StatusCode::kUnsupportedModel, src, f.field,
           std::string(it->get<bool>() ? "true" : "false") + " means " + f.why + ", which M2M100 and tolk do not have");
  }
  // M2M100 uses torch's default LayerNorm eps; another value would be silently wrong.
  if (auto it = j.find("layer_norm_eps"); it != j.end() && !it->is_null()) {
    if (!it->is_number()) fail(StatusCode::kInvalidModel, src, "layer_norm_eps", "must be a number (got " + show(*it) + ")");
    if (std::fabs(it->get<double>() - 1e-5) > 1e-12)
      fail(StatusCode::kUnsupportedModel, src, "layer_norm_eps", show(*it) + " is not supported (only 1e-05)");
  }

  ModelConfig c;
  c.model_type = "m2m_100";
  c.vocab_size = required_int(j, "vocab_size", src, 1, kMaxVocab);
  // Below 4 the sinusoidal position table divides by (d_model/2 - 1) = 0.
  c.d_model = required_int(j, "d_model", src, 4, kMaxDModel);
  c.encoder_layers = required_int(j, "encoder_layers", src, 1, kMaxLayers);
  c.decoder_layers = required_int(j, "decoder_layers", src, 1, kMaxLayers);
  c.encoder_attention_heads = required_int(j, "encoder_attention_heads", src, 1, c.d_model);
  c.decoder_attention_heads = required_int(j, "decoder_attention_heads", src, 1, c.d_model);
  for (auto [field, heads] : {std::pair{"encoder_attention_heads", c.encoder_attention_heads},
                              std::pair{"decoder_attention_heads", c.decoder_attention_heads}}) {
    if (c.d_model % heads != 0)
      fail(StatusCode::kInvalidModel, src, field,
           std::to_string(heads) + " does not divide d_model " + std::to_string(c.d_model));
  }
  c.encoder_ffn_dim = required_int(j, "encoder_ffn_dim", src, 1, kMaxFfnDim);
  c.decoder_ffn_dim = required_int(j, "decoder_ffn_dim", src, 1, kMaxFfnDim);
  c.max_position_embeddings = optional_int(j, "max_position_embeddings", src, 1024, 1, kMaxPositions);
  const int64_t last_id = c.vocab_size - 1;
  c.pad_token_id = optional_int(j, "pad_token_id", src, 1, 0, last_id);
  c.bos_token_id = optional_int(j, "bos_token_id", src, 0, 0, last_id);
  c.eos_token_id = optional_int(j, "eos_token_id", src, 2, 0, last_id);
  c.decoder_start_token_id = optional_int(j, "decoder_start_token_id", src, 2, 0, last_id);
  c.scale_embedding = optional_bool(j, "scale_embedding", src, true);
  c.tie_word_embeddings = optional_bool(j, "tie_word_embeddings", src, true);

  if (auto it = j.find("activation_function"); it != j.end()) {
    if (!it->is_string())
      fail(StatusCode::kInvalidModel, src, "activation_function", "must be a string (got " + show(*it) + ")");
    bool found = false;
    for (const auto& a : kActivations) {
      if (*it == a.name) {
        c.activation = a.activation;
        found = true;
      }
    }
    if (!found)
      fail(StatusCode::kUnsupportedModel, src, "activation_function",
           "'" + it->get<std::string>() + "' is not supported (relu, gelu, gelu_new, gelu_pytorch_tanh, silu, swish)");
  }
  if (auto it = j.find("torch_dtype"); it != j.end() && it->is_string()) c.torch_dtype = it->get<std::string>();
  return c;
}

json ModelConfig::to_json() const {
  return json{{"model_type", model_type},
              {"vocab_size", vocab_size},
              {"d_model", d_model},
              {"encoder_layers", encoder_layers},
              {"decoder_layers", decoder_layers},
              {"encoder_attention_heads", encoder_attention_heads},
              {"decoder_attention_heads", decoder_attention_heads},
              {"encoder_ffn_dim", encoder_ffn_dim},
              {"decoder_ffn_dim", decoder_ffn_dim},
              {"max_position_embeddings", max_position_embeddings},
              {"pad_token_id", pad_token_id},
              {"bos_token_id", bos_token_id},
              {"eos_token_id", eos_token_id},
              {"decoder_start_token_id", decoder_start_token_id},
              {"scale_embedding", scale_embedding},
              {"tie_word_embeddings", tie_word_embeddings},
              {"activation_function", activation_name(activation)},
              {"torch_dtype", torch_dtype}};
}

std::string ModelConfig::describe() const {
  std::ostringstream s;
  s << model_type << " d_model=" << d_model << " layers=" << encoder_layers << "/" << decoder_layers
    << " heads=" << encoder_attention_heads << "/" << decoder_attention_heads << " ffn=" << encoder_ffn_dim << "/"
    << decoder_ffn_dim << " vocab=" << vocab_size << " max_positions=" << max_position_embeddings
    << " activation=" << activation_name(activation) << " scale_embedding=" << (scale_embedding ? "true" : "false")
    << " tied=" << (tie_word_embeddings ? "true" : "false");
  if (!torch_dtype.empty()) s << " dtype=" << torch_dtype;
  return s.str();
}

namespace {

using IntField = std::optional<int64_t> GenerationDefaults::*;
using RealField = std::optional<double> GenerationDefaults::*;

// Upper bounds keep a generation default from sizing an absurd allocation later.
constexpr struct {
  const char* name;
  IntField field;
  int64_t lo, hi;
} kIntFields[] = {
    {"max_length", &GenerationDefaults::max_length, 1, kMaxPositions},
    {"max_new_tokens", &GenerationDefaults::max_new_tokens, 1, kMaxPositions},
    {"min_length", &GenerationDefaults::min_length, 0, kMaxPositions},
    {"min_new_tokens", &GenerationDefaults::min_new_tokens, 0, kMaxPositions},
    {"num_beams", &GenerationDefaults::num_beams, 1, 1024},
    {"no_repeat_ngram_size", &GenerationDefaults::no_repeat_ngram_size, 0, 1024},
    {"top_k", &GenerationDefaults::top_k, 0, kMaxVocab},
    {"bos_token_id", &GenerationDefaults::bos_token_id, 0, kMaxVocab - 1},
    {"pad_token_id", &GenerationDefaults::pad_token_id, 0, kMaxVocab - 1},
    {"decoder_start_token_id", &GenerationDefaults::decoder_start_token_id, 0, kMaxVocab - 1},
    {"forced_bos_token_id", &GenerationDefaults::forced_bos_token_id, 0, kMaxVocab - 1},
    {"forced_eos_token_id", &GenerationDefaults::forced_eos_token_id, 0, kMaxVocab - 1},
};

constexpr struct {
  const char* name;
  RealField field;
  double lo, hi;
} kRealFields[] = {
    {"length_penalty", &GenerationDefaults::length_penalty, -1e6, 1e6},
    {"repetition_penalty", &GenerationDefaults::repetition_penalty, 1e-6, 1e6},
    {"temperature", &GenerationDefaults::temperature, 0.0, 1e6},
    {"top_p", &GenerationDefaults::top_p, 0.0, 1.0},
};

}  // namespace

GenerationDefaults GenerationDefaults::load_optional(const std::string& path) {
  std::string text;
  if (!read_small_file(path, &text)) return GenerationDefaults{};
  return parse(parse_object(text, path), path);
}

GenerationDefaults GenerationDefaults::parse(const json& j, const std::string& src) {
  if (!j.is_object()) throw Error(StatusCode::kInvalidModel, src + ": top level is not a JSON object");
  GenerationDefaults g;
  for (const auto& f : kIntFields) {
    if (auto v = get_int(j, f.name, src, true)) g.*f.field = in_range(*v, f.lo, f.hi, f.name, src);
  }
  for (const auto& f : kRealFields) {
    auto it = j.find(f.name);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_number()) fail(StatusCode::kInvalidModel, src, f.name, "must be a number (got " + show(*it) + ")");
    const double v = it->get<double>();
    if (!std::isfinite(v) || v < f.lo || v > f.hi)
      fail(StatusCode::kInvalidModel, src, f.name,
           "must be in [" + json(f.lo).dump() + ", " + json(f.hi).dump() + "] (got " + show(*it) + ")");
    g.*f.field = v;
  }
  // eos_token_id may be a list in newer transformers; tolk stops on one id only.
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
    if (it->is_array()) {
      if (it->size() != 1)
        fail(it->empty() ? StatusCode::kInvalidModel : StatusCode::kUnsupportedModel, src, "eos_token_id",
             "a list of " + std::to_string(it->size()) + " ids is not supported (exactly one)");
    }
    const json& id = it->is_array() ? it->at(0) : *it;
    g.eos_token_id = in_range(int_value(id, "eos_token_id", src), 0, kMaxVocab - 1, "eos_token_id", src);
  }
  if (auto it = j.find("do_sample"); it != j.end() && !it->is_null()) g.do_sample = optional_bool(j, "do_sample", src, false);
  if (auto it = j.find("early_stopping"); it != j.end() && !it->is_null()) {
    if (*it == "never")
      fail(StatusCode::kUnsupportedModel, src, "early_stopping", "\"never\" is not supported (only true or false)");
    g.early_stopping = optional_bool(j, "early_stopping", src, false);
  }
  return g;
}

void GenerationDefaults::check_against(const ModelConfig& config, const std::string& src) const {
  const std::pair<const char*, const std::optional<int64_t>*> ids[] = {
      {"bos_token_id", &bos_token_id},
      {"eos_token_id", &eos_token_id},
      {"pad_token_id", &pad_token_id},
      {"decoder_start_token_id", &decoder_start_token_id},
      {"forced_bos_token_id", &forced_bos_token_id},
      {"forced_eos_token_id", &forced_eos_token_id}};
  for (const auto& [name, id] : ids) {
    if (*id) in_range(**id, 0, config.vocab_size - 1, name, src);
  }
}

json GenerationDefaults::to_json() const {
  json out = json::object();
  for (const auto& f : kIntFields)
    if (this->*f.field) out[f.name] = *(this->*f.field);
  if (eos_token_id) out["eos_token_id"] = *eos_token_id;
  for (const auto& f : kRealFields)
    if (this->*f.field) out[f.name] = *(this->*f.field);
  if (do_sample) out["do_sample"] = *do_sample;
  if (early_stopping) out["early_stopping"] = *early_stopping;
  return out;
}

}  // namespace tolk::model
