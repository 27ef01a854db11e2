// generate.h — HF generate() for a batch of sources: encode once, then greedy, beam or sampling.
//
// Knows nothing of threads: the caller (an executor in scheduling/) owns the model exclusively
// or holds its own DecoderState. Each sentence may have its own source and target language.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "decoding/generation_params.h"
#include "model/transformer.h"
#include "tolk/status.h"

namespace tolk::decoding {

struct SequenceInput {
  std::vector<int64_t> source_ids;  // [src_lang] + pieces + [</s>] (or the legacy order)
  int64_t forced_bos_id = 0;        // target language id, forced as the first generated token
};

struct ScoredSequence {
  std::vector<int64_t> ids;         // decoder start … </s> (when finished)
  double score = 0.0;
};

struct SequenceOutput {
  std::vector<ScoredSequence> hypotheses;  // best first, num_hypotheses of them
};

struct GenerationTimings {
  double encode_ms = 0.0;
  double decode_ms = 0.0;
};

// Called before every decoder step: kOk continues; any other code abandons the call, which then
// throws tolk::Error with that code (kCancelled, kTimeout, kShutdown).
using StopCheck = std::function<StatusCode()>;

// `storage` (optional): a K/V cache kept between calls by the caller (an executor), which the
// batch decodes in (grown if it must) and which holds the cache again when the call returns.
// Reusing it spares each batch the allocation and first touch of fresh memory: float32
// batches of 256 sentences had been filling their cache from the kernel page by page
// (319,000 page faults for a load and four batches, 234,000 with the cache kept).
std::vector<SequenceOutput> generate(const model::Transformer& model,
                                     const std::vector<SequenceInput>& inputs,
                                     const GenerationParams& params,
                                     GenerationTimings* timings = nullptr,
                                     const StopCheck& should_stop = {},
                                     model::SlotCache* storage = nullptr);

// Throws tolk::Error when `stop` says so.
void check_stop(const StopCheck& stop);

// Right-pads the sources into one batch and runs the encoder over it (batch_decoder.h uses it).
struct EncodedBatch {
  torch::Tensor input_ids;       // [B, S], right-padded with pad_token_id
  torch::Tensor attention_mask;  // [B, S]
  torch::Tensor encoder_out;     // [B, S, D]
};
EncodedBatch encode_batch(const model::Transformer& model, const std::vector<SequenceInput>& inputs);
// The padding alone (encoder_out left undefined): for encoders run layer by layer (encode_job.h).
EncodedBatch pad_sources(const model::Transformer& model, const std::vector<SequenceInput>& inputs);

}  // namespace tolk::decoding
