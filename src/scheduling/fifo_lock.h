// fifo_lock.h — a ticket lock: waiters acquire in arrival order (std::mutex promises no order).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tolk::scheduling {

class FifoLock {
 public:
  void lock() {
    std::unique_lock<std::mutex> guard(mutex_);
    const uint64_t ticket = next_ticket_++;
    cv_.wait(guard, [&] { return serving_ == ticket; });
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      ++serving_;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t next_ticket_ = 0;
  uint64_t serving_ = 0;
};

}  // namespace tolk::scheduling
