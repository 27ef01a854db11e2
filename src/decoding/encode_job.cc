// encode_job.cc — see encode_job.h.
#include "decoding/encode_job.h"

#include <torch/torch.h>

#include <algorithm>

#include "tolk/status.h"

namespace tolk::decoding {

EncodeJob::EncodeJob(const model::Transformer& model, std::vector<Admission> items)
    : model_(model), items_(std::move(items)) {
  if (items_.empty()) throw Error(StatusCode::kInternal, "encode job without sentences");
  std::vector<SequenceInput> inputs;
  for (const auto& a : items_) {
    if (a.input.source_ids.empty())
      throw Error(StatusCode::kInvalidArgument, "empty source sequence");
    inputs.push_back(a.input);
    tier_ = std::min(tier_, a.tier);
  }
  batch_ = pad_sources(model_, inputs);
  run_ = model_.begin_encode(batch_.input_ids, batch_.attention_mask);
}

void EncodeJob::step() { model_.encode_layer(run_); }

EncodedBatch EncodeJob::result() const {
  if (!run_.done) throw Error(StatusCode::kInternal, "encode job read before its last layer");
  EncodedBatch out = batch_;
  out.encoder_out = run_.hidden;
  return out;
}

}  // namespace tolk::decoding
