// weight_conversion.cc — see weight_conversion.h.
#include "model/weight_conversion.h"

#include <torch/torch.h>

#include "model/onednn_matmul.h"
#include "model/linear.h"

namespace tolk::model {
namespace {

template <typename F>
void for_each_linear(ModelWeights& w, F&& f) {
  for (auto& l : w.encoder_layers)
    for (Linear* x : {&l.self_qkv, &l.self_out, &l.fc1, &l.fc2}) f(*x);
  for (auto& l : w.decoder_layers)
    for (Linear* x : {&l.self_qkv, &l.self_out, &l.cross_q, &l.cross_kv, &l.cross_out, &l.fc1, &l.fc2})
      f(*x);
}

}  // namespace

void convert_weights(ModelWeights& w, ComputeType type) {
  torch::NoGradGuard no_grad;
  switch (type) {
    case ComputeType::kFloat32:
      // Stored [in, out] for oneDNN's plain gemm (onednn_matmul.h); same values, same view.
      for_each_linear(w, [](Linear& l) { l.weight = float32_inference_layout(l.weight); });
      return;
    case ComputeType::kBFloat16: {
      // The embeddings and the output projection stay float32, and the projection gets a bf16
      // copy for a fast first pass (Transformer::vocabulary_logits). A bf16 product comes back
      // rounded to bf16 (8 significant bits): logits around 16 move in steps of 0.125 and close
      // candidates swap places — measured on the demo model's test split with beam 4, a bf16
      // head alone kept only 94.7–95.5 % of translations identical to float32.
      w.lm_head_fast = w.lm_head.to(torch::kBFloat16).contiguous();
      for_each_linear(w, [](Linear& l) { l.weight = l.weight.to(torch::kBFloat16).contiguous(); });
      return;
    }
    case ComputeType::kInt8:
      for_each_linear(w, [](Linear& l) {
        l.int8 = quantize_linear(l);
        l.weight = torch::Tensor();
      });
      // As for bf16: the float32 head stays (embeddings, re-scoring) and an int8 copy ranks the
      // vocabulary. With the float32 head alone, 64 rows × 32,000 × 512 took ~25 ms of a step
      // (OpenBLAS, measured) while every other linear layer ran in int8.
      w.lm_head_int8 = quantize_linear(Linear{w.lm_head, torch::Tensor(), nullptr});
      return;
  }
}

}  // namespace tolk::model
