// continuous_job.cc — see continuous_job.h.
#include "scheduling/continuous_job.h"

#include <fmt/format.h>

#include <algorithm>

#include "decoding/batch_decoder.h"

namespace tolk::scheduling::continuous {

std::shared_ptr<Job> make_job(const RunRequest& request, int64_t max_batch_tokens) {
  const int64_t rows = decoding::BatchDecoder::rows_for(request.params);
  for (const auto& in : request.inputs) {
    const int64_t cost =
        rows * (static_cast<int64_t>(in.source_ids.size()) + request.params.max_length);
    if (cost > max_batch_tokens)
      throw Error(StatusCode::kInputTooLong,
                  fmt::format("a sentence needs {} batch tokens ({} rows × ({} source + {} "
                              "decode)), more than max_batch_tokens {}", cost, rows,
                              in.source_ids.size(), request.params.max_length, max_batch_tokens));
  }
  auto job = std::make_shared<Job>();
  job->outputs.resize(request.inputs.size());
  job->remaining = request.inputs.size();
  job->stop = request.stop;
  job->on_sentence = request.on_sentence;
  job->enqueued = clock_type::now();
  return job;
}

ExecutionStats job_stats(const Job& job) {
  ExecutionStats stats;
  const auto admitted = job.first_admitted.value_or(job.enqueued);
  stats.queue_ms = ms_between(job.enqueued, admitted);
  stats.timings.encode_ms = job.encode_ms;
  stats.timings.decode_ms = std::max(0.0, ms_between(admitted, clock_type::now()) - job.encode_ms);
  return stats;
}

void end_job(Job& job) {
  job.finished = true;
  job.stop = nullptr;
  job.on_sentence = nullptr;
  if (!job.on_end) {
    job.done.notify_all();
    return;
  }
  RunOutcome outcome;
  outcome.error = job.error;
  outcome.message = job.message;
  if (job.error == StatusCode::kOk) {
    outcome.outputs = std::move(job.outputs);
    outcome.stats = job_stats(job);
  }
  RunDone done = std::move(job.on_end);
  job.on_end = nullptr;
  done(std::move(outcome));
}

}  // namespace tolk::scheduling::continuous
