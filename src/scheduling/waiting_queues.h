// waiting_queues.h — the sentences waiting for the continuous batch: one FIFO per priority
// class, aging, and the admission rule (which waiting sentences may join the batch now).
//
// Not thread-safe: the continuous executor holds its mutex around every call.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "decoding/batch_decoder.h"
#include "scheduling/continuous_job.h"

namespace tolk::scheduling::continuous {

// What the running batch holds and may hold, for an admission.
struct BatchBudget {
  int64_t sentences = 0;            // live + being encoded
  int64_t* cost = nullptr;          // live cost (rows × tokens): taken sentences add theirs
  int64_t max_sequences = 0, max_tokens = 0;
  int64_t encode_chunk_tokens = 0;  // source tokens one take may gather (see take)
};

// Splits taken sentences into encoder jobs: per priority class (a job runs at its most urgent
// sentence's turn), then into batches of similar source length (decoding/source_groups.h) of
// at most chunk_tokens padded tokens each (a sentence longer than that alone), so that one
// encoder layer of a job stays a short unit whatever was taken at once.
std::vector<std::vector<Pending>> split_for_encoding(std::vector<Pending> taken, int64_t chunk_tokens);

class WaitingQueues {
 public:
  static constexpr int kTiers = decoding::BatchDecoder::kTiers;

  explicit WaitingQueues(int64_t aging_ms) : aging_ms_(aging_ms) {}

  void push(Pending p);
  int64_t size() const { return size_; }
  size_t size(int tier) const { return queues_[tier].size(); }
  const std::deque<Pending>& tier(int t) const { return queues_[t]; }
  // Drops every waiting sentence of `job`.
  void erase_job(const std::shared_ptr<Job>& job);

  // Takes waiting sentences, most urgent first, that fit the budget and the budget's
  // encode_chunk_tokens of source (one encoder job's worth, or a whole burst that
  // split_for_encoding then cuts into jobs). Without `bulk_allowed`, bulk sentences keep waiting (interactive work is
  // live); with `interactive_only`, only interactive ones are taken.
  std::vector<Pending> take(const BatchBudget& budget, bool bulk_allowed, bool interactive_only);

 private:
  // The queue whose head goes next: lowest class after aging, then the earliest arrival.
  int next_queue(clock_type::time_point now, bool bulk_allowed, bool interactive_only) const;

  std::deque<Pending> queues_[kTiers];
  int64_t size_ = 0;
  int64_t aging_ms_;
};

}  // namespace tolk::scheduling::continuous
