// openmp_workers.h — only the threads computing right now keep OpenMP worker threads.
//
// Every thread that runs a parallel region (LibTorch's, oneDNN's or tolk's own parallel loops)
// becomes the master of its own team of libgomp workers, kept after the region ends. libgomp
// counts every such worker in the process, and as soon as they outnumber the CPUs it cuts the
// time a worker spins before sleeping from ~300,000 spins to 100: from then on nearly every
// parallel region wakes its workers with a futex call, a system call that a VM makes dear, and
// a decoder step runs hundreds of regions. Measured on this project's 2-vCPU VM (tolk_bench
// --scenario efficiency, bf16, 256 sentences: static batches on the main thread alternating
// with continuous ones on the scheduler thread): 217,000–239,000 context switches per run with
// every team kept, 33,000–77,000 with idle threads giving theirs back.
//
// Giving a team back is not free either: the next burst of work starts new threads, which cost
// the demo model's one-sentence latency (bf16, 2 threads, exclusive mode) 0.6–2 ms on a 3.4 ms
// request when done after every request. So a thread gives its team back when it goes idle
// only once several threads have computed in this process (an exclusive caller beside a
// continuous scheduler, pool workers, several callers): a process where one thread does all
// the work keeps its team.
//
// A thread idle while it was the only one computing keeps its team, and so would throttle the
// next thread that starts computing (a continuous model's scheduler, idle, while an exclusive
// model's caller runs: 13,000-17,000 context switches per static batch of 256 sentences here
// instead of ~200). wait_for_work() is the idle wait that gives the team back at that moment.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

namespace tolk::util {

// The calling thread is about to run inference (parallel regions).
void begin_openmp_work() noexcept;

// The calling thread has no more work for now: if other threads have computed in this process
// too, its OpenMP workers end (omp_pause_resource on the host).
void end_openmp_work() noexcept;

// An idle computing thread's wait: end_openmp_work(), then cv.wait(lock, ready), then
// begin_openmp_work() — and if another thread begins work meanwhile while this one still keeps
// its workers, this one wakes to give them back and goes on waiting. `lock` is held on entry and
// on return (it is released around the OpenMP calls, which take no lock of the caller's).
void wait_for_work(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                   const std::function<bool()>& ready);

// Ends the calling thread's OpenMP workers now, whoever else computes (after a model load,
// which runs parallel loops on the caller's thread once).
void release_openmp_workers() noexcept;

}  // namespace tolk::util
