// openmp_workers.cc — see openmp_workers.h.
#include "util/openmp_workers.h"

#include <atomic>

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

}  // namespace

void begin_openmp_work() noexcept {
  const void* previous = last_master.exchange(this_thread_tag());
  if (previous != nullptr && previous != this_thread_tag()) several_masters.store(true);
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
