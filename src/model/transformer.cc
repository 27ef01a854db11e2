// transformer.cc — encoder, incremental decoder step and full decoder (NOTES.md §3).
#include "model/transformer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

#include "model/attention.h"
#include "model/decoder_state.h"
#include "model/fused_row_step.h"
#include "model/linear.h"
#include "model/positional.h"
#include "model/vocabulary_rescoring.h"
#include "model/weight_conversion.h"
#include "tolk/status.h"

namespace tolk::model {

Transformer::Transformer(ModelConfig config, ModelWeights weights, ComputeType compute_type)
    : config_(std::move(config)), weights_(std::move(weights)), compute_type_(compute_type) {
  // A normal (not inference-mode) tensor, so the same Transformer also serves autograd in the
  // demo-model trainer; inference code may read normal tensors freely.
  torch::NoGradGuard no_grad;
  // offset 2 (padding_idx + 1): the table HF builds has max_position_embeddings + 2 rows.
  positions_table_ = sinusoidal_table(config_.max_position_embeddings + 2, config_.d_model,
                                      config_.pad_token_id);
  embed_scale_ = config_.scale_embedding ? std::sqrt(static_cast<double>(config_.d_model)) : 1.0;
}

std::shared_ptr<const Transformer> Transformer::load(const std::string& model_dir,
                                                     ComputeType compute_type) {
  ModelConfig config = ModelConfig::load(model_dir + "/config.json");
  ModelWeights weights = load_weights(model_dir, config);
  convert_weights(weights, compute_type);
  return std::make_shared<const Transformer>(std::move(config), std::move(weights), compute_type);
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
  if (tokens.scalar_type() != positions_table_.scalar_type())  // bf16 weights
    tokens = tokens.to(positions_table_.scalar_type());
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
  h = config_.activation == Activation::kRelu ? linear_relu(h, fc1) : activation(linear(h, fc1));
  h = linear(h, fc2);
  return x + h;
}

torch::Tensor Transformer::encode(const torch::Tensor& input_ids,
                                  const torch::Tensor& attention_mask) const {
  EncoderRun run = begin_encode(input_ids, attention_mask);
  while (!run.done) encode_layer(run);
  return run.hidden;
}

Transformer::EncoderRun Transformer::begin_encode(const torch::Tensor& input_ids,
                                                  const torch::Tensor& attention_mask) const {
  EncoderRun run;
  run.hidden = embed(input_ids, position_ids(input_ids, config_.pad_token_id, 0));
  run.key_mask = additive_key_mask(attention_mask);
  if (weights_.encoder_layers.empty()) {
    run.hidden = layer_norm(run.hidden, weights_.encoder_norm);
    run.done = true;
  }
  return run;
}

void Transformer::encode_layer(EncoderRun& run) const {
  if (run.done) return;
  const int64_t H = config_.encoder_attention_heads;
  const double scaling = std::pow(static_cast<double>(config_.d_model / H), -0.5);
  const auto& l = weights_.encoder_layers[run.next_layer];
  auto& x = run.hidden;
  auto h = layer_norm(x, l.self_attn_norm);
  auto qkv = linear(h, l.self_qkv).chunk(3, -1);
  auto a = attend(split_heads(qkv[0] * scaling, H), split_heads(qkv[1], H),
                  split_heads(qkv[2], H), run.key_mask);
  x = x + linear(a, l.self_out);
  x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
  if (++run.next_layer == weights_.encoder_layers.size()) {
    x = layer_norm(x, weights_.encoder_norm);
    run.done = true;
  }
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
    auto kv = linear(encoder_out, l.cross_kv).chunk(2, -1);
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
    auto qkv = linear(h, l.self_qkv).chunk(3, -1);
    c.self_k.narrow(2, t, 1).copy_(split_heads(qkv[1], H));
    c.self_v.narrow(2, t, 1).copy_(split_heads(qkv[2], H));
    auto a = attend(split_heads(qkv[0] * scaling, H), c.self_k.narrow(2, 0, t + 1),
                    c.self_v.narrow(2, 0, t + 1), {});
    x = x + linear(a, l.self_out);
    // Cross-attention over the cached encoder K/V.
    h = layer_norm(x, l.cross_attn_norm);
    auto q = linear(h, l.cross_q) * scaling;
    a = attend(split_heads(q, H), c.cross_k, c.cross_v, state.source_mask);
    x = x + linear(a, l.cross_out);
    x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
  }
  state.length = t + 1;
  x = layer_norm(x, weights_.decoder_norm);
  return vocabulary_logits(x.squeeze(1));
}

std::optional<SlotShape> Transformer::slot_growth(const SlotCache& cache, int64_t rows,
                                                  int64_t max_length, int64_t max_source) const {
  const int64_t old_rows = cache.rows();
  const int64_t old_len = cache.max_length(), old_src = cache.max_source();
  if (rows <= old_rows && max_length <= old_len && max_source <= old_src) return std::nullopt;
  // Growing copies the whole cache (a long unit of work), so when it grows it keeps a few rows
  // free: the sentence that would trigger the next growth should not be an interactive one
  // arriving at a full batch.
  const int64_t spare = std::max<int64_t>(4, rows / 8);
  // Geometric growth in every dimension: reallocations stay rare whatever order sentences of
  // different lengths arrive in.
  auto grown = [](int64_t need, int64_t old, int64_t factor_num, int64_t factor_den) {
    if (need <= old) return old;
    const int64_t geometric = (old * factor_num + factor_den - 1) / factor_den;
    return std::max(need, (geometric + 15) / 16 * 16);
  };
  SlotShape s;
  s.rows = rows <= old_rows ? old_rows : std::max(rows + spare, 2 * old_rows);
  s.max_length = grown(max_length, old_len, 5, 4);
  s.max_source = grown(max_source, old_src, 5, 4);
  return s;
}

SlotCache Transformer::allocate_slots(const SlotShape& shape) const {
  const int64_t H = config_.decoder_attention_heads, hd = config_.d_model / H;
  const auto opts = positions_table_.options();
  const auto kv = opts.dtype(slot_cache_dtype(compute_type_));
  auto make = [&](int64_t len) { return torch::empty({shape.rows, H, len, hd}, kv); };
  SlotCache fresh;
  fresh.layers.resize(weights_.decoder_layers.size());
  for (auto& l : fresh.layers) {
    l.self_k = make(shape.max_length);
    l.self_v = make(shape.max_length);
    l.cross_k = make(shape.max_source);
    l.cross_v = make(shape.max_source);
  }
  fresh.cross_mask = torch::full({shape.rows, shape.max_source}, mask_min_value(), opts);
  fresh.length.assign(static_cast<size_t>(shape.rows), 0);
  fresh.source_length.assign(static_cast<size_t>(shape.rows), 0);
  return fresh;
}

void Transformer::adopt_slots(SlotCache& cache, SlotCache fresh, int64_t keep_rows) const {
  if (!fresh.shape().covers(cache.shape()))
    throw Error(StatusCode::kInternal, "slot cache: new storage smaller than the cache");
  keep_rows = std::min(keep_rows, cache.rows());
  const int64_t old_len = cache.max_length(), old_src = cache.max_source();
  if (keep_rows > 0) {
    for (size_t i = 0; i < cache.layers.size(); ++i) {
      auto& from = cache.layers[i];
      auto& to = fresh.layers[i];
      to.self_k.narrow(0, 0, keep_rows).narrow(2, 0, old_len).copy_(from.self_k.narrow(0, 0, keep_rows));
      to.self_v.narrow(0, 0, keep_rows).narrow(2, 0, old_len).copy_(from.self_v.narrow(0, 0, keep_rows));
      to.cross_k.narrow(0, 0, keep_rows).narrow(2, 0, old_src).copy_(from.cross_k.narrow(0, 0, keep_rows));
      to.cross_v.narrow(0, 0, keep_rows).narrow(2, 0, old_src).copy_(from.cross_v.narrow(0, 0, keep_rows));
    }
    fresh.cross_mask.narrow(0, 0, keep_rows).narrow(1, 0, old_src)
        .copy_(cache.cross_mask.narrow(0, 0, keep_rows));
  }
  // Lengths of every old row carry over (rows past keep_rows are free: their lengths are 0).
  for (size_t r = 0; r < cache.length.size(); ++r) {
    fresh.length[r] = cache.length[r];
    fresh.source_length[r] = cache.source_length[r];
  }
  cache = std::move(fresh);
}

void Transformer::fill_slots(SlotCache& cache, const torch::Tensor& encoder_out,
                             const torch::Tensor& attention_mask,
                             const std::vector<int64_t>& encoder_rows,
                             const std::vector<int64_t>& slots) const {
  const int64_t H = config_.decoder_attention_heads, S = encoder_out.size(1);
  if (S > cache.max_source()) throw Error(StatusCode::kInternal, "slot cache: source too long");
  auto rows = torch::tensor(encoder_rows, torch::kInt64);
  auto dst = torch::tensor(slots, torch::kInt64);
  auto enc = encoder_out.index_select(0, rows);
  // Consecutive slots (a static batch, a burst joining) take one strided copy per tensor
  // (LibTorch's profiler had put index_copy_ into the narrowed cache at ~145 ms of a 1.5 s bf16
  // batch, with the profiler's own overhead).
  bool consecutive = true;
  for (size_t j = 1; j < slots.size(); ++j) consecutive = consecutive && slots[j] == slots[0] + int64_t(j);
  auto store = [&](torch::Tensor& cache_part, const torch::Tensor& part) {
    auto heads = split_heads(saturated_for(cache_part, part), H);
    auto target = cache_part.narrow(2, 0, S);
    if (consecutive && !slots.empty()) {
      target.narrow(0, slots[0], static_cast<int64_t>(slots.size())).copy_(heads);
    } else {
      for (size_t j = 0; j < slots.size(); ++j) target[slots[j]].copy_(heads[static_cast<int64_t>(j)]);
    }
  };
  for (size_t i = 0; i < weights_.decoder_layers.size(); ++i) {
    const auto& l = weights_.decoder_layers[i];
    auto& c = cache.layers[i];
    auto kv = linear(enc, l.cross_kv).chunk(2, -1);
    store(c.cross_k, kv[0]);
    store(c.cross_v, kv[1]);
  }
  auto keep = attention_mask.index_select(0, rows).to(torch::kBool);
  auto mask = torch::full({static_cast<int64_t>(slots.size()), cache.max_source()},
                          mask_min_value(), cache.cross_mask.options());
  mask.narrow(1, 0, S).masked_fill_(keep, 0.0f);
  cache.cross_mask.index_copy_(0, dst, mask);
  for (size_t j = 0; j < slots.size(); ++j) {
    cache.length[slots[j]] = 0;
    // Rows attend to S columns at most; a shorter source's padding columns are masked anyway.
    cache.source_length[slots[j]] = S;
  }
}

torch::Tensor Transformer::decode_step_slots(SlotCache& cache, int64_t n,
                                             const torch::Tensor& tokens,
                                             const std::function<bool()>& preempt) const {
  const int64_t H = config_.decoder_attention_heads;
  const double scaling = std::pow(static_cast<double>(config_.d_model / H), -0.5);
  int64_t longest = 0, widest = 0;
  for (int64_t r = 0; r < n; ++r) {
    longest = std::max(longest, cache.length[r]);
    widest = std::max(widest, cache.source_length[r]);
  }
  if (longest >= cache.max_length())
    throw Error(StatusCode::kInternal, "slot cache: decoder length exceeds the reserved positions");
  const std::vector<int64_t> lens(cache.length.begin(), cache.length.begin() + n);
  auto past = torch::tensor(lens, torch::kInt64);
  const int64_t keys = longest + 1;
  // Decoder tokens are never <pad>, so each position is pad + 1 + past (HF's position ids).
  auto x = embed(tokens.view({n, 1}), (past + config_.pad_token_id + 1).view({n, 1}));
  // Asked before each of a layer's three blocks: with long caches one block of a 64-row step
  // reads tens of MB of K/V, and an arriving request should wait for one block, not a layer.
  auto abandon = [&] { return preempt && preempt(); };
  if (n == 1 && fused_row_step_applies(config_, weights_, cache)) {
    // One row with bfloat16 weights (a lone sentence): each layer as plain loops
    // (fused_row_step.h). A layer is then a few tens of µs, so preemption is asked per layer.
    auto xr = x.contiguous();
    FusedRowScratch scratch;
    for (size_t i = 0; i < weights_.decoder_layers.size(); ++i) {
      if (abandon()) return {};
      fused_row_layer(config_, weights_.decoder_layers[i], cache.layers[i],
                      cache.cross_mask.data_ptr<float>(), lens[0], cache.source_length[0],
                      xr.data_ptr<float>(), scratch);
    }
    x = xr;
  } else {
    // Row r sees its own keys 0..past[r]; later columns belong to nobody yet.
    auto self_mask = torch::zeros({n, keys}, torch::kFloat32)
                         .masked_fill_(torch::arange(keys, torch::kInt64).view({1, keys}) >
                                           past.view({n, 1}),
                                       mask_min_value())
                         .view({n, 1, 1, keys});
    auto cross_mask = cache.cross_mask.narrow(0, 0, n).narrow(1, 0, widest).unsqueeze(1).unsqueeze(1);
    // Keys each row may see: its own cache (past + this token) and its own source columns.
    std::vector<int64_t> self_keys(lens), cross_keys(cache.source_length.begin(),
                                                     cache.source_length.begin() + n);
    for (auto& k : self_keys) ++k;
    for (size_t i = 0; i < weights_.decoder_layers.size(); ++i) {
      if (abandon()) return {};
      const auto& l = weights_.decoder_layers[i];
      auto& c = cache.layers[i];
      auto h = layer_norm(x, l.self_attn_norm);
      auto qkv = linear(h, l.self_qkv).chunk(3, -1);
      write_step(c.self_k, qkv[1].squeeze(1), lens);
      write_step(c.self_v, qkv[2].squeeze(1), lens);
      auto a = attend_rows(split_heads(qkv[0] * scaling, H), c.self_k.narrow(0, 0, n).narrow(2, 0, keys),
                           c.self_v.narrow(0, 0, n).narrow(2, 0, keys), self_mask, self_keys);
      x = x + linear(a, l.self_out);
      if (abandon()) return {};
      h = layer_norm(x, l.cross_attn_norm);
      auto q = linear(h, l.cross_q) * scaling;
      a = attend_rows(split_heads(q, H), c.cross_k.narrow(0, 0, n).narrow(2, 0, widest),
                      c.cross_v.narrow(0, 0, n).narrow(2, 0, widest), cross_mask, cross_keys);
      x = x + linear(a, l.cross_out);
      if (abandon()) return {};
      x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
    }
  }
  if (abandon()) return {};
  x = layer_norm(x, weights_.decoder_norm).squeeze(1);
  // Sized for every slot at once, so that rows joining later steps do not reallocate it.
  auto& storage = cache.logits_storage;
  if (preempt && (!storage.defined() || storage.size(0) < cache.rows()))
    storage = torch::empty({cache.rows(), weights_.lm_head.size(0)}, x.options());
  torch::Tensor logits = vocabulary_logits(x, preempt, &storage);
  if (!logits.defined()) return {};
  // Only now does the step count: an abandoned step left every row's length as it was.
  for (int64_t r = 0; r < n; ++r) ++cache.length[r];
  return logits;
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
    auto qkv = linear(h, l.self_qkv).chunk(3, -1);
    auto a = attend(split_heads(qkv[0] * scaling, H), split_heads(qkv[1], H),
                    split_heads(qkv[2], H), self_mask);
    x = x + linear(a, l.self_out);
    h = layer_norm(x, l.cross_attn_norm);
    auto q = linear(h, l.cross_q) * scaling;
    auto kv = linear(encoder_out, l.cross_kv).chunk(2, -1);
    a = attend(split_heads(q, H), split_heads(kv[0], H), split_heads(kv[1], H), cross_mask);
    x = x + linear(a, l.cross_out);
    x = feed_forward(x, l.ffn_norm, l.fc1, l.fc2);
  }
  x = layer_norm(x, weights_.decoder_norm);
  const auto sizes = x.sizes().vec();
  auto logits = vocabulary_logits(x.reshape({-1, config_.d_model}));
  return logits.view({sizes[0], sizes[1], logits.size(1)});
}

torch::Tensor Transformer::vocabulary_logits(const torch::Tensor& x,
                                             const std::function<bool()>& preempt,
                                             torch::Tensor* storage) const {
  constexpr int64_t kRescored = 16;  // see below
  if (weights_.lm_head_int8) {
    // int8: one prepacked product (it cannot be cut into vocabulary slices), then the same
    // float32 re-scoring as bf16.
    Linear head_int8{torch::Tensor(), torch::Tensor(), weights_.lm_head_int8};
    auto logits = linear(x, head_int8).reshape({-1, weights_.lm_head.size(0)});
    rescore_best_candidates(logits, x.reshape({-1, x.size(-1)}), weights_.lm_head, kRescored);
    return logits;
  }
  const auto& head = weights_.lm_head_fast.defined() ? weights_.lm_head_fast : weights_.lm_head;
  torch::Tensor logits;
  if (!preempt) {
    logits = project(x, head);
  } else {
    // The output projection over a large vocabulary is the biggest single piece of a step:
    // with a preempt check it runs in vocabulary slices (each weight row is still read once),
    // so a waiting request waits for one slice, not the whole projection.
    constexpr int64_t kSliceRows = 8192;
    const int64_t V = head.size(0), n = x.size(0);
    if (storage) {
      if (!storage->defined() || storage->size(0) < n || storage->size(1) != V)
        *storage = torch::empty({n, V}, x.options());
      logits = storage->narrow(0, 0, n);
    } else {
      logits = torch::empty({n, V}, x.options());
    }
    for (int64_t v = 0; v < V; v += kSliceRows) {
      if (v > 0 && preempt()) return {};
      const int64_t len = std::min(kSliceRows, V - v);
      auto slice = logits.narrow(1, v, len);
      project_into(x, head.narrow(0, v, len), slice);
    }
  }
  if (!weights_.lm_head_fast.defined()) return logits;
  // Re-score each row's best candidates in float32. 16 covers every token a beam of up to 8
  // can take (beam search keeps 2 × beams candidates per step) with margin: bf16 error moves
  // logits by ~0.4 % of their size, far less than the gap to the 17th candidate in practice.
  rescore_best_candidates(logits, x.reshape({-1, x.size(-1)}), weights_.lm_head, kRescored);
  return logits;
}

}  // namespace tolk::model
