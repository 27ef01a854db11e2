// openmp_workers.cc — see openmp_workers.h.
#include "util/openmp_workers.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace tolk::util {

void release_openmp_workers() noexcept {
#ifdef _OPENMP
  // libgomp frees only the calling thread's pool here (and refuses inside a parallel region).
  if (!omp_in_parallel()) omp_pause_resource(omp_pause_soft, omp_get_initial_device());
#endif
}

}  // namespace tolk::util
