// openmp_workers.cc — see openmp_workers.h.
#include "util/openmp_workers.h"

#include <algorithm>
#include <atomic>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace tolk::util {
namespace {

// The thread that began work last (null: none since the last release), and whether a second
// thread has ever begun work while another one's team may still have been alive.
std::atomic<const void*> last_master{nullptr};
std::atomic<bool> several_masters{false};

const void* this_thread_tag() {
  thread_local char tag;
  return &tag;
}

// Threads in wait_for_work() that still keep their workers, and how to wake them.
struct IdleMaster {
  const void* tag;
  std::condition_variable* cv;
  std::atomic<bool> give_back{false};
};
std::mutex idle_mutex;
std::vector<IdleMaster*> idle_masters;  // under idle_mutex

}  // namespace

void begin_openmp_work() noexcept {
  const void* self = this_thread_tag();
  const void* previous = last_master.exchange(self);
  if (previous == nullptr || previous == self) return;
  several_masters.store(true);
  // Idle threads that kept their teams give them back now. Their cv is notified without their
  // mutex: a notification that lands between a waiter's check and its sleep is lost, which
  // leaves that team alive until the waiter's next work — as before this existed, no worse.
  std::lock_guard<std::mutex> guard(idle_mutex);
  for (IdleMaster* m : idle_masters)
    if (m->tag != self) {
      m->give_back.store(true);
      m->cv->notify_all();
    }
}

void wait_for_work(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                   const std::function<bool()>& ready) {
  lock.unlock();
  end_openmp_work();
  IdleMaster me{this_thread_tag(), &cv};
  // Registered only while it keeps its workers: after end_openmp_work, that is when it was the
  // only thread to compute (it is still the last master).
  bool registered = false;
  if (last_master.load() == me.tag) {
    std::lock_guard<std::mutex> guard(idle_mutex);
    idle_masters.push_back(&me);
    registered = true;
  }
  // A second thread that began work before the registration could not see it.
  if (registered && several_masters.load()) me.give_back.store(true);
  const auto unregister = [&] {
    if (!registered) return;
    std::lock_guard<std::mutex> guard(idle_mutex);
    idle_masters.erase(std::find(idle_masters.begin(), idle_masters.end(), &me));
    registered = false;
  };
  lock.lock();
  cv.wait(lock, [&] { return ready() || me.give_back.load(); });
  if (!ready()) {  // another thread began work: give the workers back, then wait on
    lock.unlock();
    unregister();
    release_openmp_workers();
    lock.lock();
    cv.wait(lock, ready);
  }
  lock.unlock();
  unregister();
  begin_openmp_work();
  lock.lock();
}

void end_openmp_work() noexcept {
  if (several_masters.load()) release_openmp_workers();
}

void release_openmp_workers() noexcept {
#ifdef _OPENMP
  // libgomp frees only the calling thread's pool here (and refuses inside a parallel region).
  if (omp_in_parallel()) return;
  omp_pause_resource(omp_pause_soft, omp_get_initial_device());
#endif
  const void* self = this_thread_tag();
  last_master.compare_exchange_strong(self, nullptr);
}

}  // namespace tolk::util
