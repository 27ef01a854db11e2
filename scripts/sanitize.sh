#!/usr/bin/env bash
# Builds tolk instrumented with a sanitizer in its own tree and runs the test suite under it.
#   scripts/sanitize.sh address   # ASan + UBSan, tree build-asan/
#   scripts/sanitize.sh thread    # TSan,         tree build-tsan/
#   SANITIZE_SHORT=1 scripts/sanitize.sh thread   # only the concurrency tests + stress.short
# Every ctest test runs except the FFI clients and the install check (other processes and
# runtimes that would need the sanitizer runtime preloaded). Suppressions, all for LibTorch's
# uninstrumented internals, are in tests/sanitizers/ with the reason for each.
set -euo pipefail
cd "$(dirname "$0")/.."
KIND=${1:?usage: scripts/sanitize.sh address|thread}
case "$KIND" in
  address) DIR=${TOLK_SANITIZE_BUILD_DIR:-build-asan} ;;
  thread) DIR=${TOLK_SANITIZE_BUILD_DIR:-build-tsan} ;;
  *) echo "usage: scripts/sanitize.sh address|thread" >&2; exit 2 ;;
esac
source scripts/cpu-env.sh
# -O1 -g1: instrumented LibTorch-heavy code compiles several times faster than at -O2 -g, and the
# sanitizers' reports still carry file:line.
# TSan cannot see libgomp's barriers (libgomp is not instrumented), so under it tolk's own
# parallel loops run on the calling thread (-DTOLK_OPENMP=OFF); the engine's threads are checked.
OPENMP=ON
[ "$KIND" = thread ] && OPENMP=OFF
cmake -S . -B "$DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOLK_SANITIZE="$KIND" -DTOLK_OPENMP=$OPENMP \
      -DTOLK_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
      -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" >/dev/null
TOLK_BUILD_DIR=$DIR bash scripts/build.sh

SUPP=$PWD/tests/sanitizers
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0:strict_string_checks=1"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$SUPP/tsan.supp:halt_on_error=1:second_deadlock_stack=1:history_size=4"

cd "$DIR"
SELECT=(-LE "ffi|packaging")
if [ -n "${SANITIZE_SHORT:-}" ]; then
  SELECT+=(-R "async|thread|concurren|continuous|pool|loader|cancel|stress|C ABI: (cancel|engine free|one engine)")
fi
start=$(date +%s)
ctest --output-on-failure -j "${TOLK_JOBS:-$(nproc)}" --timeout 1800 "${SELECT[@]}"
echo "sanitize.sh $KIND: suite passed in $(( $(date +%s) - start )) s"
