// continuous_job.h — the bookkeeping of continuous batching: a caller's request (Job) and its
// sentences as they move from a priority queue (Pending) through a running encoder job
// (Encoding) into the decoder (Live). Owned by the continuous executor, under its mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "decoding/encode_job.h"
#include "decoding/generate.h"
#include "scheduling/executor.h"
#include "tolk/options.h"
#include "tolk/status.h"

namespace tolk::scheduling::continuous {

using clock_type = std::chrono::steady_clock;

inline double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The decoder's tier (row block) of a priority class: 0 interactive, 1 normal, 2 bulk.
inline int tier_of(Priority p) {
  switch (p) {
    case Priority::kInteractive: return 0;
    case Priority::kNormal: return 1;
    case Priority::kBulk: return 2;
  }
  return 1;
}

// One run() or submit() call: its sentences, where their outputs go, and how it ends.
struct Job {
  std::vector<decoding::SequenceOutput> outputs;
  size_t remaining = 0;
  decoding::StopCheck stop;
  SentenceDone on_sentence;
  clock_type::time_point enqueued;
  std::optional<clock_type::time_point> first_admitted;
  double encode_ms = 0.0;
  StatusCode error = StatusCode::kOk;
  std::string message;
  bool finished = false;
  // check_stops' answer for this job in its pass number `judged_in` (the scheduler's, under
  // its mutex): a job with many sentences is asked once per pass, without a lookup table.
  uint64_t judged_in = 0;
  StatusCode judged = StatusCode::kOk;
  std::condition_variable done;  // run(): the caller waits on this
  RunDone on_end;                // submit(): called instead, once
};

// A sentence waiting in a priority queue.
struct Pending {
  uint64_t id = 0;
  std::shared_ptr<Job> job;
  size_t index = 0;
  int tier = 1;
  decoding::SequenceInput input;
  decoding::GenerationParams params;
  clock_type::time_point enqueued;
  int64_t cost = 0;  // rows × (source + max_length) tokens
};

// A sentence in the decoder.
struct Live {
  std::shared_ptr<Job> job;
  size_t index = 0;
  int64_t cost = 0;
};

// Newcomers taken from the queues whose encoder runs one layer per unit (encode_job.h).
struct Encoding {
  std::unique_ptr<decoding::EncodeJob> job;
  std::vector<Pending> pending;  // in the job's encoder-row order
  double ms = 0.0;               // encoder time so far
};

// A new job for `request`. A sentence whose rows could never fit max_batch_tokens is refused
// (kInputTooLong), not run over budget.
std::shared_ptr<Job> make_job(const RunRequest& request, int64_t max_batch_tokens);

// Queue wait, encode and decode time of a finished job.
ExecutionStats job_stats(const Job& job);

// Ends a job (finished or failed, error already set): its waiting caller wakes, or its `on_end`
// runs. Its callbacks are dropped here, so whatever they hold is released exactly now.
void end_job(Job& job);

}  // namespace tolk::scheduling::continuous
