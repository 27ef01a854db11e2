// async_runner.h — the engine's threads for translate_async.
//
// An async request is *open* from submit() until request_ended(): bounded by max_open (the
// engine's max_queued_requests). Its first task runs on one of these threads (planning and
// tokenizing the text, then handing the sentences to the model's executor); where the executor
// takes the request without a thread (continuous, pool), the thread is free again at once and
// the request comes back later as a continuation (post()) that assembles and publishes the
// result. Shutdown waits for every open request: their stop checks see shutting_down() and end
// them within one unit of work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tolk::engine {

class AsyncRunner {
 public:
  // A request's first task gets `shutting_down`: true when it runs only to be answered with
  // kShutdown.
  using Task = std::function<void(bool shutting_down)>;

  AsyncRunner(int threads, int64_t max_open);
  ~AsyncRunner();  // = shutdown()

  // Opens a request and queues its first task; false when max_open requests are open or the
  // runner is shutting down (nothing is kept then).
  bool submit(Task task);
  // Queues more work for an open request (never refused; runs even while shutting down).
  void post(std::function<void()> work);
  // Every submitted request calls this exactly once, when its result has been published.
  void request_ended();

  // Stops taking requests, answers the queued ones with shutting_down = true, waits until every
  // open request has ended, joins the threads.
  void shutdown();
  bool shutting_down() const;
  int64_t queued() const;  // tasks waiting for a thread
  int64_t open() const;    // requests submitted and not yet ended

 private:
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int64_t max_open_;
  int64_t open_ = 0;
  // Written under mutex_; read without it by shutting_down(), which every async request's stop
  // check calls (a continuous scheduler asks each live request before each unit of work).
  std::atomic<bool> stopping_{false};
};

}  // namespace tolk::engine
