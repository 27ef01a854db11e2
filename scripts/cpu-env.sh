# Sourced by the scripts: CPU settings that only the process environment can make.
# Debian's OpenBLAS 0.3.21 takes CPUs newer than it knows (AVX-512 with AMX) for "Prescott" and
# runs generic kernels; naming the core type gives the AVX-512 ones (measured here: float32
# training 1.1k → 2.7k tokens/s). OpenBLAS reads this once, when it is loaded.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
# glibc returns large blocks (over its dynamic mmap threshold, at most 32 MiB) to the kernel at
# every free, and trims the heap top soon after, so a decoder step's big temporaries (logits,
# attention scores, K/V views of long caches) are page-faulted in again at every step. Keeping
# them in the heap cut system time from 10.4 to 4.9 s and raised batched bf16 decoding from
# 43.3 to 46.6 GFLOP/s in the efficiency benchmark here. Hosts embedding tolk can set the same.
if [ -z "${GLIBC_TUNABLES:-}" ]; then
  export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824
fi
# OpenBLAS's own threads spin (calling sched_yield) for about 2^28 cycles after each call before
# they sleep, on the same cores LibTorch's OpenMP threads need next. Letting them sleep at once
# cut the efficiency benchmark's system time from 37.7 to 8.1 s here (float32 continuous
# decoding 12.9 → 10.2 s for the same work).
if [ -z "${OPENBLAS_THREAD_TIMEOUT:-}" ]; then
  export OPENBLAS_THREAD_TIMEOUT=4
fi
