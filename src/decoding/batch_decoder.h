// batch_decoder.h — a running batch of sentences over one SlotCache: the engine of both the
// static path (generate(): admit everything, step until done) and continuous batching (admit
// newcomers between steps, retire finished sentences at once, pause and resume).
//
// Not thread-safe: one thread (a worker or a scheduler loop) owns a BatchDecoder. Rows of active
// sentences are kept in slots [0, active_rows), paused ones right after them, so a step is one
// decoder pass over a prefix of the cache.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "decoding/generate.h"
#include "decoding/sequence_search.h"
#include "model/slot_cache.h"
#include "model/transformer.h"

namespace tolk::decoding {

struct Admission {
  uint64_t id = 0;  // the caller's key, unique among live sentences
  SequenceInput input;
  GenerationParams params;
};

struct Finished {
  uint64_t id = 0;
  SequenceOutput output;
};

class BatchDecoder {
 public:
  explicit BatchDecoder(const model::Transformer& model);

  // Encodes the newcomers in one batched encoder pass, computes their cross-attention K/V once
  // and gives each its rows (active). Sentences that are already done (max_length ≤ 1) come
  // back in `done`.
  void admit(const std::vector<Admission>& items, std::vector<Finished>* done);
  // One decoder step over every active sentence; returns the ones that finished (their rows are
  // freed before this returns).
  std::vector<Finished> step();

  void pause(uint64_t id);     // keeps its slots, skips it in step()
  void resume(uint64_t id);
  void remove(uint64_t id);    // cancelled or expired: frees its rows, no result
  bool contains(uint64_t id) const { return groups_.count(id) != 0; }
  bool is_paused(uint64_t id) const;

  size_t sentences() const { return groups_.size(); }
  size_t active_sentences() const { return groups_.size() - paused_count_; }
  int64_t active_rows() const { return active_rows_; }
  int64_t rows() const { return rows_; }
  // Cost model for admission: rows (beams) a sentence with these params will occupy.
  static int64_t rows_for(const GenerationParams& params);

 private:
  struct Group {
    std::unique_ptr<SequenceSearch> search;
    std::vector<int64_t> slots;  // slot of each row, row order of the search
    bool paused = false;
  };
  struct Owner {
    uint64_t id = 0;
    int64_t row = 0;
  };

  void move_row(int64_t dst, int64_t src);    // src's state and ownership into dst
  void swap_rows(int64_t a, int64_t b);
  void free_group(uint64_t id);

  const model::Transformer& model_;
  model::SlotCache cache_;
  std::map<uint64_t, Group> groups_;
  std::vector<Owner> owner_;   // per slot
  int64_t rows_ = 0;           // slots in use (active + paused)
  int64_t active_rows_ = 0;    // slots [0, active_rows_) are active
  size_t paused_count_ = 0;
};

}  // namespace tolk::decoding
