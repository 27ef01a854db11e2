// pool_executor.cc — N workers over ONE shared copy of the weights.
//
// The Transformer is const and shared; each job builds its own DecoderState, so workers share
// nothing mutable. Jobs wait in one FIFO queue; each worker sets its own intra-op thread count
// (OpenMP's setting is per thread), so workers × threads can be sized to the cores.
#include <ATen/Parallel.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "scheduling/executor.h"
#include "scheduling/executor_stats.h"
#include "tolk/status.h"
#include "util/log.h"
#include "util/openmp_workers.h"

namespace tolk::scheduling {
namespace {

class PoolExecutor final : public Executor {
 public:
  PoolExecutor(std::shared_ptr<const model::Transformer> model, int workers, int threads_per_worker)
      : model_(std::move(model)) {
    for (int i = 0; i < workers; ++i)
      workers_.emplace_back([this, threads_per_worker] { loop(threads_per_worker); });
  }

  ~PoolExecutor() override {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  std::vector<decoding::SequenceOutput> run(const RunRequest& request,
                                            ExecutionStats* stats) override {
    auto job = std::make_shared<Job>();
    job->request = &request;
    job->stats = stats;
    auto done = job->promise.get_future();
    enqueue(job);
    Outcome outcome = done.get();
    if (outcome.code != StatusCode::kOk) throw Error(outcome.code, outcome.message);
    stream_all(request, outcome.outputs);
    return std::move(outcome.outputs);
  }

  bool submit(RunRequest request, RunDone done) override {
    auto job = std::make_shared<Job>();
    job->owned = std::move(request);
    job->request = &*job->owned;
    job->stats = &job->owned_stats;
    job->on_end = std::move(done);
    enqueue(job);
    return true;
  }

  nlohmann::json stats() const override {
    auto j = counters_.to_json();
    j["mode"] = "pool";
    j["workers"] = workers_.size();
    std::lock_guard<std::mutex> guard(mutex_);
    j["waiting_requests"] = queue_.size();
    return j;
  }

 private:
  // A failure crosses threads as a code and a message, not as an exception object: an
  // exception_ptr shared between threads is freed through libstdc++'s own reference count, which
  // ThreadSanitizer cannot see, and a fresh Error per caller is simpler to reason about anyway.
  struct Outcome {
    std::vector<decoding::SequenceOutput> outputs;
    StatusCode code = StatusCode::kOk;
    std::string message;
  };
  // run() keeps its request on the caller's stack and waits on the promise; submit() hands
  // the request over (`owned`) and gets `on_end` called on the worker instead.
  struct Job {
    const RunRequest* request = nullptr;
    ExecutionStats* stats = nullptr;
    std::chrono::steady_clock::time_point queued = std::chrono::steady_clock::now();
    std::promise<Outcome> promise;
    std::optional<RunRequest> owned;
    ExecutionStats owned_stats;
    RunDone on_end;
  };

  void enqueue(std::shared_ptr<Job> job) {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (stopping_) throw Error(StatusCode::kShutdown, "model is being unloaded");
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  static void finish(Job& job, Outcome outcome) {
    if (!job.on_end) {
      job.promise.set_value(std::move(outcome));
      return;
    }
    if (outcome.code == StatusCode::kOk) {
      try {
        stream_all(*job.request, outcome.outputs);
      } catch (...) {  // a throwing callback must not take a worker down
      }
    }
    RunOutcome end;
    end.outputs = std::move(outcome.outputs);
    end.stats = job.owned_stats;
    end.error = outcome.code;
    end.message = std::move(outcome.message);
    RunDone done = std::move(job.on_end);
    job.on_end = nullptr;
    done(std::move(end));
  }

  void loop(int threads) {
    if (threads > 0) at::set_num_threads(threads);
    util::begin_openmp_work();
    model::SlotCache storage;  // this worker's K/V cache, kept between jobs (decoding::generate)
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!stopping_ && queue_.empty())  // idle (util/openmp_workers.h)
          util::wait_for_work(lock, cv_, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      const double wait_ms = std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - job->queued).count();
      Outcome outcome;
      try {
        decoding::GenerationTimings timings;
        const RunRequest& r = *job->request;
        outcome.outputs = decoding::generate(*model_, r.inputs, r.params, &timings, r.stop, &storage);
        counters_.add_request(outcome.outputs, timings.encode_ms + timings.decode_ms);
        if (job->stats) {
          job->stats->queue_ms = wait_ms;
          job->stats->timings = timings;
        }
      } catch (const Error& e) {
        outcome = Outcome{{}, e.code(), e.what()};
      } catch (const std::exception& e) {  // LibTorch's c10::Error and the like: a bug
        outcome = Outcome{{}, StatusCode::kInternal, e.what()};
      } catch (...) {
        outcome = Outcome{{}, StatusCode::kInternal, "unknown exception in a worker"};
      }
      finish(*job, std::move(outcome));
    }
  }

  std::shared_ptr<const model::Transformer> model_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  ExecutorCounters counters_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<Executor> make_pool_executor(std::shared_ptr<const model::Transformer> model,
                                             int workers, int threads_per_worker) {
  return std::make_unique<PoolExecutor>(std::move(model), workers, threads_per_worker);
}

}  // namespace tolk::scheduling
