// transformer.cc — encoder, incremental decoder step and full decoder (NOTES.md §3).
#include "model/transformer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

#include "model/attention.h"
#include "model/positional.h"
#include "tolk/status.h"

namespace tolk::model {

Transformer::Transformer(ModelConfig config, ModelWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  c10::InferenceMode guard;
  // offset 2 (padding_idx + 1): the table HF builds has max_position_embeddings + 2 rows.
  positions_table_ = sinusoidal_table(config_.max_position_embeddings + 2, config_.d_model,
                                      config_.pad_token_id);
  embed_scale_ = config_.scale_embedding ? std::sqrt(static_cast<double>(config_.d_model)) : 1.0;
}

std::shared_ptr<const Transformer> Transformer::load(const std::string& model_dir) {
  ModelConfig config = ModelConfig::load(model_dir + "/config.json");
  ModelWeights weights = load_weights(model_dir, config);
  return std::make_shared<const Transformer>(std::move(config), std::move(weights));
}

torch::Tensor Transformer::embed(const torch::Tensor& ids, const torch::Tensor& positions) const {
  // HF silently grows its table past max_position_embeddings; tolk refuses instead (callers
  // check lengths first, so reaching this is a caller bug, not bad user input).
  const int64_t max_pos = positions.numel() ? positions.max().item<int64_t>() : 0;
  if (max_pos >= positions_table_.size(0))
    throw Error(StatusCode::kInputTooLong,
                fmt::format("position {} exceeds max_position_embeddings {}", max_pos - 2,
                            config_.max_position_embeddings));
  auto tokens = weights_.embed_tokens.index_select(0, ids.reshape(-1)).view(
      {ids.size(0), ids.size(1), config_.d_model});
  auto pos = positions_table_.index_select(0, positions.reshape(-1)).view_as(tokens);
  return tokens * embed_scale_ + pos;
}

torch::Tensor Transformer::activation(const torch::Tensor& x) const {
  switch (config_.activation) {
    case Activation::kRelu: return torch::relu(x);
    case Activation::kGelu: return torch::gelu(x);
    case Activation::kGeluTanh: return torch::gelu(x, "tanh");
    case Activation::kSilu: return torch::silu(x);
  }
  return x;
}

torch::Tensor Transformer::feed_forward(const torch::Tensor& x, const LayerNorm& norm,
                                        const Linear& fc1, const Linear& fc2) const {
  auto h = layer_norm(x, norm);
  h = torch::linear(activation(torch::linear(h, fc1.weight, fc1.bias)), fc2.weight, fc2.bias);
  return x + h;
}

torch::Tensor Transformer::encode(const torch::Tensor& input_ids,
                                  const torch::Tensor& attention_mask) const {
  const int64_t H = config_.encoder_attention_heads;
  const double scaling = std::pow(static_cast<double>(config_.d_model / H), -0.5);
  auto x = embed(input_ids, position_ids(input_ids, config_.pad_token_id, 0));
  auto mask = additive_key_mask(attention_mask);
  for (const auto& l : weights_.encoder_layers) {
    auto h = layer_norm(x, l.self_attn_norm);
    auto qkv = torch::linear(h, l.self_qkv.weight, l.self_qkv.bias).chunk(3, -1);
    auto a = attend(split_heads(qkv[0] * scaling, H), split_heads(qkv[1], H),
                    split_heads(qkv[2], H), mask);
    x = x + torch::linear(a, l.self_out.weight, l.self_out.bias);
    x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
  }
  return layer_norm(x, weights_.encoder_norm);
}

DecoderState Transformer::start_decoding(const torch::Tensor& encoder_out,
                                         const torch::Tensor& attention_mask,
                                         int64_t max_length) const {
  const int64_t H = config_.decoder_attention_heads, B = encoder_out.size(0);
  const int64_t hd = config_.d_model / H;
  DecoderState state;
  state.capacity = max_length;
  state.source_mask = additive_key_mask(attention_mask);
  for (const auto& l : weights_.decoder_layers) {
    LayerCache c;
    auto kv = torch::linear(encoder_out, l.cross_kv.weight, l.cross_kv.bias).chunk(2, -1);
    c.cross_k = split_heads(kv[0], H).contiguous();
    c.cross_v = split_heads(kv[1], H).contiguous();
    c.self_k = torch::empty({B, H, max_length, hd}, encoder_out.options());
    c.self_v = torch::empty({B, H, max_length, hd}, encoder_out.options());
    state.layers.push_back(std::move(c));
  }
  return state;
}

torch::Tensor Transformer::decode_step(DecoderState& state, const torch::Tensor& tokens) const {
  if (state.length >= state.capacity)
    throw Error(StatusCode::kInternal, "decoder cache is full");
  const int64_t H = config_.decoder_attention_heads;
  const double scaling = std::pow(static_cast<double>(config_.d_model / H), -0.5);
  const int64_t t = state.length;
  auto ids = tokens.view({-1, 1});
  auto x = embed(ids, position_ids(ids, config_.pad_token_id, t));
  for (size_t i = 0; i < weights_.decoder_layers.size(); ++i) {
    const auto& l = weights_.decoder_layers[i];
    auto& c = state.layers[i];
    // Self-attention: HF builds no mask during generate(); every cached key is visible.
    auto h = layer_norm(x, l.self_attn_norm);
    auto qkv = torch::linear(h, l.self_qkv.weight, l.self_qkv.bias).chunk(3, -1);
    c.self_k.narrow(2, t, 1).copy_(split_heads(qkv[1], H));
    c.self_v.narrow(2, t, 1).copy_(split_heads(qkv[2], H));
    auto a = attend(split_heads(qkv[0] * scaling, H), c.self_k.narrow(2, 0, t + 1),
                    c.self_v.narrow(2, 0, t + 1), {});
    x = x + torch::linear(a, l.self_out.weight, l.self_out.bias);
    // Cross-attention over the cached encoder K/V.
    h = layer_norm(x, l.cross_attn_norm);
    auto q = torch::linear(h, l.cross_q.weight, l.cross_q.bias) * scaling;
    a = attend(split_heads(q, H), c.cross_k, c.cross_v, state.source_mask);
    x = x + torch::linear(a, l.cross_out.weight, l.cross_out.bias);
    x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
  }
  state.length = t + 1;
  x = layer_norm(x, weights_.decoder_norm);
  return torch::linear(x.squeeze(1), weights_.lm_head);
}

torch::Tensor Transformer::decode_full(const torch::Tensor& encoder_out,
                                       const torch::Tensor& attention_mask,
                                       const torch::Tensor& decoder_input_ids,
                                       const torch::Tensor& decoder_attention_mask) const {
  const int64_t H = config_.decoder_attention_heads;
  const double scaling = std::pow(static_cast<double>(config_.d_model / H), -0.5);
  auto x = embed(decoder_input_ids, position_ids(decoder_input_ids, config_.pad_token_id, 0));
  auto self_mask = causal_mask(decoder_input_ids.size(0), decoder_input_ids.size(1),
                               decoder_attention_mask);
  auto cross_mask = additive_key_mask(attention_mask);
  for (const auto& l : weights_.decoder_layers) {
    auto h = layer_norm(x, l.self_attn_norm);
    auto qkv = torch::linear(h, l.self_qkv.weight, l.self_qkv.bias).chunk(3, -1);
    auto a = attend(split_heads(qkv[0] * scaling, H), split_heads(qkv[1], H),
                    split_heads(qkv[2], H), self_mask);
    x = x + torch::linear(a, l.self_out.weight, l.self_out.bias);
    h = layer_norm(x, l.cross_attn_norm);
    auto q = torch::linear(h, l.cross_q.weight, l.cross_q.bias) * scaling;
    auto kv = torch::linear(encoder_out, l.cross_kv.weight, l.cross_kv.bias).chunk(2, -1);
    a = attend(split_heads(q, H), split_heads(kv[0], H), split_heads(kv[1], H), cross_mask);
    x = x + torch::linear(a, l.cross_out.weight, l.cross_out.bias);
    x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
  }
  x = layer_norm(x, weights_.decoder_norm);
  return torch::linear(x, weights_.lm_head);
}

}  // namespace tolk::model
