// continuous_executor.cc — the continuous executor's requests, scheduler loop, decoder steps,
// stops and delivery (continuous_executor.h: the design; continuous_encoding.cc: encoder jobs).
#include "scheduling/continuous_executor.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "util/log.h"
#include "util/openmp_workers.h"

namespace tolk::scheduling {
namespace continuous {

ContinuousExecutor::ContinuousExecutor(std::shared_ptr<const model::Transformer> model,
                                       const ModelOptions& o)
    : model_(std::move(model)), options_(o), queues_(o.aging_ms) {
  thread_ = std::thread([this] { loop(); });
}

ContinuousExecutor::~ContinuousExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::vector<decoding::SequenceOutput> ContinuousExecutor::run(const RunRequest& request,
                                                              ExecutionStats* stats) {
  if (request.inputs.empty()) return {};
  auto job = make_job(request);
  std::unique_lock<std::mutex> lock(mutex_);
  enqueue_locked(job, request);
  job->done.wait(lock, [&] { return job->finished; });
  if (job->error != StatusCode::kOk) throw Error(job->error, job->message);
  if (stats) *stats = continuous::job_stats(*job);
  return std::move(job->outputs);
}

bool ContinuousExecutor::submit(RunRequest request, RunDone done) {
  auto job = make_job(request);
  if (request.inputs.empty()) {
    done(RunOutcome{});
    return true;
  }
  job->on_end = std::move(done);
  std::lock_guard<std::mutex> lock(mutex_);
  enqueue_locked(job, request);
  return true;
}

std::shared_ptr<Job> ContinuousExecutor::make_job(const RunRequest& request) const {
  return continuous::make_job(request, options_.max_batch_tokens);
}

void ContinuousExecutor::enqueue_locked(const std::shared_ptr<Job>& job,
                                        const RunRequest& request) {
  const auto& inputs = request.inputs;
  if (shutdown_) throw Error(StatusCode::kShutdown, "model is being unloaded");
  if (queues_.size() + static_cast<int64_t>(inputs.size()) > options_.max_queued_sentences)
    throw Error(StatusCode::kQueueFull,
                fmt::format("{} sentences are waiting for this model (max_queued_sentences {})",
                            queues_.size(), options_.max_queued_sentences));
  const int tier = tier_of(request.priority);
  const int64_t rows = decoding::BatchDecoder::rows_for(request.params);
  for (size_t i = 0; i < inputs.size(); ++i) {
    Pending p;
    p.id = next_id_++;
    p.job = job;
    p.index = i;
    p.tier = tier;
    p.input = inputs[i];
    p.params = request.params;
    p.enqueued = job->enqueued;
    p.cost = rows * (static_cast<int64_t>(inputs[i].source_ids.size()) + request.params.max_length);
    queues_.push(std::move(p));
  }
  interactive_waiting_ = static_cast<int64_t>(queues_.size(0));
  wake_.notify_all();
}

// The one place a job ends (finished or failed): its caller wakes, or its `done` runs.
void ContinuousExecutor::end_locked(const std::shared_ptr<Job>& job) {
  counters_.add_request();
  continuous::end_job(*job);
}

// Ends a job with an error; its sentences still queued are dropped here, live ones by the
// caller (the loop owns the decoder).
void ContinuousExecutor::fail_locked(const std::shared_ptr<Job>& job, StatusCode code,
                                     const std::string& message) {
  if (job->finished) return;
  job->error = code;
  job->message = message;
  queues_.erase_job(job);
  interactive_waiting_ = static_cast<int64_t>(queues_.size(0));
  end_locked(job);
}

// Takes waiting sentences that fit the batch budgets (waiting_queues.h). A burst (no
// interactive work present) is taken whole, so that start_encoding can group it by length:
// taken one chunk at a time in arrival order, sentences of very different lengths shared
// encoder batches and their padding cost as much as real tokens.
std::vector<Pending> ContinuousExecutor::take_admissions_locked(bool bulk_allowed,
                                                                bool interactive_only, bool burst) {
  continuous::BatchBudget budget;
  budget.sentences = static_cast<int64_t>(live_.size()) + encoding_sentences_;
  budget.cost = &live_cost_;
  budget.max_sequences = options_.max_batch_sequences;
  budget.max_tokens = options_.max_batch_tokens;
  budget.encode_chunk_tokens = burst ? options_.max_batch_tokens : options_.encode_chunk_tokens;
  auto out = queues_.take(budget, bulk_allowed, interactive_only);
  interactive_waiting_ = static_cast<int64_t>(queues_.size(0));
  return out;
}

void ContinuousExecutor::loop() {
  c10::InferenceMode guard;
  util::begin_openmp_work();
  decoding::BatchDecoder decoder(*model_);
  std::vector<Encoding> encoding;  // newcomers whose encoder is running, one layer per unit
  uint64_t steps = 0;
  bool last_preempted = false;
  std::optional<clock_type::time_point> interactive_since;
  const uint64_t period = options_.bulk_min_share > 0
                              ? static_cast<uint64_t>(std::ceil(1.0 / options_.bulk_min_share))
                              : 0;
  for (;;) {
    std::vector<Pending> admit;
    bool bulk_turn = true, interactive_present = false, interactive_running = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      const auto has_work = [&] {
        return shutdown_ || !live_.empty() || queues_.size() > 0 || !encoding.empty();
      };
      if (!has_work()) util::wait_for_work(lock, wake_, has_work);  // idle
      if (shutdown_) break;
      if (live_.empty() && encoding.empty() && options_.batch_window_ms > 0) gather_burst(lock);
      if (shutdown_) break;
      const auto now = clock_type::now();
      const bool interactive_encoding = std::any_of(
          encoding.begin(), encoding.end(), [](const Encoding& e) { return e.job->tier() == 0; });
      interactive_running = decoder.sentences_in_tier(0) > 0 || interactive_encoding;
      interactive_present = interactive_running || queues_.size(0) > 0;
      if (interactive_present) {
        if (!interactive_since) interactive_since = now;
        // Bulk's guaranteed share starts once interactive load outlasts the grace period.
        const bool sustained =
            ms_between(*interactive_since, now) > static_cast<double>(options_.bulk_grace_ms);
        bulk_turn = sustained && period > 0 && steps % period == period - 1;
      } else {
        interactive_since.reset();
      }
      // A new encoder job when none is running, or when interactive newcomers wait and no
      // interactive job is running (they overtake the others' jobs, which keep their state).
      if (encoding.empty())
        admit = take_admissions_locked(bulk_turn, false, !interactive_present);
      else if (queues_.size(0) > 0 && !interactive_encoding)
        admit = take_admissions_locked(bulk_turn, true, false);
      encoding_sentences_ += static_cast<int64_t>(admit.size());
    }
    check_stops(decoder, admit, encoding);
    if (!admit.empty()) start_encoding(admit, encoding);

    // One encoder layer of the most urgent job allowed to run (bulk ones only on bulk's turn
    // or when nothing else is present).
    bool encoded = run_encoder_unit(decoder, encoding, bulk_turn || !interactive_present);

    // Newcomers first (DESIGN.md: waiting sentences are admitted before each step): while no
    // interactive work is present, the encoder jobs in progress run to their end, and the
    // next chunk of waiting sentences is taken, before the next decoder step, so that a burst
    // joins one full step instead of trickling in one chunk per step (a ramp of part-full
    // steps costs nearly a full step each where products are bound by reading the weights,
    // as int8's are). The budgets end it: once they are full nothing is taken, no encoder
    // unit runs and the step follows. An interactive arrival still waits for one encoder
    // layer at most.
    if (encoded && !interactive_present && (!encoding.empty() || sentences_waiting()))
      continue;

    // One decoder step. While interactive work is present, bulk rows sit out (but keep their
    // slots) except on bulk's turn; a step that includes non-interactive rows is abandoned
    // between layers as soon as an interactive newcomer waits.
    int max_tier = interactive_present && !bulk_turn ? 1 : 2;
    if (!encoded && decoder.rows_up_to(max_tier) == 0) {
      // Nothing that may run can: the budgets are full of paused work. Run anything rather
      // than idle, so that work drains and the waiting sentences get in.
      encoded = run_encoder_unit(decoder, encoding, true);
      if (!encoded) max_tier = 2;
    }
    if (decoder.rows_up_to(max_tier) == 0) continue;
    ++steps;
    // A step abandoned for a waiting interactive sentence that then could not be admitted
    // (budgets) is not abandoned again: it would never end.
    const bool may_preempt = max_tier > 0 && !(last_preempted && admit.empty());
    try {
      const int64_t rows = decoder.rows_up_to(max_tier);
      const auto preempt = [this, may_preempt] {
        return may_preempt && interactive_waiting_.load(std::memory_order_relaxed) > 0;
      };
      const auto t0 = clock_type::now();
      bool preempted = false;
      auto finished = decoder.step(max_tier, preempt, &preempted);
      const double ms = ms_between(t0, clock_type::now());
      note_unit(ms, preempted ? "abandoned decoder step" : "decoder step", rows);
      last_preempted = preempted;
      if (preempted) {
        counters_.add_busy(ms);
        unit_stats_.add_preempted_step();
        continue;
      }
      record_step(rows, ms);
      deliver(std::move(finished));
    } catch (const std::exception& e) {
      fail_all_live(decoder, e);
    }
  }
  // Shutdown: every request still here ends with kShutdown.
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, l] : live_) fail_locked(l.job, StatusCode::kShutdown, "model is being unloaded");
  live_.clear();
  for (auto& e : encoding)
    for (auto& p : e.pending) fail_locked(p.job, StatusCode::kShutdown, "model is being unloaded");
  std::set<std::shared_ptr<Job>> queued_jobs;
  for (int t = 0; t < WaitingQueues::kTiers; ++t)
    for (auto& p : queues_.tier(t)) queued_jobs.insert(p.job);
  for (auto& j : queued_jobs) fail_locked(j, StatusCode::kShutdown, "model is being unloaded");
}

bool ContinuousExecutor::sentences_waiting() {
  std::lock_guard<std::mutex> lock(mutex_);
  return queues_.size() > 0;
}

// Idle model and a batch window: wait for more arrivals (or a full batch) before starting.
void ContinuousExecutor::gather_burst(std::unique_lock<std::mutex>& lock) {
  const auto until = clock_type::now() + std::chrono::milliseconds(options_.batch_window_ms);
  wake_.wait_until(lock, until, [&] {
    return shutdown_ || queues_.size() >= options_.max_batch_sequences;
  });
}

// Cancelled, expired or shut-down requests leave before the next unit of work.
void ContinuousExecutor::check_stops(decoding::BatchDecoder& decoder, std::vector<Pending>& admit,
                                     const std::vector<Encoding>& encoding) {
  const uint64_t pass = ++stop_checks_;
  auto judge = [&](const std::shared_ptr<Job>& job) {
    if (job->judged_in != pass) {
      job->judged_in = pass;
      job->judged = job->stop ? job->stop() : StatusCode::kOk;
    }
    return job->judged;
  };
  std::vector<std::pair<std::shared_ptr<Job>, StatusCode>> failed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, l] : live_) {
      if (l.job->finished) continue;
      if (const StatusCode c = judge(l.job); c != StatusCode::kOk) failed.emplace_back(l.job, c);
    }
    for (int t = 0; t < WaitingQueues::kTiers; ++t)
      for (auto& p : queues_.tier(t))
        if (const StatusCode c = judge(p.job); c != StatusCode::kOk) failed.emplace_back(p.job, c);
    for (auto& p : admit)
      if (const StatusCode c = judge(p.job); c != StatusCode::kOk) failed.emplace_back(p.job, c);
    for (const auto& e : encoding)
      for (const auto& p : e.pending)
        if (const StatusCode c = judge(p.job); c != StatusCode::kOk) failed.emplace_back(p.job, c);
    for (auto& [job, code] : failed) fail_locked(job, code, stop_message(code));
    drop_finished_locked(decoder);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  admit.erase(std::remove_if(admit.begin(), admit.end(), [&](const Pending& p) {
                if (!p.job->finished) return false;
                live_cost_ -= p.cost;
                --encoding_sentences_;
                return true;
              }), admit.end());
}

std::string ContinuousExecutor::stop_message(StatusCode code) {
  switch (code) {
    case StatusCode::kCancelled: return "request cancelled";
    case StatusCode::kTimeout: return "request deadline passed";
    case StatusCode::kShutdown: return "engine is shutting down";
    default: return "request stopped";
  }
}

// Live sentences of jobs that already ended (failed) leave the decoder.
void ContinuousExecutor::drop_finished_locked(decoding::BatchDecoder& decoder) {
  for (auto it = live_.begin(); it != live_.end();) {
    if (it->second.job->finished) {
      decoder.remove(it->first);
      live_cost_ -= it->second.cost;
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
}

void ContinuousExecutor::deliver(std::vector<decoding::Finished> finished) {
  if (finished.empty()) return;
  // Streaming callbacks run before the job can complete (so never after run() returned) and
  // outside the lock (so a callback cannot stall other callers).
  for (auto& f : finished) {
    counters_.add_sentence(f.output);
    std::shared_ptr<Job> job;
    size_t index = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(f.id);
      if (it == live_.end() || it->second.job->finished) continue;
      job = it->second.job;
      index = it->second.index;
    }
    if (job->on_sentence) {
      try {
        job->on_sentence(index, f.output);
      } catch (...) {  // a throwing callback must not take the scheduler down
      }
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& f : finished) {
    auto it = live_.find(f.id);
    if (it == live_.end()) continue;
    auto job = it->second.job;
    live_cost_ -= it->second.cost;
    job->outputs[it->second.index] = std::move(f.output);
    live_.erase(it);
    if (!job->finished && --job->remaining == 0) end_locked(job);
  }
}

// Records one decoder step's batch occupancy (rows stepped) for the histogram.
void ContinuousExecutor::record_step(int64_t rows, double ms) {
  unit_stats_.add_step(rows);
  counters_.add_busy(ms);
}

nlohmann::json ContinuousExecutor::stats() const {
  auto j = counters_.to_json();
  j["mode"] = "continuous";
  std::lock_guard<std::mutex> lock(mutex_);
  j["queued_sentences"] = {{"interactive", queues_.size(0)},
                           {"normal", queues_.size(1)},
                           {"bulk", queues_.size(2)}};
  j["live_sentences"] = live_.size();
  unit_stats_.to_json(j);
  return j;
}

// A failing decoder step takes the whole running batch with it; queued work continues.
void ContinuousExecutor::fail_all_live(decoding::BatchDecoder& decoder, const std::exception& e) {
  log::warn("continuous: decoder step failed: {}", e.what());
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, l] : live_) {
    decoder.remove(id);
    fail_locked(l.job, StatusCode::kInternal, e.what());
  }
  live_.clear();
  live_cost_ = 0;
}

// The longest single unit of work (one encoder layer, decoder step, join or cache move): what
// an arriving request may have to wait for before the scheduler can take it in.
void ContinuousExecutor::note_unit(double ms, const char* what, int64_t rows) {
  unit_stats_.note_unit(ms, what, rows, interactive_waiting_.load(std::memory_order_relaxed) > 0);
}

}  // namespace continuous

namespace {

void check_options(const ModelOptions& o) {
  auto positive = [](int64_t v, const char* name) {
    if (v < 1) throw Error(StatusCode::kInvalidArgument, fmt::format("{} must be >= 1", name));
  };
  positive(o.max_batch_sequences, "max_batch_sequences");
  positive(o.max_batch_tokens, "max_batch_tokens");
  positive(o.encode_chunk_tokens, "encode_chunk_tokens");
  positive(o.max_queued_sentences, "max_queued_sentences");
  if (o.batch_window_ms < 0 || o.batch_window_ms > 60000)
    throw Error(StatusCode::kInvalidArgument, "batch_window_ms must be in [0, 60000]");
  if (o.aging_ms < 0) throw Error(StatusCode::kInvalidArgument, "aging_ms must be >= 0");
  if (o.bulk_grace_ms < 0) throw Error(StatusCode::kInvalidArgument, "bulk_grace_ms must be >= 0");
  if (!(o.bulk_min_share >= 0.0 && o.bulk_min_share <= 1.0))
    throw Error(StatusCode::kInvalidArgument, "bulk_min_share must be in [0, 1]");
}

}  // namespace

std::unique_ptr<Executor> make_continuous_executor(std::shared_ptr<const model::Transformer> model,
                                                   const ModelOptions& options) {
  check_options(options);
  return std::make_unique<continuous::ContinuousExecutor>(std::move(model), options);
}

}  // namespace tolk::scheduling
