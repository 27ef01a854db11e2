// batch_decoder.cc — see batch_decoder.h.
#include "decoding/batch_decoder.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>

#include "decoding/source_groups.h"
#include "tolk/status.h"

namespace tolk::decoding {

BatchDecoder::BatchDecoder(const model::Transformer& model) : model_(model) {}

BatchDecoder::BatchDecoder(const model::Transformer& model, model::SlotCache storage)
    : model_(model), cache_(std::move(storage)) {
  // Every slot is free: rows [0, rows()) are the live ones, and there are none. Stale K/V stay
  // behind, unread: a row attends to its own `length` positions, and fill_slots rewrites a new
  // row's whole cross-attention mask.
  std::fill(cache_.length.begin(), cache_.length.end(), 0);
  std::fill(cache_.source_length.begin(), cache_.source_length.end(), 0);
  owner_.resize(static_cast<size_t>(cache_.rows()));
}

int64_t BatchDecoder::rows_for(const GenerationParams& params) {
  return std::max(1, params.beam_size);
}

void BatchDecoder::admit(const std::vector<Admission>& items, std::vector<Finished>* done) {
  if (items.empty()) return;
  std::vector<int64_t> lengths;
  CacheCapacity all;
  all.rows = rows();
  for (const auto& a : items) {
    if (a.input.source_ids.empty())
      throw Error(StatusCode::kInvalidArgument, "empty source sequence");
    lengths.push_back(static_cast<int64_t>(a.input.source_ids.size()));
    all.rows += rows_for(a.params);
    all.max_length = std::max(all.max_length, a.params.max_length);
    all.max_source = std::max(all.max_source, lengths.back());
  }
  // Encoded in batches of similar length (source_groups.h); the cache is sized for all of
  // them at the first admission, so it is allocated once.
  for (const auto& group : source_length_groups(lengths)) {
    std::vector<Admission> part;
    std::vector<SequenceInput> inputs;
    std::vector<int64_t> encoder_rows;
    for (const size_t i : group) {
      encoder_rows.push_back(static_cast<int64_t>(inputs.size()));
      inputs.push_back(items[i].input);
      part.push_back(items[i]);
    }
    admit_encoded(part, encode_batch(model_, inputs), encoder_rows, done, all);
  }
}

void BatchDecoder::admit_encoded(const std::vector<Admission>& items, const EncodedBatch& enc,
                                 const std::vector<int64_t>& item_rows,
                                 std::vector<Finished>* done, const CacheCapacity& expected) {
  if (items.empty()) return;
  if (item_rows.size() != items.size())
    throw Error(StatusCode::kInternal, "batch decoder: one encoder row per item");
  for (const auto& a : items) {
    if (groups_.count(a.id)) throw Error(StatusCode::kInternal, "batch decoder: duplicate id");
    if (a.tier < 0 || a.tier >= kTiers) throw Error(StatusCode::kInternal, "batch decoder: bad tier");
  }
  if (auto shape = growth_for(items, enc, expected))
    model_.adopt_slots(cache_, model_.allocate_slots(*shape), rows());
  owner_.resize(static_cast<size_t>(cache_.rows()));
  for (const auto& a : items) {
    Group g;
    g.search = SequenceSearch::create(a.input, a.params);
    g.tier = a.tier;
    groups_.emplace(a.id, std::move(g));
    ++tier_sentences_[a.tier];
  }
  // Open every newcomer's slots first (opening may move earlier newcomers' empty slots, which
  // the owner table tracks), then compute all cross-attention K/V in one pass.
  for (const auto& a : items) {
    auto& g = groups_.at(a.id);
    for (int64_t r = 0; r < g.search->rows(); ++r) {
      const int64_t slot = insert_row(a.tier);
      g.slots.push_back(slot);
      owner_[static_cast<size_t>(slot)] = {a.id, r};
    }
  }
  std::vector<int64_t> encoder_rows, slots;
  for (size_t j = 0; j < items.size(); ++j)
    for (int64_t slot : groups_.at(items[j].id).slots) {
      encoder_rows.push_back(item_rows[j]);
      slots.push_back(slot);
    }
  model_.fill_slots(cache_, enc.encoder_out, enc.attention_mask, encoder_rows, slots);
  for (const auto& a : items) {
    auto& g = groups_.at(a.id);
    if (g.search->done()) {
      if (done) done->push_back({a.id, g.search->result()});
      free_group(a.id);
    }
  }
}

std::optional<model::SlotShape> BatchDecoder::growth_for(const std::vector<Admission>& items,
                                                         const EncodedBatch& enc,
                                                         const CacheCapacity& expected) const {
  int64_t new_rows = 0, longest = 0;
  for (const auto& a : items) {
    new_rows += rows_for(a.params);
    longest = std::max(longest, a.params.max_length);
  }
  return model_.slot_growth(cache_, std::max(rows() + new_rows, expected.rows),
                            std::max(longest, expected.max_length),
                            std::max<int64_t>(enc.input_ids.size(1), expected.max_source));
}

std::vector<Finished> BatchDecoder::step(int max_tier, const std::function<bool()>& preempt,
                                         bool* preempted) {
  std::vector<Finished> finished;
  if (preempted) *preempted = false;
  max_tier = std::clamp(max_tier, 0, kTiers - 1);
  const int64_t n = end_[max_tier];
  if (n == 0) return finished;
  auto tokens = torch::empty({n}, torch::kInt64);
  auto tok = tokens.accessor<int64_t, 1>();
  for (auto& [id, g] : groups_) {
    if (g.tier > max_tier) continue;
    const auto t = g.search->next_tokens();
    for (size_t r = 0; r < t.size(); ++r) tok[g.slots[r]] = t[r];
  }
  auto logits = model_.decode_step_slots(cache_, n, tokens, preempt);
  if (!logits.defined()) {  // abandoned between layers: nothing has changed
    if (preempted) *preempted = true;
    return finished;
  }
  // Each sentence's search step (logits processors, log-softmax, argmax or top-k over the
  // vocabulary) is a handful of small operations on its own rows: with 64 sentences they took
  // ~10 ms of a 45 ms step run one after another. The sentences are independent, so they are
  // spread over the intra-op threads. Their operations work row by row (softmax, argmax,
  // top-k), so a sentence's result does not depend on how the sentences were split.
  std::vector<std::pair<uint64_t, Group*>> active;
  for (auto& [id, g] : groups_)
    if (g.tier <= max_tier) active.emplace_back(id, &g);
  std::vector<std::vector<int64_t>> sources(active.size());
  at::parallel_for(0, static_cast<int64_t>(active.size()), 1, [&](int64_t begin, int64_t end) {
    // InferenceMode is thread-local and at::parallel_for does not carry it to its workers.
    c10::InferenceMode guard;
    for (int64_t i = begin; i < end; ++i) {
      Group& g = *active[static_cast<size_t>(i)].second;
      // One row (greedy, sampling) is a view: its search may change it in place, and no other
      // sentence reads it. Beams gather their rows.
      auto rows = g.slots.size() == 1 ? logits.narrow(0, g.slots[0], 1)
                                      : logits.index_select(0, torch::tensor(g.slots, torch::kInt64));
      sources[static_cast<size_t>(i)] = g.search->step(rows);
    }
  });
  std::vector<uint64_t> done_ids;
  for (size_t i = 0; i < active.size(); ++i) {
    Group& g = *active[i].second;
    if (g.search->done()) {
      done_ids.push_back(active[i].first);
      continue;
    }
    std::vector<int64_t> src_slots;
    for (int64_t s : sources[i]) src_slots.push_back(g.slots[static_cast<size_t>(s)]);
    cache_.reorder_self(g.slots, src_slots);
  }
  for (uint64_t id : done_ids) {
    finished.push_back({id, groups_.at(id).search->result()});
    free_group(id);
  }
  return finished;
}

void BatchDecoder::move_row(int64_t dst, int64_t src) {
  if (dst == src) return;
  cache_.copy_row(dst, src);
  const Owner o = owner_[static_cast<size_t>(src)];
  owner_[static_cast<size_t>(dst)] = o;
  auto it = groups_.find(o.id);
  if (it != groups_.end() && static_cast<size_t>(o.row) < it->second.slots.size())
    it->second.slots[static_cast<size_t>(o.row)] = dst;
}

int64_t BatchDecoder::insert_row(int tier) {
  // The hole starts after the last block; each higher block moves its first row to its end.
  int64_t hole = end_[kTiers - 1];
  for (int u = kTiers - 1; u > tier; --u) {
    const int64_t first = end_[u - 1];
    move_row(hole, first);
    hole = first;
    ++end_[u];
  }
  ++end_[tier];
  cache_.length[static_cast<size_t>(hole)] = 0;
  cache_.source_length[static_cast<size_t>(hole)] = 0;
  return hole;
}

void BatchDecoder::erase_row(int64_t slot, int tier) {
  // The block's last row fills the hole; then each higher block's last row fills the hole left
  // at the end of the block below it.
  int64_t hole = slot;
  for (int u = tier; u < kTiers; ++u) {
    const int64_t last = end_[u] - 1;
    move_row(hole, last);
    hole = last;
    --end_[u];
  }
}

void BatchDecoder::remove(uint64_t id) {
  if (groups_.count(id)) free_group(id);
}

void BatchDecoder::free_group(uint64_t id) {
  auto it = groups_.find(id);
  Group& g = it->second;
  // Highest slot first, so a block's last row that moves into a hole is never a row of this
  // group still waiting to be freed.
  std::vector<int64_t> slots = g.slots;
  std::sort(slots.rbegin(), slots.rend());
  const int tier = g.tier;
  g.slots.clear();  // its rows are gone: moves must not update them any more
  for (int64_t s : slots) erase_row(s, tier);
  --tier_sentences_[tier];
  groups_.erase(it);
}

}  // namespace tolk::decoding
