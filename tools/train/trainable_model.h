// trainable_model.h — the demo-model trainer's view of tolk's own Transformer: the same
// ModelWeights the engine runs, made of autograd leaves, with initialisation and checkpoints.
//
// There is one implementation of the network: training runs model::Transformer::encode and
// decode_full with gradients on; the engine later runs the same code under InferenceMode.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "model/model_config.h"
#include "model/transformer.h"
#include "model/weights.h"

namespace tolk::train {

// Fresh weights: Xavier-uniform projections, zero biases, unit layer norms, embeddings
// N(0, d_model^-1/2) (fairseq's choice for scaled embeddings), the output head tied to them.
model::ModelWeights init_weights(const model::ModelConfig& config, uint64_t seed);

// Reads weights from a safetensors file (a checkpoint) as trainable leaves.
model::ModelWeights load_trainable_weights(const std::string& path, const model::ModelConfig& config);

// Every distinct parameter tensor, in a fixed order (the optimizer's state follows it).
std::vector<torch::Tensor> parameters(model::ModelWeights& weights);

}  // namespace tolk::train
