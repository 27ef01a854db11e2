// waiting_queues.cc — see waiting_queues.h.
#include "scheduling/waiting_queues.h"

#include <algorithm>
#include <cmath>

#include "decoding/source_groups.h"

namespace tolk::scheduling::continuous {

void WaitingQueues::push(Pending p) {
  const int t = p.tier;
  queues_[t].push_back(std::move(p));
  ++size_;
}

void WaitingQueues::erase_job(const std::shared_ptr<Job>& job) {
  for (auto& q : queues_) {
    const auto before = q.size();
    q.erase(std::remove_if(q.begin(), q.end(), [&](const Pending& p) { return p.job == job; }),
            q.end());
    size_ -= static_cast<int64_t>(before - q.size());
  }
}

int WaitingQueues::next_queue(clock_type::time_point now, bool bulk_allowed,
                              bool interactive_only) const {
  int best = -1;
  double best_class = 0;
  for (int t = 0; t < kTiers; ++t) {
    if (queues_[t].empty() || (t == 2 && !bulk_allowed) || (t > 0 && interactive_only)) continue;
    const auto& head = queues_[t].front();
    const double aged = aging_ms_ > 0
                            ? ms_between(head.enqueued, now) / static_cast<double>(aging_ms_)
                            : 0.0;
    const double cls = std::max(0.0, static_cast<double>(t) - std::floor(aged));
    if (best < 0 || cls < best_class ||
        (cls == best_class && head.enqueued < queues_[best].front().enqueued)) {
      best = t;
      best_class = cls;
    }
  }
  return best;
}

std::vector<Pending> WaitingQueues::take(const BatchBudget& budget, bool bulk_allowed,
                                         bool interactive_only) {
  std::vector<Pending> out;
  const auto now = clock_type::now();
  int64_t encode_tokens = 0;
  for (;;) {
    const int t = next_queue(now, bulk_allowed, interactive_only);
    if (t < 0) break;
    const Pending& head = queues_[t].front();
    const int64_t src = static_cast<int64_t>(head.input.source_ids.size());
    const int64_t taken = budget.sentences + static_cast<int64_t>(out.size());
    if (taken > 0) {
      // Interactive newcomers may use twice the budgets: paused bulk rows keep their slots,
      // so a batch full of bulk work must not lock interactive work out.
      const int64_t scale = t == 0 ? 2 : 1;
      if (taken >= scale * budget.max_sequences) break;
      if (*budget.cost + head.cost > scale * budget.max_tokens) break;
      if (encode_tokens + src > budget.encode_chunk_tokens && !out.empty()) break;
    }
    encode_tokens += src;
    *budget.cost += head.cost;
    out.push_back(std::move(queues_[t].front()));
    queues_[t].pop_front();
    --size_;
    if (encode_tokens >= budget.encode_chunk_tokens) break;
  }
  return out;
}

std::vector<std::vector<Pending>> split_for_encoding(std::vector<Pending> taken,
                                                     int64_t chunk_tokens) {
  std::vector<std::vector<Pending>> jobs;
  for (int t = 0; t < WaitingQueues::kTiers; ++t) {
    std::vector<size_t> members;
    std::vector<int64_t> lengths;
    for (size_t i = 0; i < taken.size(); ++i)
      if (taken[i].tier == t) {
        members.push_back(i);
        lengths.push_back(static_cast<int64_t>(taken[i].input.source_ids.size()));
      }
    for (const auto& group : decoding::source_length_groups(lengths, chunk_tokens / 2, chunk_tokens)) {
      std::vector<Pending> job;
      for (const size_t g : group) job.push_back(std::move(taken[members[g]]));
      jobs.push_back(std::move(job));
    }
  }
  return jobs;
}

}  // namespace tolk::scheduling::continuous
