// trainable_model.cc — see trainable_model.h.
#include "train/trainable_model.h"

#include <cmath>
#include <functional>

#include "model/safetensors_reader.h"

namespace tolk::train {
namespace {

using model::LayerNorm;
using model::Linear;
using model::ModelWeights;

// Visits every parameter slot once; a tied head is not visited (it aliases embed_tokens).
void for_each_slot(ModelWeights& w, const std::function<void(torch::Tensor&, bool is_bias)>& f) {
  f(w.embed_tokens, false);
  auto lin = [&](Linear& l) { f(l.weight, false); f(l.bias, true); };
  auto ln = [&](LayerNorm& l) { f(l.weight, false); f(l.bias, true); };
  for (auto& l : w.encoder_layers) {
    ln(l.self_attn_norm); lin(l.self_qkv); lin(l.self_out); ln(l.ffn_norm); lin(l.fc1); lin(l.fc2);
  }
  ln(w.encoder_norm);
  for (auto& l : w.decoder_layers) {
    ln(l.self_attn_norm); lin(l.self_qkv); lin(l.self_out); ln(l.cross_attn_norm);
    lin(l.cross_q); lin(l.cross_kv); lin(l.cross_out); ln(l.ffn_norm); lin(l.fc1); lin(l.fc2);
  }
  ln(w.decoder_norm);
}

Linear xavier(int64_t out, int64_t in, int64_t fused = 1) {
  // A fused [k·D, D] projection is k separate [D, D] ones; each gets its own Xavier bound.
  const double bound = std::sqrt(6.0 / static_cast<double>(out / fused + in));
  return {torch::empty({out, in}).uniform_(-bound, bound), torch::zeros({out}), nullptr};
}

LayerNorm unit_norm(int64_t d) { return {torch::ones({d}), torch::zeros({d})}; }

// The parts encoder and decoder layers share: self-attention and the feed-forward block.
template <typename Layer>
void init_self_attention_and_ffn(Layer& l, int64_t D, int64_t ffn) {
  l.self_attn_norm = unit_norm(D);
  l.self_qkv = xavier(3 * D, D, 3);
  l.self_out = xavier(D, D);
  l.ffn_norm = unit_norm(D);
  l.fc1 = xavier(ffn, D);
  l.fc2 = xavier(D, ffn);
}

}  // namespace

ModelWeights init_weights(const model::ModelConfig& c, uint64_t seed) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  const int64_t D = c.d_model;
  ModelWeights w;
  w.embed_tokens = torch::randn({c.vocab_size, D}) * std::pow(static_cast<double>(D), -0.5);
  w.embed_tokens[c.pad_token_id].zero_();
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    model::EncoderLayerWeights l;
    init_self_attention_and_ffn(l, D, c.encoder_ffn_dim);
    w.encoder_layers.push_back(std::move(l));
  }
  w.encoder_norm = unit_norm(D);
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    model::DecoderLayerWeights l;
    init_self_attention_and_ffn(l, D, c.decoder_ffn_dim);
    l.cross_attn_norm = unit_norm(D);
    l.cross_q = xavier(D, D);
    l.cross_kv = xavier(2 * D, D, 2);
    l.cross_out = xavier(D, D);
    w.decoder_layers.push_back(std::move(l));
  }
  w.decoder_norm = unit_norm(D);
  for_each_slot(w, [](torch::Tensor& t, bool) { t.requires_grad_(true); });
  w.lm_head = w.embed_tokens;
  return w;
}

ModelWeights load_trainable_weights(const std::string& path, const model::ModelConfig& config) {
  ModelWeights w = model::build_weights(model::read_safetensors(path), config, path);
  // build_weights returns inference tensors; a clone outside InferenceMode is a normal tensor
  // that can become an autograd leaf.
  for_each_slot(w, [](torch::Tensor& t, bool) { t = t.clone().requires_grad_(true); });
  w.lm_head = w.embed_tokens;
  return w;
}

std::vector<torch::Tensor> parameters(ModelWeights& w) {
  std::vector<torch::Tensor> out;
  for_each_slot(w, [&](torch::Tensor& t, bool) { out.push_back(t); });
  return out;
}

}  // namespace tolk::train
