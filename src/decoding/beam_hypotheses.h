// beam_hypotheses.h — the finished-hypothesis list of one sentence (HF BeamHypotheses).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace tolk::decoding {

class BeamHypotheses {
 public:
  BeamHypotheses(int num_beams, double length_penalty)
      : num_beams_(num_beams), length_penalty_(length_penalty) {}

  size_t size() const { return beams_.size(); }

  // Offers a hypothesis whose log-probabilities sum to `sum_logprobs`; generated_len counts the
  // tokens after the decoder start token (its </s> included when it finished).
  void add(std::vector<int64_t> tokens, double sum_logprobs, int64_t generated_len) {
    const double score = sum_logprobs / std::pow(static_cast<double>(generated_len), length_penalty_);
    if (static_cast<int>(beams_.size()) >= num_beams_ && score <= worst_) return;
    beams_.emplace_back(score, std::move(tokens));
    if (static_cast<int>(beams_.size()) > num_beams_) {
      // Drop the worst (the earliest one among equal scores, as Python's tuple sort does).
      std::vector<std::pair<double, size_t>> order;
      for (size_t i = 0; i < beams_.size(); ++i) order.emplace_back(beams_[i].first, i);
      std::sort(order.begin(), order.end());
      beams_.erase(beams_.begin() + static_cast<std::ptrdiff_t>(order[0].second));
      worst_ = order[1].first;
    } else {
      worst_ = std::min(score, worst_);
    }
  }

  // early_stopping=False: done once full and no open beam can beat the worst kept hypothesis
  // at the current length. `cur_len` is the length the candidate scores were computed for.
  bool is_done(double best_sum_logprobs, int64_t cur_len) const {
    if (static_cast<int>(beams_.size()) < num_beams_) return false;
    const double best = best_sum_logprobs /
                        std::pow(static_cast<double>(cur_len - 1), length_penalty_);
    return worst_ >= best;
  }

  // Best first. Among equal scores the later-added one wins, as HF's stable sort + pop() does.
  std::vector<std::pair<double, std::vector<int64_t>>> best_first() const {
    auto sorted = beams_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::reverse(sorted.begin(), sorted.end());
    return sorted;
  }

 private:
  int num_beams_;
  double length_penalty_;
  std::vector<std::pair<double, std::vector<int64_t>>> beams_;
  double worst_ = 1e9;
};

}  // namespace tolk::decoding
