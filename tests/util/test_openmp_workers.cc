// Idle computing threads give their OpenMP workers back once another thread computes
// (util/openmp_workers.h): otherwise libgomp counts more workers than CPUs and throttles
// every team's spin-waiting. Built only where tolk's parallel loops are OpenMP ones.
#ifdef TOLK_TEST_OPENMP
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "util/openmp_workers.h"

namespace {

int64_t threads_in_process() {
  int64_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Polls for up to five seconds: libgomp's workers leave asynchronously.
bool becomes(int64_t want) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    if (threads_in_process() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return threads_in_process() == want;
}

}  // namespace

TEST_CASE("openmp workers: a sole idle master gives its team back when another begins work",
          "[openmp]") {
  std::mutex mutex;
  std::condition_variable cv;
  bool go = false, waiting = false;
  const int64_t base = threads_in_process();
  std::thread master([&] {
    tolk::util::begin_openmp_work();
    at::set_num_threads(3);
    auto t = torch::rand({int64_t{1} << 22});
    (void)(t * 2.0f).sum().item<float>();  // a parallel region: a team of 3, 2 of them workers
    std::unique_lock<std::mutex> lock(mutex);
    waiting = true;
    cv.notify_all();
    tolk::util::wait_for_work(lock, cv, [&] { return go; });
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return waiting; });
  }
  // The only thread that has computed keeps its workers while idle (no other thread computes).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int64_t idle = threads_in_process();
  INFO("threads before: " << base << ", with the idle master: " << idle);
  CHECK(idle >= base + 3);  // the master and its two workers (LibTorch may add pools of its own)
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(threads_in_process() == idle);
  // This thread begins work: the idle one wakes and ends its two workers, and goes on waiting.
  tolk::util::begin_openmp_work();
  CHECK(becomes(idle - 2));
  {
    std::lock_guard<std::mutex> lock(mutex);
    go = true;
  }
  cv.notify_all();
  master.join();
  tolk::util::release_openmp_workers();
}
#endif  // TOLK_TEST_OPENMP
