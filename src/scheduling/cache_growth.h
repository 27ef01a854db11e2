// cache_growth.h — a KV-cache growth prepared in small slices between other units of work.
//
// Growing the slot cache for a batch of long sentences means first touching hundreds of MB of
// fresh pages (~0.5 s of page faults and stores for 64 rows of a 60M model), far longer than
// any unit of work the continuous scheduler may make an arriving request wait for. The
// storage needs no zeroing (attend_rows reads only written keys), but the touch has to happen
// somewhere: so the scheduler zeroes it a slice at a time as one more kind of unit, and the
// sentences that need the room join once it is ready. (A helper thread was tried first: where
// the intra-op threads already use every core, it competes with each concurrent step for them,
// and an OpenMP team that loses a core waits at every barrier.)
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "model/slot_cache.h"
#include "model/transformer.h"

namespace tolk::scheduling {

class CacheGrowth {
 public:
  bool pending() const { return storage_.has_value(); }
  // Allocates unzeroed storage of `shape` (no-op while one is pending).
  void start(const model::Transformer& model, const model::SlotShape& shape);
  // Zeroes the storage slice by slice (~2 MB each) until it is ready, `stop()` says so (asked
  // between slices) or `budget` has passed. Returns the bytes zeroed.
  int64_t advance(const std::function<bool()>& stop, std::chrono::microseconds budget);
  // The storage once every slice is zeroed (nothing before, or when none was started).
  std::optional<model::SlotCache> take_if_ready();

 private:
  std::optional<model::SlotCache> storage_;
  std::vector<torch::Tensor> unzeroed_;  // flat views of the K/V tensors, in order
  size_t next_tensor_ = 0;
  int64_t next_offset_ = 0;
};

}  // namespace tolk::scheduling
