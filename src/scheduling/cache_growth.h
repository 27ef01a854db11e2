// cache_growth.h — a KV-cache growth allocated on a helper thread.
//
// Growing the slot cache for a batch of long sentences means zeroing hundreds of MB (~0.5 s
// for 64 rows of a 60M model), far longer than any unit of work the continuous scheduler may
// make an arriving request wait for. So the scheduler starts the allocation here and goes on
// serving; the sentences that need the room join once the storage is ready
// (Transformer::allocate_slots touches no live cache, so it may run on any thread).
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "model/slot_cache.h"
#include "model/transformer.h"

namespace tolk::scheduling {

class CacheGrowth {
 public:
  // Waits for an allocation still running (its storage is dropped).
  ~CacheGrowth() { reset(); }

  bool pending() const { return storage_.valid(); }
  // Starts allocating storage of `shape` (no-op while one is pending).
  void start(std::shared_ptr<const model::Transformer> model, const model::SlotShape& shape);
  // The storage once allocated (nothing while it is still running, or none was started);
  // rethrows an allocation failure.
  std::optional<model::SlotCache> take_if_ready();
  // Blocks up to `limit` for the allocation: what a scheduler with nothing else to do waits.
  void wait(std::chrono::milliseconds limit) const;
  void reset();

 private:
  std::future<model::SlotCache> storage_;
};

}  // namespace tolk::scheduling
