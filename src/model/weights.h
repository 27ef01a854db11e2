// weights.h — the Transformer's parameters as LibTorch tensors, grouped by layer.
//
// Built once at load from a weight file's RawTensors, checked name by name and shape by shape
// against the config, then shared read-only by every worker. Q/K/V projections are fused into
// one matrix (and cross-attention K/V into another) so each is one GEMM per step.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/raw_tensor.h"

namespace tolk::model {

struct QuantizedLinear;  // linear.h

struct Linear {
  torch::Tensor weight;  // [out, in]; y = x·Wᵀ + b. float32, or bf16 (compute_type.h)
  torch::Tensor bias;    // [out], float32
  // int8 compute type: the prepacked layer; `weight` is then released (undefined).
  std::shared_ptr<const QuantizedLinear> int8;
};

struct LayerNorm {
  torch::Tensor weight;
  torch::Tensor bias;
};

struct EncoderLayerWeights {
  LayerNorm self_attn_norm;
  Linear self_qkv;        // q, k, v stacked: [3·D, D]
  Linear self_out;
  LayerNorm ffn_norm;
  Linear fc1, fc2;
};

struct DecoderLayerWeights {
  LayerNorm self_attn_norm;
  Linear self_qkv;        // [3·D, D]
  Linear self_out;
  LayerNorm cross_attn_norm;
  Linear cross_q;         // [D, D]
  Linear cross_kv;        // k, v stacked: [2·D, D]
  Linear cross_out;
  LayerNorm ffn_norm;
  Linear fc1, fc2;
};

struct ModelWeights {
  torch::Tensor embed_tokens;   // [V, D], shared by encoder and decoder
  torch::Tensor lm_head;        // [V, D]; the same tensor as embed_tokens when tied
  // bfloat16 compute type: a bf16 copy of lm_head for the fast first pass over the vocabulary
  // (the float32 lm_head then re-scores each row's best candidates; transformer.cc).
  torch::Tensor lm_head_fast;
  // int8 compute type: lm_head quantized the same way, for the same first pass.
  std::shared_ptr<const QuantizedLinear> lm_head_int8;
  std::vector<EncoderLayerWeights> encoder_layers;
  LayerNorm encoder_norm;
  std::vector<DecoderLayerWeights> decoder_layers;
  LayerNorm decoder_norm;

  int64_t parameter_count() const;  // unique float parameters (a tied head counted once)
  int64_t byte_size() const;        // resident bytes of every weight, in its converted format
};

// Turns a weight file's tensors into ModelWeights (float32). Every expected name must be present
// with the shape the config implies; unknown extra names are an error too, since they mean the
// file is not the model the config describes. `source` names the file in error messages.
ModelWeights build_weights(const RawTensorMap& tensors, const ModelConfig& config,
                           const std::string& source);

// Reads model.safetensors, or else pytorch_model.bin, from a model directory.
ModelWeights load_weights(const std::string& model_dir, const ModelConfig& config);

}  // namespace tolk::model
