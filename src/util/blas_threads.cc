// blas_threads.cc — see blas_threads.h.
#include "util/blas_threads.h"

#include <dlfcn.h>

namespace tolk::util {

bool keep_blas_on_calling_thread() noexcept {
  // Looked up at run time: tolk does not link OpenBLAS itself, LibTorch does.
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (!set) return false;
  set(1);
  return true;
}

}  // namespace tolk::util
