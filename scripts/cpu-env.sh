# Sourced by the scripts: CPU settings that only the process environment can make.
# Debian's OpenBLAS 0.3.21 takes CPUs newer than it knows (AVX-512 with AMX) for "Prescott" and
# runs generic kernels; naming the core type gives the AVX-512 ones (measured here: float32
# training 1.1k → 2.7k tokens/s). OpenBLAS reads this once, when it is loaded.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
