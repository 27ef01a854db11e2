// exclusive_executor.cc — one inference at a time per model, FIFO-fair, wait time measured.
#include <atomic>
#include <chrono>
#include <mutex>

#include "scheduling/executor.h"
#include "scheduling/executor_stats.h"
#include "scheduling/fifo_lock.h"
#include "tolk/status.h"
#include "util/log.h"
#include "util/openmp_workers.h"

namespace tolk::scheduling {
namespace {

class ExclusiveExecutor final : public Executor {
 public:
  explicit ExclusiveExecutor(std::shared_ptr<const model::Transformer> model)
      : model_(std::move(model)) {}

  std::vector<decoding::SequenceOutput> run(const RunRequest& request,
                                            ExecutionStats* stats) override {
    using clock = std::chrono::steady_clock;
    const auto asked = clock::now();
    ++waiting_;
    std::unique_lock<FifoLock> guard(lock_);
    --waiting_;
    util::begin_openmp_work();
    const double wait_ms = std::chrono::duration<double, std::milli>(clock::now() - asked).count();
    log::debug("exclusive: inference lock taken after {:.3f} ms ({} sentences)", wait_ms,
               request.inputs.size());
    decoding::GenerationTimings timings;
    auto out = decoding::generate(*model_, request.inputs, request.params, &timings, request.stop,
                                  &storage_);
    log::debug("exclusive: inference lock released after {:.3f} ms",
               timings.encode_ms + timings.decode_ms);
    counters_.add_request(out, timings.encode_ms + timings.decode_ms);
    if (stats) {
      stats->queue_ms = wait_ms;
      stats->timings = timings;
    }
    stream_all(request, out);
    guard.unlock();
    // The caller's thread computed; with nobody waiting for the model it may be idle a while.
    if (waiting_.load() == 0) util::end_openmp_work();
    return out;
  }

  nlohmann::json stats() const override {
    auto j = counters_.to_json();
    j["mode"] = "exclusive";
    j["waiting_requests"] = waiting_.load();
    return j;
  }

 private:
  std::shared_ptr<const model::Transformer> model_;
  FifoLock lock_;
  // The K/V cache, kept between requests (guarded by lock_): see decoding::generate.
  model::SlotCache storage_;
  std::atomic<int64_t> waiting_{0};
  ExecutorCounters counters_;
};

}  // namespace

std::unique_ptr<Executor> make_executor(const ModelOptions& options,
                                        std::shared_ptr<const model::Transformer> model) {
  switch (options.mode) {
    case ExecutionMode::kExclusive:
      return std::make_unique<ExclusiveExecutor>(std::move(model));
    case ExecutionMode::kPool:
      if (options.workers < 1 || options.workers > 256)
        throw Error(StatusCode::kInvalidArgument, "workers must be in [1, 256]");
      if (options.threads_per_worker < 0)
        throw Error(StatusCode::kInvalidArgument, "threads_per_worker must be >= 0");
      return make_pool_executor(std::move(model), options.workers, options.threads_per_worker);
    case ExecutionMode::kContinuous:
      return make_continuous_executor(std::move(model), options);
  }
  throw Error(StatusCode::kInvalidArgument, "unknown execution mode");
}

}  // namespace tolk::scheduling
