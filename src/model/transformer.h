// transformer.h — the M2M100 / NLLB encoder–decoder forward pass (HF eager semantics).
//
// Stateless and const: all per-sequence state lives in a DecoderState owned by the caller, so
// one Transformer (one copy of the weights) serves any number of threads at once.
// Every entry point must run under c10::InferenceMode (the callers in decoding/ do).
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>

#include "model/compute_type.h"
#include "model/decoder_state.h"
#include "model/model_config.h"
#include "model/slot_cache.h"
#include "model/weights.h"

namespace tolk::model {

class Transformer {
 public:
  // `weights` must already be in `compute_type`'s format (weight_conversion.h).
  Transformer(ModelConfig config, ModelWeights weights,
              ComputeType compute_type = ComputeType::kFloat32);

  // Loads config.json and the weights of a model directory, converted to `compute_type`.
  static std::shared_ptr<const Transformer> load(const std::string& model_dir,
                                                 ComputeType compute_type = ComputeType::kFloat32);

  const ModelConfig& config() const noexcept { return config_; }
  const ModelWeights& weights() const noexcept { return weights_; }
  ComputeType compute_type() const noexcept { return compute_type_; }

  // Source ids [B, S] (int64) with attention mask [B, S] (1 = token, 0 = padding) →
  // encoder_last_hidden_state [B, S, D]. Padded rows come out finite but meaningless.
  torch::Tensor encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) const;

  // The same encoder, one layer at a time, so a scheduler can interleave other work between
  // layers (continuous mode's preemptible units). encode() is begin_encode + encode_layer until
  // done; the numbers are identical.
  struct EncoderRun {
    torch::Tensor hidden;    // [B, S, D] after `next_layer` layers (final norm applied once done)
    torch::Tensor key_mask;  // additive key mask of the source
    size_t next_layer = 0;
    bool done = false;
  };
  EncoderRun begin_encode(const torch::Tensor& input_ids, const torch::Tensor& attention_mask) const;
  void encode_layer(EncoderRun& run) const;  // one layer (the last also applies the final norm)

  // Prepares decoding over `encoder_out`: computes each layer's cross-attention K/V once and
  // reserves `max_length` decoder positions of self-attention cache per row.
  DecoderState start_decoding(const torch::Tensor& encoder_out,
                              const torch::Tensor& attention_mask, int64_t max_length) const;

  // One incremental decoder step: feeds tokens [B] (one per row), appends their K/V to the cache
  // and returns the logits [B, V] of the next token.
  torch::Tensor decode_step(DecoderState& state, const torch::Tensor& tokens) const;

  // Continuous batching over a SlotCache (slot_cache.h).
  // A cache grows in three parts, so that the costly middle one can run on another thread:
  // the sizes `cache` must grow to for at least `rows` rows × `max_length` positions ×
  // `max_source` source tokens (with spare rows and geometric steps; nothing when it already
  // holds them; it never shrinks), …
  std::optional<SlotShape> slot_growth(const SlotCache& cache, int64_t rows, int64_t max_length,
                                       int64_t max_source) const;
  // … fresh storage of that shape (hundreds of MB for 64 long rows), its K/V left unwritten:
  // a step reads only what earlier steps and fill_slots wrote (attend_rows in attention.h).
  // Zeroing it was a pass over hundreds of MB per batch (and in continuous mode made joining
  // sentences wait for it), …
  SlotCache allocate_slots(const SlotShape& shape) const;
  // … and the move: rows [0, keep_rows) of `cache` are copied into `fresh` (which must hold at
  // least the cache's sizes), which becomes the cache.
  void adopt_slots(SlotCache& cache, SlotCache fresh, int64_t keep_rows) const;
  // Slot slots[j] starts a new sequence over encoder row encoder_rows[j]: its cross-attention
  // K/V are computed once here, its decoder length becomes 0.
  void fill_slots(SlotCache& cache, const torch::Tensor& encoder_out,
                  const torch::Tensor& attention_mask, const std::vector<int64_t>& encoder_rows,
                  const std::vector<int64_t>& slots) const;
  // One decoder step over slots [0, n): tokens [n], row r at its own position cache.length[r]
  // (masked attention over what each row owns); returns logits [n, V].
  // `preempt`, if given, is asked before each block of every layer (self-attention,
  // cross-attention, feed-forward) and between vocabulary slices of the output projection; when
  // it says yes the step is abandoned and an undefined tensor returned. Nothing observable
  // changes then: the K/V written at each row's current position are rewritten by
  // the step when it is run again, and no row's length has moved.
  torch::Tensor decode_step_slots(SlotCache& cache, int64_t n, const torch::Tensor& tokens,
                                  const std::function<bool()>& preempt = {}) const;

  // Full (non-incremental) decoder over decoder_input_ids [B, T] with a causal mask and an
  // optional decoder attention mask [B, T]: logits [B, T, V]. For teacher forcing and tests.
  torch::Tensor decode_full(const torch::Tensor& encoder_out, const torch::Tensor& attention_mask,
                            const torch::Tensor& decoder_input_ids,
                            const torch::Tensor& decoder_attention_mask = {}) const;

 private:
  torch::Tensor embed(const torch::Tensor& ids, const torch::Tensor& positions) const;
  // Final hidden states x [n, D] → logits [n, V]. With a bf16 head copy (lm_head_fast) the whole
  // vocabulary is scored in bf16, then each row's kRescored best candidates are recomputed in
  // float32: the tokens that can win are exact, the rest only feed the softmax normaliser.
  // `preempt` as in decode_step_slots (checked between vocabulary slices); undefined = abandoned.
  // `storage` (optional, with preempt): where the sliced logits are assembled, kept by the
  // caller between steps and grown here when too small; the result is a view of it.
  torch::Tensor vocabulary_logits(const torch::Tensor& x,
                                  const std::function<bool()>& preempt = {},
                                  torch::Tensor* storage = nullptr) const;
  torch::Tensor activation(const torch::Tensor& x) const;
  torch::Tensor feed_forward(const torch::Tensor& x, const LayerNorm& norm, const Linear& fc1,
                             const Linear& fc2) const;

  ModelConfig config_;
  ModelWeights weights_;
  ComputeType compute_type_;
  torch::Tensor positions_table_;  // [max_position_embeddings + 2, D]
  double embed_scale_;
};

}  // namespace tolk::model
