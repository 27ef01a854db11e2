// BatchDecoder: sentences that join a running batch at different steps, with different
// settings and tiers, leave with exactly the ids and scores they get decoded alone.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "../support/reference_data.h"
#include "decoding/batch_decoder.h"
#include "decoding/generate.h"
#include "model/transformer.h"

using namespace tolk;

namespace {

const model::Transformer& dev_model() {
  static auto m = model::Transformer::load(test::dev_dir());
  return *m;
}

decoding::GenerationParams params(int beams, int64_t max_new) {
  decoding::GenerationParams p;
  p.beam_size = beams;
  p.num_hypotheses = beams > 1 ? 2 : 1;
  p.max_length = max_new + 1;
  return p;
}

struct Case {
  decoding::Admission admission;
  decoding::SequenceOutput alone;
};

// Every reference case twice: greedy and beam 4, with different length limits and tiers.
std::vector<Case> cases() {
  std::vector<Case> out;
  uint64_t id = 1;
  for (const auto& name : test::case_names()) {
    const auto& c = test::reference()["cases"][name];
    decoding::SequenceInput in{test::ids_of(c["src_input_ids"]), c["forced_bos_token_id"].get<int64_t>()};
    for (int beams : {1, 4}) {
      const int64_t max_new = 8 + static_cast<int64_t>(id % 5) * 3;
      Case k;
      k.admission = {id, static_cast<int>(id % 3), in, params(beams, max_new)};
      k.alone = decoding::generate(dev_model(), {in}, k.admission.params)[0];
      out.push_back(std::move(k));
      ++id;
    }
  }
  return out;
}

void check_same(const decoding::SequenceOutput& got, const decoding::SequenceOutput& want) {
  REQUIRE(got.hypotheses.size() == want.hypotheses.size());
  for (size_t h = 0; h < want.hypotheses.size(); ++h) {
    CHECK(got.hypotheses[h].ids == want.hypotheses[h].ids);
    CHECK(std::abs(got.hypotheses[h].score - want.hypotheses[h].score) <= 1e-5);
  }
}

}  // namespace

TEST_CASE("batch decoder: staggered joins, paused tiers and removals keep every result", "[decoding][continuous]") {
  c10::InferenceMode guard;
  auto all = cases();
  std::mt19937 rng(7);
  decoding::BatchDecoder decoder(dev_model());
  std::map<uint64_t, decoding::SequenceOutput> got;
  std::set<uint64_t> removed;
  size_t next = 0;
  int step = 0;
  while (next < all.size() || decoder.sentences() > 0) {
    // One to three newcomers every other step, while others are mid-decode.
    if (next < all.size() && step % 2 == 0) {
      std::vector<decoding::Admission> batch;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0 && next < all.size(); --k)
        batch.push_back(all[next++].admission);
      std::vector<decoding::Finished> done;
      decoder.admit(batch, &done);
      for (auto& f : done) got[f.id] = f.output;
    }
    // Remove one sentence mid-flight now and then (a cancelled request).
    if (step == 5 && decoder.contains(3)) {
      decoder.remove(3);
      removed.insert(3);
    }
    // Tier 2 sits out two steps in three; tier 1 one step in four.
    const int max_tier = step % 3 != 2 ? (step % 4 == 3 ? 0 : 1) : 2;
    for (auto& f : decoder.step(decoder.rows_up_to(max_tier) > 0 ? max_tier : 2))
      got[f.id] = std::move(f.output);
    ++step;
    REQUIRE(step < 2000);
  }
  CHECK(step > 20);
  for (const auto& k : all) {
    const uint64_t id = k.admission.id;
    INFO("sentence " << id << " beams " << k.admission.params.beam_size);
    if (removed.count(id)) {
      CHECK(got.count(id) == 0);
      continue;
    }
    REQUIRE(got.count(id) == 1);
    check_same(got[id], k.alone);
  }
}

TEST_CASE("batch decoder: a batch admitted at once equals generate()", "[decoding][continuous]") {
  c10::InferenceMode guard;
  auto all = cases();
  decoding::BatchDecoder decoder(dev_model());
  std::vector<decoding::Admission> batch;
  for (const auto& k : all) batch.push_back(k.admission);
  std::vector<decoding::Finished> done;
  decoder.admit(batch, &done);
  CHECK(decoder.sentences() == all.size());
  CHECK(decoder.rows() == static_cast<int64_t>(all.size() / 2 * 5));  // greedy 1 + beam 4 rows
  while (decoder.sentences() > 0)
    for (auto& f : decoder.step()) done.push_back(std::move(f));
  REQUIRE(done.size() == all.size());
  for (const auto& f : done) check_same(f.output, all[f.id - 1].alone);
  CHECK(decoder.rows() == 0);
}

TEST_CASE("generate() decoding in a kept cache gives what a fresh cache gives, however it was used before", "[decoding][batch]") {
  const auto all = cases();
  std::vector<decoding::SequenceInput> inputs;
  for (const auto& c : all) inputs.push_back(c.admission.input);
  model::SlotCache storage;
  // Large then small (the kept cache is bigger than needed, its rows full of stale K/V), then
  // beam search with a longer limit (it must grow), then greedy again.
  const std::vector<std::pair<size_t, decoding::GenerationParams>> runs = {
      {inputs.size(), params(1, 12)}, {2, params(1, 6)}, {inputs.size(), params(4, 20)}, {3, params(1, 12)}};
  int64_t largest_rows = 0;
  for (const auto& [count, p] : runs) {
    const std::vector<decoding::SequenceInput> part(inputs.begin(), inputs.begin() + static_cast<long>(count));
    const auto fresh = decoding::generate(dev_model(), part, p);
    const auto kept = decoding::generate(dev_model(), part, p, nullptr, {}, &storage);
    REQUIRE(kept.size() == fresh.size());
    for (size_t i = 0; i < kept.size(); ++i) check_same(kept[i], fresh[i]);
    CHECK(storage.rows() >= largest_rows);  // given back after every call, never shrunk
    largest_rows = storage.rows();
    CHECK(largest_rows > 0);
  }
}
