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
#include <thread>

#include "scheduling/executor.h"
#include "scheduling/executor_stats.h"
#include "tolk/status.h"
#include "util/log.h"

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
    Job job{&request, stats, std::chrono::steady_clock::now(), {}};
    auto done = job.promise.get_future();
    {
      std::lock_guard<std::mutex> guard(mutex_);
      if (stopping_) throw Error(StatusCode::kShutdown, "model is being unloaded");
      queue_.push_back(&job);
    }
    cv_.notify_one();
    Outcome outcome = done.get();
    if (outcome.code != StatusCode::kOk) throw Error(outcome.code, outcome.message);
    stream_all(request, outcome.outputs);
    return std::move(outcome.outputs);
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
  struct Job {
    const RunRequest* request;
    ExecutionStats* stats;
    std::chrono::steady_clock::time_point queued;
    std::promise<Outcome> promise;
  };

  void loop(int threads) {
    if (threads > 0) at::set_num_threads(threads);
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = queue_.front();
        queue_.pop_front();
      }
      const double wait_ms = std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - job->queued).count();
      try {
        decoding::GenerationTimings timings;
        const RunRequest& r = *job->request;
        auto out = decoding::generate(*model_, r.inputs, r.params, &timings, r.stop);
        counters_.add_request(out, timings.encode_ms + timings.decode_ms);
        if (job->stats) {
          job->stats->queue_ms = wait_ms;
          job->stats->timings = timings;
        }
        job->promise.set_value(Outcome{std::move(out), StatusCode::kOk, {}});
      } catch (const Error& e) {
        job->promise.set_value(Outcome{{}, e.code(), e.what()});
      } catch (const std::exception& e) {  // LibTorch's c10::Error and the like: a bug
        job->promise.set_value(Outcome{{}, StatusCode::kInternal, e.what()});
      } catch (...) {
        job->promise.set_value(Outcome{{}, StatusCode::kInternal, "unknown exception in a worker"});
      }
    }
  }

  std::shared_ptr<const model::Transformer> model_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
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
