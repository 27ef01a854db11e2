// openmp_workers.h — giving back the OpenMP worker threads a thread started, once it is idle.
//
// Every thread that runs a parallel region (LibTorch's, oneDNN's or tolk's own parallel loops)
// becomes the master of its own team of libgomp workers, kept after the region ends. libgomp
// counts every such worker in the process, and as soon as they outnumber the CPUs it cuts the
// time a worker spins before sleeping from ~300,000 spins to 100: from then on nearly every
// parallel region wakes its workers with a futex call. A decoder step runs hundreds of regions,
// so this costs a lot: measured on this project's 2-vCPU VM, a continuous-mode batch of 256
// sentences ran with ~36,000 context switches and was ~10 % slower whenever the thread that
// loaded the model (or ran an exclusive-mode batch) still held its team, against ~700 context
// switches when only one thread ever computed.
//
// So the engine's threads give their team back when they go idle (an exclusive-mode caller with
// nobody waiting, the continuous scheduler and pool workers before they sleep, a load's
// caller), and only the threads computing right now hold workers. Starting a team again costs
// the creation of its threads (tens of µs), once per burst of work.
#pragma once

namespace tolk::util {

// Ends the calling thread's OpenMP worker threads, if it has any (omp_pause_resource on the
// host). Does nothing inside a parallel region or where tolk is built without OpenMP.
void release_openmp_workers() noexcept;

}  // namespace tolk::util
