// Encoder batches of similar source length (decoding/source_groups.h) and the continuous
// executor's split of a taken burst into encoder jobs (scheduling/waiting_queues.h).
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <random>

#include "decoding/source_groups.h"
#include "scheduling/waiting_queues.h"

using namespace tolk;

namespace {
int64_t padded(const std::vector<size_t>& group, const std::vector<int64_t>& lengths) {
  int64_t longest = 0;
  for (size_t i : group) longest = std::max(longest, lengths[i]);
  return longest * static_cast<int64_t>(group.size());
}
}  // namespace

TEST_CASE("source groups: every sentence once, within the token cap, longest first", "[decoding]") {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<int64_t> lengths(1 + rng() % 100);
    for (auto& l : lengths) l = 1 + static_cast<int64_t>(rng() % (rng() % 2 ? 20 : 300));
    const int64_t cap = 64 + static_cast<int64_t>(rng() % 1000);
    const auto groups = decoding::source_length_groups(lengths, cap / 2, cap);
    std::vector<int> seen(lengths.size(), 0);
    int64_t previous_longest = std::numeric_limits<int64_t>::max();
    for (const auto& g : groups) {
      REQUIRE_FALSE(g.empty());
      for (size_t i : g) ++seen[i];
      // A group over the cap is one sentence longer than the cap.
      if (g.size() > 1) CHECK(padded(g, lengths) <= cap);
      CHECK(lengths[g.front()] <= previous_longest);
      previous_longest = lengths[g.front()];
      for (size_t i : g) CHECK(lengths[i] <= lengths[g.front()]);
    }
    CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  }
}

TEST_CASE("source groups: sentences of very different lengths are not padded together", "[decoding]") {
  // The 64-sentence test-split batch that motivated it: one 174-token source among short ones.
  std::vector<int64_t> lengths = {174, 5, 7, 9, 12, 108, 20, 21, 105, 33};
  const auto groups = decoding::source_length_groups(lengths, 256, 4096);
  int64_t total = 0, real = 0;
  for (const auto& g : groups) total += padded(g, lengths);
  for (auto l : lengths) real += l;
  CHECK(total < 2 * real);                        // one padded batch would be 1740 for 494
  CHECK(groups.front() == std::vector<size_t>{0, 5});  // 174 takes 108 while under 256 padded
}

TEST_CASE("split_for_encoding: one job per priority class and length group", "[scheduling]") {
  using scheduling::continuous::Pending;
  std::vector<Pending> taken;
  const std::vector<std::pair<int, int64_t>> spec = {{1, 10}, {0, 12}, {1, 11}, {2, 90}, {1, 100}, {0, 3}};
  for (size_t i = 0; i < spec.size(); ++i) {
    Pending p;
    p.id = i;
    p.tier = spec[i].first;
    p.input.source_ids.assign(static_cast<size_t>(spec[i].second), 7);
    taken.push_back(std::move(p));
  }
  const auto jobs = scheduling::continuous::split_for_encoding(std::move(taken), 64);
  size_t count = 0;
  for (const auto& job : jobs) {
    REQUIRE_FALSE(job.empty());
    for (const auto& p : job) CHECK(p.tier == job.front().tier);
    count += job.size();
  }
  CHECK(count == spec.size());
  // Interactive first; the 100-token normal sentence (over the 64-token cap) goes alone.
  CHECK(jobs.front().front().tier == 0);
  CHECK(std::any_of(jobs.begin(), jobs.end(), [](const std::vector<Pending>& j) {
    return j.size() == 1 && j.front().id == 4;
  }));
}
