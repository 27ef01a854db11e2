// continuous_stats.h — what the continuous scheduler reports beyond every executor's counters:
// batch occupancy per step, the longest unit of work (what an arrival may wait for), abandoned
// steps and cache growths. Thread-safe: the scheduler writes, engine.stats() reads.
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace tolk::scheduling {

class ContinuousStats {
 public:
  // One decoder step over `rows` rows, for the occupancy histogram.
  void add_step(int64_t rows) {
    size_t bucket = 0;
    while (bucket + 1 < kBuckets && (int64_t{1} << bucket) < rows) ++bucket;
    ++occupancy_[bucket];
  }
  // Any unit of work (encoder layer, decoder step, join, cache move) that took `ms`;
  // `interactive_waiting`: an interactive sentence was waiting when it ended, so it waited for
  // (part of) this unit — the longest such unit bounds what an arrival waits for.
  void note_unit(double ms, const char* what, int64_t rows, bool interactive_waiting) {
    const int64_t us = static_cast<int64_t>(ms * 1000.0);
    if (raise_max(longest_unit_us_, us)) {
      std::lock_guard<std::mutex> lock(mutex_);
      longest_unit_what_ = fmt::format("{} ({} rows or sentences)", what, rows);
    }
    if (interactive_waiting && raise_max(longest_blocking_us_, us)) {
      std::lock_guard<std::mutex> lock(mutex_);
      longest_blocking_what_ = fmt::format("{} ({} rows or sentences)", what, rows);
    }
  }
  void add_preempted_step() { preempted_steps_.fetch_add(1, std::memory_order_relaxed); }
  // A cache growth; `slots`: the cache's rows now.
  void add_growth(int64_t slots) {
    growths_.fetch_add(1, std::memory_order_relaxed);
    cache_slots_.store(slots, std::memory_order_relaxed);
  }

  void to_json(nlohmann::json& j) const {
    nlohmann::json hist = nlohmann::json::object();
    for (size_t b = 0; b < kBuckets; ++b)
      if (occupancy_[b] > 0) hist[fmt::format("<={}", int64_t{1} << b)] = occupancy_[b].load();
    j["steps_by_rows"] = hist;
    j["longest_unit_ms"] = static_cast<double>(longest_unit_us_.load()) / 1000.0;
    j["preempted_steps"] = preempted_steps_.load();
    j["cache_slots"] = cache_slots_.load();
    j["cache_growths"] = growths_.load();
    j["longest_unit_an_interactive_waited_for_ms"] =
        static_cast<double>(longest_blocking_us_.load()) / 1000.0;
    std::lock_guard<std::mutex> lock(mutex_);
    j["longest_unit"] = longest_unit_what_;
    j["longest_unit_an_interactive_waited_for"] = longest_blocking_what_;
  }

 private:
  // Raises `max` to `v`; true when `v` is the new maximum.
  static bool raise_max(std::atomic<int64_t>& max, int64_t v) {
    int64_t seen = max.load();
    while (v > seen && !max.compare_exchange_weak(seen, v)) {
    }
    return v > seen;
  }

  static constexpr size_t kBuckets = 10;  // rows ≤ 1, 2, 4, …, 512+
  std::atomic<int64_t> occupancy_[kBuckets] = {};
  std::atomic<int64_t> longest_unit_us_{0}, longest_blocking_us_{0};
  std::atomic<int64_t> preempted_steps_{0};
  std::atomic<int64_t> growths_{0}, cache_slots_{0};
  mutable std::mutex mutex_;
  std::string longest_unit_what_, longest_blocking_what_;
};

}  // namespace tolk::scheduling
