// async_runner.cc — see async_runner.h.
#include "engine/async_runner.h"

namespace tolk::engine {

AsyncRunner::AsyncRunner(int threads, int64_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

AsyncRunner::~AsyncRunner() { shutdown(); }

bool AsyncRunner::submit(Task task) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stopping_ || static_cast<int64_t>(queue_.size()) >= max_queued_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

bool AsyncRunner::shutting_down() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return stopping_;
}

int64_t AsyncRunner::queued() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return static_cast<int64_t>(queue_.size());
}

void AsyncRunner::shutdown() {
  std::deque<Task> pending;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    pending.swap(queue_);
  }
  cv_.notify_all();
  for (auto& task : pending) task(true);
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void AsyncRunner::loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(false);
  }
}

}  // namespace tolk::engine
