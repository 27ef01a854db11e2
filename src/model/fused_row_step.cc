// fused_row_step.cc — see fused_row_step.h.
#include "model/fused_row_step.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "model/attention.h"
#include "model/bf16_gemv.h"
#include "model/float16_values.h"
#include "model/query_attention.h"

namespace tolk::model {
namespace {

std::atomic<bool> g_enabled{true};

constexpr double kLayerNormEps = 1e-5;  // attention.cc's layer_norm

bool takes(const Linear& l, int64_t out, int64_t in) {
  return !l.int8 && l.weight.defined() && l.weight.scalar_type() == torch::kBFloat16 &&
         l.weight.is_contiguous() && l.weight.dim() == 2 && l.weight.size(0) == out &&
         l.weight.size(1) == in && in % 32 == 0 && l.bias.defined() &&
         l.bias.scalar_type() == torch::kFloat32 && l.bias.is_contiguous();
}

bool norm_takes(const LayerNorm& n, int64_t d) {
  return n.weight.defined() && n.bias.defined() && n.weight.scalar_type() == torch::kFloat32 &&
         n.bias.scalar_type() == torch::kFloat32 && n.weight.is_contiguous() &&
         n.bias.is_contiguous() && n.weight.numel() == d && n.bias.numel() == d;
}

// float32 or float16 K/V (slot_cache_dtype), the same for every tensor of the cache.
bool cache_takes(const torch::Tensor& t, torch::ScalarType dtype) {
  return t.defined() && t.scalar_type() == dtype && t.is_contiguous() && t.dim() == 4 &&
         (dtype == torch::kFloat32 || dtype == torch::kHalf);
}

void layer_norm_row(const float* x, const LayerNorm& n, int64_t d, float* y) {
  double sum = 0.0;
  for (int64_t i = 0; i < d; ++i) sum += x[i];
  const double mean = sum / static_cast<double>(d);
  double sq = 0.0;
  for (int64_t i = 0; i < d; ++i) sq += (x[i] - mean) * (x[i] - mean);
  const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(d) + kLayerNormEps);
  const float* w = n.weight.data_ptr<float>();
  const float* b = n.bias.data_ptr<float>();
  for (int64_t i = 0; i < d; ++i)
    y[i] = static_cast<float>((x[i] - mean) * rstd) * w[i] + b[i];
}

void project(const float* x, const Linear& l, float* y) {
  bf16_gemv_row(x, l.weight.data_ptr<at::BFloat16>(), l.bias.data_ptr<float>(), y, l.weight.size(1),
                l.weight.size(0));
}

// softmax(q·kᵀ + mask)·v per head (query_attention.h's attend_one_query): q [H·hd] (already scaled),
// k/v rows of one slot [H, capacity, hd], keys [0, keys).
template <typename T>
void attend_row(const float* q, const T* k, const T* v, int64_t H, int64_t capacity,
                int64_t hd, int64_t keys, const float* mask, float* out, std::vector<float>& p) {
  for (int64_t h = 0; h < H; ++h)
    attend_one_query(q + h * hd, k + h * capacity * hd, hd, v + h * capacity * hd, hd, keys, hd, mask,
                     out + h * hd, p);
}

// This position's K or V (hd features per head) into a slot row [H, capacity, hd].
void write_position(const float* values, float* row, int64_t H, int64_t capacity, int64_t hd,
                    int64_t position) {
  for (int64_t h = 0; h < H; ++h)
    std::memcpy(row + (h * capacity + position) * hd, values + h * hd, sizeof(float) * hd);
}
void write_position(const float* values, c10::Half* row, int64_t H, int64_t capacity, int64_t hd,
                    int64_t position) {
  for (int64_t h = 0; h < H; ++h) to_float16(values + h * hd, row + (h * capacity + position) * hd, hd);
}

// The layer's self- and cross-attention blocks over a cache of T (float or c10::Half).
template <typename T>
void attention_blocks(const ModelConfig& config, const DecoderLayerWeights& l, SlotLayer& cache,
                      const float* cross_mask_row, int64_t past, int64_t source_length, float* x,
                      FusedRowScratch& s, std::vector<float>& p) {
  const int64_t D = config.d_model;
  const int64_t H = config.decoder_attention_heads, hd = D / H;
  // As Transformer: q·scaling with the scale rounded to float32, as a float tensor times a
  // double scalar is in LibTorch.
  const float scaling = static_cast<float>(std::pow(static_cast<double>(hd), -0.5));
  // Self-attention: this position's K/V into the cache, then attend over 0..past.
  layer_norm_row(x, l.self_attn_norm, D, s.h.data());
  project(s.h.data(), l.self_qkv, s.qkv.data());
  const int64_t cap = cache.self_k.size(2);
  T* sk = cache.self_k.data_ptr<T>();
  T* sv = cache.self_v.data_ptr<T>();
  write_position(s.qkv.data() + D, sk, H, cap, hd, past);
  write_position(s.qkv.data() + 2 * D, sv, H, cap, hd, past);
  for (int64_t i = 0; i < D; ++i) s.qkv[static_cast<size_t>(i)] *= scaling;
  attend_row(s.qkv.data(), sk, sv, H, cap, hd, past + 1, nullptr, s.attn.data(), p);
  project(s.attn.data(), l.self_out, s.proj.data());
  for (int64_t i = 0; i < D; ++i) x[i] += s.proj[static_cast<size_t>(i)];

  // Cross-attention over the row's source.
  layer_norm_row(x, l.cross_attn_norm, D, s.h.data());
  project(s.h.data(), l.cross_q, s.qkv.data());
  for (int64_t i = 0; i < D; ++i) s.qkv[static_cast<size_t>(i)] *= scaling;
  attend_row(s.qkv.data(), cache.cross_k.data_ptr<T>(), cache.cross_v.data_ptr<T>(), H,
             cache.cross_k.size(2), hd, source_length, cross_mask_row, s.attn.data(), p);
  project(s.attn.data(), l.cross_out, s.proj.data());
  for (int64_t i = 0; i < D; ++i) x[i] += s.proj[static_cast<size_t>(i)];
}

}  // namespace

void set_fused_row_step_enabled(bool enabled) { g_enabled.store(enabled); }
bool fused_row_step_enabled() { return g_enabled.load(); }

bool fused_row_step_applies(const ModelConfig& config, const ModelWeights& weights,
                            const SlotCache& cache) {
  if (!g_enabled.load() || !bf16_gemv_available()) return false;
  if (config.activation != Activation::kRelu) return false;
  const int64_t D = config.d_model, F = config.decoder_ffn_dim;
  if (D % config.decoder_attention_heads != 0) return false;
  if (cache.layers.size() != weights.decoder_layers.size() || !cache.cross_mask.defined() ||
      cache.cross_mask.scalar_type() != torch::kFloat32 || !cache.cross_mask.is_contiguous() ||
      cache.layers.empty())
    return false;
  const auto kv = cache.layers[0].self_k.scalar_type();
  for (size_t i = 0; i < weights.decoder_layers.size(); ++i) {
    const auto& l = weights.decoder_layers[i];
    const auto& c = cache.layers[i];
    if (!takes(l.self_qkv, 3 * D, D) || !takes(l.self_out, D, D) || !takes(l.cross_q, D, D) ||
        !takes(l.cross_out, D, D) || !takes(l.fc1, F, D) || !takes(l.fc2, D, F) ||
        !norm_takes(l.self_attn_norm, D) || !norm_takes(l.cross_attn_norm, D) ||
        !norm_takes(l.ffn_norm, D) || !cache_takes(c.self_k, kv) || !cache_takes(c.self_v, kv) ||
        !cache_takes(c.cross_k, kv) || !cache_takes(c.cross_v, kv))
      return false;
  }
  return true;
}

void fused_row_layer(const ModelConfig& config, const DecoderLayerWeights& l, SlotLayer& cache,
                     const float* cross_mask_row, int64_t past, int64_t source_length, float* x,
                     FusedRowScratch& s) {
  const int64_t D = config.d_model, F = config.decoder_ffn_dim;
  s.h.resize(static_cast<size_t>(D));
  s.qkv.resize(static_cast<size_t>(3 * D));
  s.attn.resize(static_cast<size_t>(D));
  s.proj.resize(static_cast<size_t>(std::max(D, F)));
  s.ffn.resize(static_cast<size_t>(F));
  std::vector<float> p;

  if (cache.self_k.scalar_type() == torch::kHalf)
    attention_blocks<c10::Half>(config, l, cache, cross_mask_row, past, source_length, x, s, p);
  else
    attention_blocks<float>(config, l, cache, cross_mask_row, past, source_length, x, s, p);

  // Feed-forward.
  layer_norm_row(x, l.ffn_norm, D, s.h.data());
  project(s.h.data(), l.fc1, s.ffn.data());
  for (auto& v : s.ffn) v = std::max(v, 0.0f);
  project(s.ffn.data(), l.fc2, s.proj.data());
  for (int64_t i = 0; i < D; ++i) x[i] += s.proj[static_cast<size_t>(i)];
}

}  // namespace tolk::model
