// batch_decoder.h — a running batch of sentences over one SlotCache: the engine of both the
// static path (generate(): admit everything, step until done) and continuous batching (admit
// newcomers between steps, retire finished sentences at once, pause and resume).
//
// Not thread-safe: one thread (a worker or a scheduler loop) owns a BatchDecoder. Every sentence
// has a tier (0 = interactive, 1 = normal, 2 = bulk) and rows are kept sorted by tier, so
// "step everyone up to tier t" is one decoder pass over a prefix of the cache: pausing bulk work
// costs nothing, and bulk rows keep their slots while paused. Admitting or retiring a row moves
// at most one row per tier boundary.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "decoding/generate.h"
#include "decoding/sequence_search.h"
#include "model/slot_cache.h"
#include "model/transformer.h"

namespace tolk::decoding {

struct Admission {
  uint64_t id = 0;  // the caller's key, unique among live sentences
  int tier = 1;     // 0..kTiers-1; lower tiers are never paused by higher ones
  SequenceInput input;
  GenerationParams params;
};

// Cache sizes to reserve for (BatchDecoder::admit_encoded).
struct CacheCapacity {
  int64_t rows = 0, max_length = 0, max_source = 0;
};

struct Finished {
  uint64_t id = 0;
  SequenceOutput output;
};

class BatchDecoder {
 public:
  static constexpr int kTiers = 3;

  explicit BatchDecoder(const model::Transformer& model);
  // Starts with `storage` (a cache an earlier decoder gave back: take_storage) instead of none,
  // every slot free. It grows as usual if a batch needs more.
  BatchDecoder(const model::Transformer& model, model::SlotCache storage);
  // The cache, for a later decoder; this one is left without (and must not be used again).
  model::SlotCache take_storage() { return std::move(cache_); }

  // Encodes the newcomers (in batches of similar source length: source_groups.h), computes
  // their cross-attention K/V once and gives each its rows (active). Sentences that are already done (max_length ≤ 1) come
  // back in `done`.
  void admit(const std::vector<Admission>& items, std::vector<Finished>* done);
  // The same with the encoder already run (encode_job.h): items[j] reads encoder row
  // encoder_rows[j] of `enc` (so a job whose items were partly cancelled admits the rest).
  // `expected` (optional) sizes the cache for work known to be coming (queued sentences), so
  // that growing it — a copy of the whole cache — happens once, not at every doubling.
  void admit_encoded(const std::vector<Admission>& items, const EncodedBatch& enc,
                     const std::vector<int64_t>& encoder_rows, std::vector<Finished>* done,
                     const CacheCapacity& expected = CacheCapacity());
  model::SlotShape cache_shape() const { return cache_.shape(); }

  // One decoder step over every sentence of tier ≤ max_tier (the others wait in their slots);
  // returns the ones that finished (their rows are freed before this returns).
  // With `preempt`, the model asks it between layers; if it says yes the step is abandoned
  // (nothing changes, *preempted = true, nothing returned) and can simply be run again later.
  std::vector<Finished> step(int max_tier = kTiers - 1, const std::function<bool()>& preempt = {},
                             bool* preempted = nullptr);

  void remove(uint64_t id);    // cancelled or expired: frees its rows, no result
  bool contains(uint64_t id) const { return groups_.count(id) != 0; }

  size_t sentences() const { return groups_.size(); }
  size_t sentences_in_tier(int tier) const { return tier_sentences_[tier]; }
  int64_t rows() const { return end_[kTiers - 1]; }
  int64_t rows_up_to(int tier) const { return end_[tier]; }
  // Cost model for admission: rows (beams) a sentence with these params will occupy.
  static int64_t rows_for(const GenerationParams& params);

 private:
  // The cache growth admit_encoded makes for these items (nothing if none).
  std::optional<model::SlotShape> growth_for(const std::vector<Admission>& items,
                                             const EncodedBatch& enc,
                                             const CacheCapacity& expected) const;
  struct Group {
    std::unique_ptr<SequenceSearch> search;
    std::vector<int64_t> slots;  // slot of each row, row order of the search
    int tier = 1;
  };
  struct Owner {
    uint64_t id = 0;
    int64_t row = 0;
  };

  void move_row(int64_t dst, int64_t src);    // src's state and ownership into dst
  int64_t insert_row(int tier);               // opens a slot at the end of `tier`'s block
  void erase_row(int64_t slot, int tier);     // closes a slot, keeping every block contiguous
  void free_group(uint64_t id);

  const model::Transformer& model_;
  model::SlotCache cache_;
  std::map<uint64_t, Group> groups_;
  std::vector<Owner> owner_;   // per slot
  int64_t end_[kTiers] = {0, 0, 0};      // tier t owns slots [end_[t-1], end_[t])
  size_t tier_sentences_[kTiers] = {0, 0, 0};
};

}  // namespace tolk::decoding
