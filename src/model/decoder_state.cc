// decoder_state.cc — row selection over every cache tensor.
#include "model/decoder_state.h"

#include <torch/torch.h>

#include <limits>

namespace tolk::model {

void DecoderState::select_rows(const torch::Tensor& index) {
  for (auto& l : layers) {
    l.self_k = l.self_k.index_select(0, index);
    l.self_v = l.self_v.index_select(0, index);
    l.cross_k = l.cross_k.index_select(0, index);
    l.cross_v = l.cross_v.index_select(0, index);
  }
  source_mask = source_mask.index_select(0, index);
}

float mask_min_value() { return std::numeric_limits<float>::lowest(); }

}  // namespace tolk::model
