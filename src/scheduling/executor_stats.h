// executor_stats.h — counters every executor keeps for engine.stats(): what it has done and
// how busy it was. Thread-safe (atomics); cheap enough to update per request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "decoding/generate.h"

namespace tolk::scheduling {

class ExecutorCounters {
 public:
  void add_request(const std::vector<decoding::SequenceOutput>& outputs, double busy_ms) {
    ++requests_;
    sentences_ += static_cast<int64_t>(outputs.size());
    for (const auto& o : outputs)
      if (!o.hypotheses.empty())
        tokens_ += static_cast<int64_t>(o.hypotheses[0].ids.size()) - 1;
    busy_us_ += static_cast<int64_t>(busy_ms * 1000.0);
  }
  void add_sentence(const decoding::SequenceOutput& o) {
    ++sentences_;
    if (!o.hypotheses.empty()) tokens_ += static_cast<int64_t>(o.hypotheses[0].ids.size()) - 1;
  }
  void add_request() { ++requests_; }
  void add_busy(double ms) { busy_us_ += static_cast<int64_t>(ms * 1000.0); }

  // {"requests", "sentences", "generated_tokens", "busy_s", "tokens_per_busy_s"}
  nlohmann::json to_json() const {
    const double busy_s = static_cast<double>(busy_us_.load()) / 1e6;
    return {{"requests", requests_.load()},
            {"sentences", sentences_.load()},
            {"generated_tokens", tokens_.load()},
            {"busy_s", busy_s},
            {"tokens_per_busy_s", busy_s > 0 ? static_cast<double>(tokens_.load()) / busy_s : 0.0}};
  }

 private:
  std::atomic<int64_t> requests_{0}, sentences_{0}, tokens_{0}, busy_us_{0};
};

}  // namespace tolk::scheduling
