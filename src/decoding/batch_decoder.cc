// batch_decoder.cc — see batch_decoder.h.
#include "decoding/batch_decoder.h"

#include <torch/torch.h>

#include <algorithm>

#include "tolk/status.h"

namespace tolk::decoding {

BatchDecoder::BatchDecoder(const model::Transformer& model) : model_(model) {}

int64_t BatchDecoder::rows_for(const GenerationParams& params) {
  return std::max(1, params.beam_size);
}

bool BatchDecoder::is_paused(uint64_t id) const {
  auto it = groups_.find(id);
  return it != groups_.end() && it->second.paused;
}

void BatchDecoder::admit(const std::vector<Admission>& items, std::vector<Finished>* done) {
  if (items.empty()) return;
  std::vector<SequenceInput> inputs;
  int64_t new_rows = 0, longest = 0;
  for (const auto& a : items) {
    if (a.input.source_ids.empty())
      throw Error(StatusCode::kInvalidArgument, "empty source sequence");
    if (groups_.count(a.id)) throw Error(StatusCode::kInternal, "batch decoder: duplicate id");
    inputs.push_back(a.input);
    new_rows += rows_for(a.params);
    longest = std::max(longest, a.params.max_length);
  }
  EncodedBatch enc = encode_batch(model_, inputs);
  // One spare row for swaps; positions for the longest request.
  model_.reserve_slots(cache_, rows_ + new_rows + 1, longest, enc.input_ids.size(1), rows_);
  owner_.resize(static_cast<size_t>(cache_.rows()));
  // Paused rows sit right after the active ones; newcomers are active, so the paused block
  // moves up to make room (one row copy per paused row).
  const int64_t paused_rows = rows_ - active_rows_;
  for (int64_t i = paused_rows - 1; i >= 0; --i) move_row(active_rows_ + new_rows + i, active_rows_ + i);
  std::vector<int64_t> encoder_rows, slots;
  int64_t next = active_rows_;
  for (size_t j = 0; j < items.size(); ++j) {
    Group g;
    g.search = SequenceSearch::create(items[j].input, items[j].params);
    for (int64_t r = 0; r < g.search->rows(); ++r) {
      g.slots.push_back(next);
      owner_[static_cast<size_t>(next)] = {items[j].id, r};
      encoder_rows.push_back(static_cast<int64_t>(j));
      slots.push_back(next);
      ++next;
    }
    groups_.emplace(items[j].id, std::move(g));
  }
  model_.fill_slots(cache_, enc.encoder_out, enc.attention_mask, encoder_rows, slots);
  active_rows_ += new_rows;
  rows_ += new_rows;
  for (const auto& a : items) {
    auto& g = groups_.at(a.id);
    if (g.search->done()) {
      if (done) done->push_back({a.id, g.search->result()});
      free_group(a.id);
    }
  }
}

std::vector<Finished> BatchDecoder::step() {
  std::vector<Finished> finished;
  const int64_t n = active_rows_;
  if (n == 0) return finished;
  auto tokens = torch::empty({n}, torch::kInt64);
  auto tok = tokens.accessor<int64_t, 1>();
  for (auto& [id, g] : groups_) {
    if (g.paused) continue;
    const auto t = g.search->next_tokens();
    for (size_t r = 0; r < t.size(); ++r) tok[g.slots[r]] = t[r];
  }
  auto logits = model_.decode_step_slots(cache_, n, tokens);
  std::vector<uint64_t> done_ids;
  for (auto& [id, g] : groups_) {
    if (g.paused) continue;
    auto rows = logits.index_select(0, torch::tensor(g.slots, torch::kInt64));
    const auto source = g.search->step(rows);
    if (g.search->done()) {
      done_ids.push_back(id);
      continue;
    }
    std::vector<int64_t> src_slots;
    for (int64_t s : source) src_slots.push_back(g.slots[static_cast<size_t>(s)]);
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
  if (it != groups_.end()) it->second.slots[static_cast<size_t>(o.row)] = dst;
}

void BatchDecoder::swap_rows(int64_t a, int64_t b) {
  if (a == b) return;
  const int64_t spare = rows_;  // admit() keeps one row beyond rows_ free
  move_row(spare, a);
  move_row(a, b);
  move_row(b, spare);
}

void BatchDecoder::pause(uint64_t id) {
  auto& g = groups_.at(id);
  if (g.paused) return;
  // Each row goes to the end of the active block; the row there takes its place.
  for (size_t r = 0; r < g.slots.size(); ++r) {
    swap_rows(g.slots[r], active_rows_ - 1);
    --active_rows_;
  }
  g.paused = true;
  ++paused_count_;
}

void BatchDecoder::resume(uint64_t id) {
  auto& g = groups_.at(id);
  if (!g.paused) return;
  for (size_t r = 0; r < g.slots.size(); ++r) {
    swap_rows(g.slots[r], active_rows_);
    ++active_rows_;
  }
  g.paused = false;
  --paused_count_;
}

void BatchDecoder::remove(uint64_t id) {
  if (groups_.count(id)) free_group(id);
}

void BatchDecoder::free_group(uint64_t id) {
  auto it = groups_.find(id);
  Group& g = it->second;
  // Free rows from the highest slot down, so moving the block's last row never lands on a
  // row of this group that is still to be freed.
  std::vector<int64_t> slots = g.slots;
  std::sort(slots.rbegin(), slots.rend());
  for (int64_t s : slots) {
    if (!g.paused) {
      // Fill the hole with the last active row, then the active block's new hole with the
      // last paused row, keeping both blocks contiguous.
      move_row(s, active_rows_ - 1);
      --active_rows_;
      move_row(active_rows_, rows_ - 1);
    } else {
      move_row(s, rows_ - 1);
    }
    --rows_;
  }
  if (g.paused) --paused_count_;
  groups_.erase(it);
}

}  // namespace tolk::decoding
