// encode_job.h — newcomers' encoder pass cut into one unit per layer.
//
// Continuous mode must never make an arriving interactive request wait for a long unit of
// work, and a batch of long bulk sentences is one of the longest: so the scheduler runs their
// encoder one layer per unit, interleaved with decoder steps and other jobs, and admits the
// sentences into the BatchDecoder once the last layer is done. The numbers are those of
// Transformer::encode (same layers, same order).
#pragma once

#include <cstdint>
#include <vector>

#include "decoding/batch_decoder.h"
#include "decoding/generate.h"
#include "model/transformer.h"

namespace tolk::decoding {

class EncodeJob {
 public:
  EncodeJob(const model::Transformer& model, std::vector<Admission> items);

  bool done() const { return run_.done; }
  // Runs the next encoder layer (no-op once done).
  void step();
  // The sentences, in encoder-row order.
  const std::vector<Admission>& items() const { return items_; }
  // Lowest tier among the items: the job runs when that tier may run.
  int tier() const { return tier_; }
  // Once done: the encoded batch (input ids, mask, encoder output).
  EncodedBatch result() const;

 private:
  const model::Transformer& model_;
  std::vector<Admission> items_;
  EncodedBatch batch_;
  model::Transformer::EncoderRun run_;
  int tier_ = BatchDecoder::kTiers - 1;
};

}  // namespace tolk::decoding
