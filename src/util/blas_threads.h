// blas_threads.h — one pool of compute threads per process: LibTorch's OpenMP pool.
//
// Debian's LibTorch calls OpenBLAS (the pthreads build), which keeps its own pool of one thread
// per core beside LibTorch's OpenMP pool. With both pools live on 2 cores, OpenBLAS's workers
// and OpenMP's spin-waiting workers take turns on the same cores: measured on the demo model,
// one sentence in float32 with 2 intra-op threads took 82.5 ms, and 29.2 ms with OpenBLAS on
// one thread. So the engine keeps OpenBLAS on the calling thread, and tolk's own BLAS products
// split their output columns over the OpenMP pool instead (model/linear.cc).
#pragma once

namespace tolk::util {

// Asks OpenBLAS, when it is the BLAS in this process, to run on the calling thread. Returns
// whether it did (false: another BLAS, which then keeps its own setting). Process-wide.
bool keep_blas_on_calling_thread() noexcept;

}  // namespace tolk::util
