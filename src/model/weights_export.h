// weights_export.h — ModelWeights back into Hugging Face M2M100 tensor names (the inverse of
// build_weights): fused Q/K/V and cross K/V are split again, a tied head is written once as
// model.shared.weight. Used by the demo-model trainer and by tests that round-trip weights.
#pragma once

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "model/model_config.h"
#include "model/weights.h"

namespace tolk::model {

// (HF name, contiguous CPU tensor of `dtype`) pairs in HF's save order. The tensors are detached
// copies, safe to keep after `weights` changes.
std::vector<std::pair<std::string, torch::Tensor>> export_hf_tensors(const ModelWeights& weights,
                                                                      const ModelConfig& config,
                                                                      torch::ScalarType dtype);

// Writes export_hf_tensors(...) as a safetensors file with {"format": "pt"} metadata, as
// Hugging Face's save_pretrained does. dtype: kFloat32, kFloat16 or kBFloat16.
void save_hf_safetensors(const ModelWeights& weights, const ModelConfig& config,
                         torch::ScalarType dtype, const std::string& path);

// config.json content for `config` (M2M100ForConditionalGeneration, NllbTokenizer).
std::string hf_config_json(const ModelConfig& config);

}  // namespace tolk::model
