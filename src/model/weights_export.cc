// weights_export.cc — see weights_export.h.
#include "model/weights_export.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/safetensors_reader.h"
#include "tolk/status.h"

namespace tolk::model {
namespace {

class Exporter {
 public:
  explicit Exporter(torch::ScalarType dtype) : dtype_(dtype) {}

  void add(const std::string& name, const torch::Tensor& t) {
    out_.emplace_back(name, t.detach().to(torch::kCPU, dtype_).contiguous().clone());
  }
  void linear(const std::string& prefix, const torch::Tensor& w, const torch::Tensor& b) {
    add(prefix + ".weight", w);
    add(prefix + ".bias", b);
  }
  void linear(const std::string& prefix, const Linear& l) { linear(prefix, l.weight, l.bias); }
  void norm(const std::string& prefix, const LayerNorm& n) {
    add(prefix + ".weight", n.weight);
    add(prefix + ".bias", n.bias);
  }
  // A fused [k·D, D] projection back into k separate [D, D] ones.
  void split(const std::vector<std::string>& prefixes, const Linear& fused) {
    const int64_t k = static_cast<int64_t>(prefixes.size());
    auto w = fused.weight.chunk(k, 0);
    auto b = fused.bias.chunk(k, 0);
    for (int64_t i = 0; i < k; ++i) linear(prefixes[i], w[i], b[i]);
  }
  std::vector<std::pair<std::string, torch::Tensor>> take() { return std::move(out_); }

 private:
  torch::ScalarType dtype_;
  std::vector<std::pair<std::string, torch::Tensor>> out_;
};

DType raw_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return DType::kF32;
    case torch::kFloat16: return DType::kF16;
    case torch::kBFloat16: return DType::kBF16;
    default: throw Error(StatusCode::kInvalidArgument, "save_hf_safetensors: dtype must be "
                         "float32, float16 or bfloat16");
  }
}

// The parts encoder and decoder layers share: self-attention and the feed-forward block.
template <typename Layer>
void export_self_attention_and_ffn(Exporter& e, const std::string& p, const Layer& l) {
  e.split({p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"}, l.self_qkv);
  e.linear(p + "self_attn.out_proj", l.self_out);
  e.norm(p + "self_attn_layer_norm", l.self_attn_norm);
  e.linear(p + "fc1", l.fc1);
  e.linear(p + "fc2", l.fc2);
  e.norm(p + "final_layer_norm", l.ffn_norm);
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> export_hf_tensors(const ModelWeights& w,
                                                                      const ModelConfig& c,
                                                                      torch::ScalarType dtype) {
  torch::NoGradGuard no_grad;
  Exporter e(dtype);
  e.add("model.shared.weight", w.embed_tokens);
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    const auto& l = w.encoder_layers.at(i);
    export_self_attention_and_ffn(e, fmt::format("model.encoder.layers.{}.", i), l);
  }
  e.norm("model.encoder.layer_norm", w.encoder_norm);
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    const auto& l = w.decoder_layers.at(i);
    const std::string p = fmt::format("model.decoder.layers.{}.", i);
    export_self_attention_and_ffn(e, p, l);
    e.linear(p + "encoder_attn.q_proj", l.cross_q);
    e.split({p + "encoder_attn.k_proj", p + "encoder_attn.v_proj"}, l.cross_kv);
    e.linear(p + "encoder_attn.out_proj", l.cross_out);
    e.norm(p + "encoder_attn_layer_norm", l.cross_attn_norm);
  }
  e.norm("model.decoder.layer_norm", w.decoder_norm);
  const bool tied = w.lm_head.defined() && w.lm_head.is_same(w.embed_tokens);
  if (!tied) e.add("lm_head.weight", w.lm_head);
  return e.take();
}

void save_hf_safetensors(const ModelWeights& weights, const ModelConfig& config,
                         torch::ScalarType dtype, const std::string& path) {
  const DType raw = raw_dtype(dtype);
  auto tensors = export_hf_tensors(weights, config, dtype);
  std::vector<std::pair<std::string, RawTensor>> raws;
  raws.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    RawTensor r;
    r.dtype = raw;
    r.shape = t.sizes().vec();
    r.data = t.data_ptr();
    raws.emplace_back(name, std::move(r));
  }
  write_safetensors(path, raws, {{"format", "pt"}});
}

std::string hf_config_json(const ModelConfig& c) {
  nlohmann::ordered_json j;
  j["activation_dropout"] = 0.0;
  j["activation_function"] = activation_name(c.activation);
  j["architectures"] = {"M2M100ForConditionalGeneration"};
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = c.bos_token_id;
  j["d_model"] = c.d_model;
  j["decoder_attention_heads"] = c.decoder_attention_heads;
  j["decoder_ffn_dim"] = c.decoder_ffn_dim;
  j["decoder_layerdrop"] = 0.0;
  j["decoder_layers"] = c.decoder_layers;
  j["decoder_start_token_id"] = c.decoder_start_token_id;
  j["dropout"] = 0.0;
  j["encoder_attention_heads"] = c.encoder_attention_heads;
  j["encoder_ffn_dim"] = c.encoder_ffn_dim;
  j["encoder_layerdrop"] = 0.0;
  j["encoder_layers"] = c.encoder_layers;
  j["eos_token_id"] = c.eos_token_id;
  j["init_std"] = 0.02;
  j["is_encoder_decoder"] = true;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["model_type"] = "m2m_100";
  j["num_hidden_layers"] = c.encoder_layers;
  j["pad_token_id"] = c.pad_token_id;
  j["scale_embedding"] = c.scale_embedding;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  j["tokenizer_class"] = "NllbTokenizer";
  j["torch_dtype"] = c.torch_dtype.empty() ? "float32" : c.torch_dtype;
  j["use_cache"] = true;
  j["vocab_size"] = c.vocab_size;
  return j.dump(2) + "\n";
}

}  // namespace tolk::model
