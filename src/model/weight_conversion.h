// weight_conversion.h — float32 weights → the format of a compute type, once, at load.
#pragma once

#include "model/compute_type.h"
#include "model/weights.h"

namespace tolk::model {

// In place. float32: nothing. bfloat16: every linear weight, the embeddings and the output
// projection become bf16 (a tied head stays one tensor); biases and layer norms stay float32.
// int8: every encoder/decoder linear layer is quantized and prepacked (quantize_linear) and its
// float32 weight released; embeddings and the output projection stay float32.
void convert_weights(ModelWeights& weights, ComputeType type);

}  // namespace tolk::model
