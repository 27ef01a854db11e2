// async_runner.h — the engine's threads for translate_async: a bounded FIFO of tasks.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tolk::engine {

class AsyncRunner {
 public:
  // A task gets `shutting_down`: true when it runs only to be answered with kShutdown.
  using Task = std::function<void(bool shutting_down)>;

  AsyncRunner(int threads, int64_t max_queued);
  ~AsyncRunner();  // = shutdown()

  // Queues a task; false when the queue is full or the runner is shutting down.
  bool submit(Task task);
  // Answers every queued task with shutting_down = true, lets running tasks finish, joins.
  void shutdown();
  bool shutting_down() const;
  int64_t queued() const;  // tasks waiting for a thread

 private:
  void loop();

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::vector<std::thread> threads_;
  int64_t max_queued_;
  bool stopping_ = false;
};

}  // namespace tolk::engine
