// weight_conversion.cc — see weight_conversion.h.
#include "model/weight_conversion.h"

#include <torch/torch.h>

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
      return;
    case ComputeType::kBFloat16: {
      const bool tied = w.lm_head.data_ptr() == w.embed_tokens.data_ptr();
      w.embed_tokens = w.embed_tokens.to(torch::kBFloat16).contiguous();
      w.lm_head = tied ? w.embed_tokens : w.lm_head.to(torch::kBFloat16).contiguous();
      for_each_linear(w, [](Linear& l) { l.weight = l.weight.to(torch::kBFloat16).contiguous(); });
      return;
    }
    case ComputeType::kInt8:
      for_each_linear(w, [](Linear& l) {
        l.int8 = quantize_linear(l);
        l.weight = torch::Tensor();
      });
      return;
  }
}

}  // namespace tolk::model
