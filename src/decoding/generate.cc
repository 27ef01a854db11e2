// generate.cc — batch encoding and the dispatch to a search.
#include "decoding/generate.h"

#include "decoding/batch_decoder.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "tolk/status.h"

namespace tolk::decoding {

void check_stop(const StopCheck& stop) {
  switch (const StatusCode code = stop()) {
    case StatusCode::kOk: return;
    case StatusCode::kCancelled: throw Error(code, "request cancelled");
    case StatusCode::kTimeout: throw Error(code, "request deadline passed");
    case StatusCode::kShutdown: throw Error(code, "engine is shutting down");
    default: throw Error(code, "decoding stopped");
  }
}

EncodedBatch encode_batch(const model::Transformer& model, const std::vector<SequenceInput>& inputs) {
  EncodedBatch batch = pad_sources(model, inputs);
  batch.encoder_out = model.encode(batch.input_ids, batch.attention_mask);
  return batch;
}

EncodedBatch pad_sources(const model::Transformer& model, const std::vector<SequenceInput>& inputs) {
  size_t longest = 0;
  for (const auto& in : inputs) longest = std::max(longest, in.source_ids.size());
  const int64_t B = static_cast<int64_t>(inputs.size()), S = static_cast<int64_t>(longest);
  EncodedBatch batch;
  batch.input_ids = torch::full({B, S}, model.config().pad_token_id, torch::kInt64);
  batch.attention_mask = torch::zeros({B, S}, torch::kInt64);
  auto ids = batch.input_ids.accessor<int64_t, 2>();
  auto mask = batch.attention_mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& src = inputs[b].source_ids;
    for (size_t s = 0; s < src.size(); ++s) {
      ids[b][s] = src[s];
      mask[b][s] = 1;
    }
  }
  return batch;
}

std::vector<SequenceOutput> generate(const model::Transformer& model,
                                     const std::vector<SequenceInput>& inputs,
                                     const GenerationParams& params, GenerationTimings* timings,
                                     const StopCheck& should_stop, model::SlotCache* storage) {
  if (inputs.empty()) return {};
  for (const auto& in : inputs)
    if (in.source_ids.empty())
      throw Error(StatusCode::kInvalidArgument, "generate: empty source sequence");
  c10::InferenceMode guard;
  if (should_stop) check_stop(should_stop);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  // The static path is the continuous one with every sentence admitted at once.
  BatchDecoder decoder = storage ? BatchDecoder(model, std::move(*storage)) : BatchDecoder(model);
  std::vector<Admission> items;
  for (size_t i = 0; i < inputs.size(); ++i) items.push_back({i, 1, inputs[i], params});
  std::vector<Finished> finished;
  decoder.admit(items, &finished);
  const auto t1 = clock::now();
  while (decoder.sentences() > 0) {
    if (should_stop) check_stop(should_stop);
    for (auto& f : decoder.step()) finished.push_back(std::move(f));
  }
  if (storage) *storage = decoder.take_storage();
  std::vector<SequenceOutput> out(inputs.size());
  for (auto& f : finished) out[f.id] = std::move(f.output);
  if (timings) {
    timings->encode_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    timings->decode_ms = std::chrono::duration<double, std::milli>(clock::now() - t1).count();
  }
  return out;
}

}  // namespace tolk::decoding
