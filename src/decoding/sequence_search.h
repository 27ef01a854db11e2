// sequence_search.h — the search of ONE sentence, one decoder step at a time.
//
// A sentence owns rows of the running batch: one for greedy search and sampling, num_beams for
// beam search. The batch decoder feeds each search the logits of its rows after every step; the
// search picks the next tokens, says which old row each new row continues (beam reordering),
// and when it is done. Because a search sees only its own rows, sentences with different
// settings, lengths and languages share a batch without affecting each other's results.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "decoding/generate.h"

namespace tolk::decoding {

class SequenceSearch {
 public:
  virtual ~SequenceSearch() = default;

  // Rows this sentence occupies (constant for its lifetime).
  virtual int64_t rows() const = 0;
  // The token each row feeds to the next decoder step.
  virtual std::vector<int64_t> next_tokens() const = 0;
  // Consumes the logits [rows, V] of this sentence's rows (float32, row order = rows()).
  // They are this search's own: it may change them in place (the logits processors do).
  // Returns, per row of the next step, the row whose cache it continues (identity for greedy).
  virtual std::vector<int64_t> step(const torch::Tensor& logits) = 0;
  virtual bool done() const = 0;
  // The hypotheses, best first; valid once done().
  virtual SequenceOutput result() const = 0;

  // greedy / sampling (params.do_sample) / beam (params.beam_size > 1).
  static std::unique_ptr<SequenceSearch> create(const SequenceInput& input,
                                                const GenerationParams& params);
};

}  // namespace tolk::decoding
