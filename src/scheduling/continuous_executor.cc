// continuous_executor.cc — iteration-level batching (DESIGN.md "Continuous batching").
//
// One scheduler thread per model owns a BatchDecoder. Callers' sentences wait in three FIFO
// queues (interactive, normal, bulk: waiting_queues.h). Each iteration the loop checks every
// request's stop condition (cancel, deadline, shutdown), takes waiting sentences within the
// batch budgets into an encoder job (at most encode_chunk_tokens of source each), runs ONE
// encoder layer of the most urgent job (a job joins the decoder after its last layer), and runs
// one decoder step — unless no interactive work is present and encoder jobs are in progress:
// then those finish first, so that a burst joins one full step. Work is cut this small so an
// arriving interactive request waits only for the unit in progress: a decoder step that
// includes non-interactive rows is abandoned between layers as soon as an interactive
// sentence waits (it is simply run again later), an
// interactive job overtakes the other encoder jobs, which keep their state. A cache growth is
// a copy of the live rows into new, unzeroed storage (grow_cache_for).
// While interactive work is live, bulk rows sit out the steps (they keep their cache slots)
// and bulk newcomers wait; if interactive load lasts longer than bulk_grace_ms, bulk gets
// bulk_min_share of the steps, so it always finishes. Finished sentences leave at once; a request ends when its last sentence does
// (continuous_job.h: run() wakes its caller, submit() calls its completion).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <thread>

#include "decoding/batch_decoder.h"
#include "decoding/encode_job.h"
#include "scheduling/continuous_job.h"
#include "scheduling/continuous_stats.h"
#include "scheduling/executor.h"
#include "scheduling/executor_stats.h"
#include "scheduling/waiting_queues.h"
#include "tolk/status.h"
#include "util/log.h"
#include "util/openmp_workers.h"

namespace tolk::scheduling {
namespace {

using continuous::clock_type;
using continuous::Encoding;
using continuous::Job;
using continuous::Live;
using continuous::ms_between;
using continuous::Pending;
using continuous::tier_of;
using continuous::WaitingQueues;

class ContinuousExecutor final : public Executor {
 public:
  ContinuousExecutor(std::shared_ptr<const model::Transformer> model, const ModelOptions& o)
      : model_(std::move(model)), options_(o), queues_(o.aging_ms) {
    thread_ = std::thread([this] { loop(); });
  }

  ~ContinuousExecutor() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shutdown_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  std::vector<decoding::SequenceOutput> run(const RunRequest& request,
                                            ExecutionStats* stats) override {
    if (request.inputs.empty()) return {};
    auto job = make_job(request);
    std::unique_lock<std::mutex> lock(mutex_);
    enqueue_locked(job, request);
    job->done.wait(lock, [&] { return job->finished; });
    if (job->error != StatusCode::kOk) throw Error(job->error, job->message);
    if (stats) *stats = continuous::job_stats(*job);
    return std::move(job->outputs);
  }

  bool submit(RunRequest request, RunDone done) override {
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

 private:
  std::shared_ptr<Job> make_job(const RunRequest& request) const {
    return continuous::make_job(request, options_.max_batch_tokens);
  }

  // --- under mutex_ -------------------------------------------------------------------------

  void enqueue_locked(const std::shared_ptr<Job>& job, const RunRequest& request) {
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
  void end_locked(const std::shared_ptr<Job>& job) {
    counters_.add_request();
    continuous::end_job(*job);
  }

  // Ends a job with an error; its sentences still queued are dropped here, live ones by the
  // caller (the loop owns the decoder).
  void fail_locked(const std::shared_ptr<Job>& job, StatusCode code, const std::string& message) {
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
  std::vector<Pending> take_admissions_locked(bool bulk_allowed, bool interactive_only,
                                              bool burst) {
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

  // --- the scheduler thread -----------------------------------------------------------------

  void loop() {
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

  bool sentences_waiting() {
    std::lock_guard<std::mutex> lock(mutex_);
    return queues_.size() > 0;
  }

  // Idle model and a batch window: wait for more arrivals (or a full batch) before starting.
  void gather_burst(std::unique_lock<std::mutex>& lock) {
    const auto until = clock_type::now() + std::chrono::milliseconds(options_.batch_window_ms);
    wake_.wait_until(lock, until, [&] {
      return shutdown_ || queues_.size() >= options_.max_batch_sequences;
    });
  }

  // Cancelled, expired or shut-down requests leave before the next unit of work.
  void check_stops(decoding::BatchDecoder& decoder, std::vector<Pending>& admit,
                   const std::vector<Encoding>& encoding) {
    std::map<Job*, StatusCode> verdict;
    auto judge = [&](const std::shared_ptr<Job>& job) {
      auto it = verdict.find(job.get());
      if (it != verdict.end()) return it->second;
      StatusCode code = StatusCode::kOk;
      if (job->stop) code = job->stop();
      verdict[job.get()] = code;
      return code;
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

  static std::string stop_message(StatusCode code) {
    switch (code) {
      case StatusCode::kCancelled: return "request cancelled";
      case StatusCode::kTimeout: return "request deadline passed";
      case StatusCode::kShutdown: return "engine is shutting down";
      default: return "request stopped";
    }
  }

  // Live sentences of jobs that already ended (failed) leave the decoder.
  void drop_finished_locked(decoding::BatchDecoder& decoder) {
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

  // Pads the newcomers and embeds them, one encoder job per batch of similar length
  // (split_for_encoding): the first layers run in later units.
  void start_encoding(std::vector<Pending>& admit, std::vector<Encoding>& encoding) {
    for (auto& part : continuous::split_for_encoding(std::move(admit), options_.encode_chunk_tokens))
      start_encoding_job(part, encoding);
    admit.clear();
  }

  void start_encoding_job(std::vector<Pending>& admit, std::vector<Encoding>& encoding) {
    std::vector<decoding::Admission> items;
    for (auto& p : admit) items.push_back({p.id, p.tier, p.input, p.params});
    const auto t0 = clock_type::now();
    Encoding e;
    try {
      e.job = std::make_unique<decoding::EncodeJob>(*model_, std::move(items));
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& p : admit) {
        live_cost_ -= p.cost;
        --encoding_sentences_;
        fail_locked(p.job, StatusCode::kInternal, ex.what());
      }
      return;
    }
    e.ms = ms_between(t0, clock_type::now());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& p : admit)
        if (!p.job->first_admitted) p.job->first_admitted = t0;
    }
    e.pending = std::move(admit);
    encoding.push_back(std::move(e));
  }

  // Runs one encoder layer of the most urgent runnable job; a job whose last layer is done
  // joins the decoder (cross-attention K/V computed once, slots opened). Jobs whose requests
  // have all ended are dropped unfinished. Returns whether any work was done.
  bool run_encoder_unit(decoding::BatchDecoder& decoder, std::vector<Encoding>& encoding,
                        bool bulk_allowed) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      encoding.erase(std::remove_if(encoding.begin(), encoding.end(), [&](const Encoding& e) {
                       const bool all_ended = std::all_of(
                           e.pending.begin(), e.pending.end(),
                           [](const Pending& p) { return p.job->finished; });
                       if (all_ended)
                         for (const auto& p : e.pending) {
                           live_cost_ -= p.cost;
                           --encoding_sentences_;
                         }
                       return all_ended;
                     }), encoding.end());
    }
    // A job whose encoder is done (and whose tier may run) joins the decoder, as this unit.
    for (auto it = encoding.begin(); it != encoding.end(); ++it) {
      if (!it->job->done() || (it->job->tier() == 2 && !bulk_allowed)) continue;
      admit_encoded(decoder, *it, encoding);
      encoding.erase(it);
      return true;
    }
    auto best = encoding.end();
    for (auto it = encoding.begin(); it != encoding.end(); ++it) {
      if (it->job->done() || (it->job->tier() == 2 && !bulk_allowed)) continue;
      if (best == encoding.end() || it->job->tier() < best->job->tier()) best = it;
    }
    if (best == encoding.end()) return false;
    // An interactive job runs all its layers back to back (still one unit each): interleaving
    // them with decoder steps would make it wait for every step of the requests ahead of it.
    do {
      const auto t0 = clock_type::now();
      try {
        best->job->step();
      } catch (const std::exception& ex) {
        fail_encoding(*best, ex);
        encoding.erase(best);
        return true;
      }
      const double ms = ms_between(t0, clock_type::now());
      best->ms += ms;
      note_unit(ms, "encoder layer", static_cast<int64_t>(best->pending.size()));
      counters_.add_busy(ms);
    } while (best->job->tier() == 0 && !best->job->done());
    if (best->job->done()) {
      admit_encoded(decoder, *best, encoding);
      encoding.erase(best);
    }
    return true;
  }

  // What the cache should hold for the work already known: the live rows plus every waiting
  // sentence's rows (the running encoder jobs and the queues), within twice the batch budget.
  // Sizing for it at once avoids repeated doublings, each a copy of the whole cache that an
  // arriving interactive request would have to wait for (and, while storage is prepared,
  // decoder steps that run part-full).
  decoding::CacheCapacity expected_capacity(const decoding::BatchDecoder& decoder,
                                            const std::vector<Encoding>& encoding) {
    decoding::CacheCapacity c;
    c.rows = decoder.rows();
    int64_t sentences = static_cast<int64_t>(decoder.sentences());
    const int64_t cap = 2 * options_.max_batch_sequences;
    auto add = [&](const decoding::GenerationParams& params, const decoding::SequenceInput& input) {
      if (sentences >= cap) return false;
      ++sentences;
      c.rows += decoding::BatchDecoder::rows_for(params);
      c.max_length = std::max(c.max_length, params.max_length);
      c.max_source = std::max(c.max_source, static_cast<int64_t>(input.source_ids.size()));
      return true;
    };
    for (const auto& e : encoding)
      for (const auto& p : e.pending)
        if (!add(p.params, p.input)) return c;
    std::lock_guard<std::mutex> lock(mutex_);
    // Stops at the cap: the queues may hold far more sentences than a batch ever takes.
    for (int t = 0; t < WaitingQueues::kTiers; ++t)
      for (const auto& p : queues_.tier(t))
        if (!add(p.params, p.input)) return c;
    return c;
  }

  void fail_encoding(Encoding& e, const std::exception& ex) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : e.pending) {
      live_cost_ -= p.cost;
      --encoding_sentences_;
      fail_locked(p.job, StatusCode::kInternal, ex.what());
    }
  }

  // A finished encoder job's sentences (those whose requests are still on) join the decoder,
  // or fail with the job.
  void admit_encoded(decoding::BatchDecoder& decoder, Encoding& e,
                     const std::vector<Encoding>& encoding) {
    // The cache grows (if it must) inside decoder.admit_encoded, at once, for these sentences
    // and `expected`, so that a burst grows it once. New storage is not zeroed (attend_rows
    // reads only written keys), so a growth costs the copy of the live rows. (Zeroing it in
    // slices between other units, as before, cost the continuous mode 5–30 % against a static
    // batch of the same 64 sentences: their join waited for it.)
    const auto expected =
        e.job->tier() == 0 ? decoding::CacheCapacity() : expected_capacity(decoder, encoding);
    std::vector<decoding::Admission> items;
    std::vector<int64_t> rows;
    std::vector<Pending> joining;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t j = 0; j < e.pending.size(); ++j) {
        auto& p = e.pending[j];
        --encoding_sentences_;
        if (p.job->finished) {
          live_cost_ -= p.cost;
          continue;
        }
        items.push_back(e.job->items()[j]);
        rows.push_back(static_cast<int64_t>(j));
        joining.push_back(std::move(p));
      }
    }
    if (joining.empty()) return;
    const auto t0 = clock_type::now();
    const auto shape_before = decoder.cache_shape();
    std::vector<decoding::Finished> done;
    try {
      decoder.admit_encoded(items, e.job->result(), rows, &done, expected);
      if (!shape_before.covers(decoder.cache_shape()))
        unit_stats_.add_growth(decoder.cache_shape().rows);
    } catch (const std::exception& ex) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& p : joining) {
        decoder.remove(p.id);
        live_cost_ -= p.cost;
        fail_locked(p.job, StatusCode::kInternal, ex.what());
      }
      return;
    }
    const double ms = ms_between(t0, clock_type::now());
    note_unit(ms, "join (cross K/V, slots)", static_cast<int64_t>(joining.size()));
    counters_.add_busy(ms);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const double share = (e.ms + ms) / static_cast<double>(joining.size());
      for (auto& p : joining) {
        p.job->encode_ms += share;
        live_.emplace(p.id, Live{p.job, p.index, p.cost});
      }
    }
    log::debug("continuous: admitted {} sentences (encoder {:.3f} ms, join {:.3f} ms; {} live)",
               joining.size(), e.ms, ms, decoder.sentences());
    deliver(std::move(done));
    return;
  }

  void deliver(std::vector<decoding::Finished> finished) {
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
  void record_step(int64_t rows, double ms) {
    unit_stats_.add_step(rows);
    counters_.add_busy(ms);
  }

 public:
  nlohmann::json stats() const override {
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

 private:

  // A failing decoder step takes the whole running batch with it; queued work continues.
  void fail_all_live(decoding::BatchDecoder& decoder, const std::exception& e) {
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
  void note_unit(double ms, const char* what, int64_t rows) {
    unit_stats_.note_unit(ms, what, rows, interactive_waiting_.load(std::memory_order_relaxed) > 0);
  }

  std::shared_ptr<const model::Transformer> model_;
  const ModelOptions options_;
  ExecutorCounters counters_;
  ContinuousStats unit_stats_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  WaitingQueues queues_;
  std::map<uint64_t, Live> live_;   // written by the loop, under mutex_
  int64_t live_cost_ = 0;
  int64_t encoding_sentences_ = 0;  // taken from the queues, encoder running (loop thread)
  // Interactive sentences waiting: read without the lock by a running decoder
  // step, which abandons itself between layers when this becomes non-zero.
  std::atomic<int64_t> interactive_waiting_{0};
  uint64_t next_id_ = 1;
  bool shutdown_ = false;
  std::thread thread_;
};

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
  return std::make_unique<ContinuousExecutor>(std::move(model), options);
}

}  // namespace tolk::scheduling
