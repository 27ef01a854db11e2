#!/usr/bin/env bash
# Builds tolk's libFuzzer targets (tests/fuzz) with clang into build-fuzz/ and runs each one for
# SECONDS_PER_TARGET seconds (default 60) on a scratch copy of its seed corpus, so the committed
# corpus never grows. Prints executions, exec/s and crashes per target; exits non-zero if any
# target crashed, leaked, timed out or ran out of memory (the reproducer is kept under
# build-fuzz/run/<target>/artifacts/).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# Needs clang and libFuzzer (Debian: clang-14 libclang-rt-14-dev) and a tolk build holding
# libtolk_c.so and libtolk_spm.so for the C API target (scripts/test.sh builds it).
# Environment: TOLK_BUILD_DIR (default build/), TOLK_FUZZ_BUILD_DIR (default build-fuzz/),
# TOLK_FUZZ_TARGETS (space-separated subset, e.g. "safetensors pickle"), TOLK_FUZZ_JOBS
# (parallel compile jobs, default all cores), CXX_FUZZ (the clang++ to use).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
tolk_build=$(realpath -m "${TOLK_BUILD_DIR:-$root/build}")
fuzz_build=$(realpath -m "${TOLK_FUZZ_BUILD_DIR:-$root/build-fuzz}")
targets=${TOLK_FUZZ_TARGETS:-"safetensors pickle config_json tokenizer_json capi_text"}
# shellcheck source=scripts/cpu-env.sh
source scripts/cpu-env.sh

cxx=${CXX_FUZZ:-}
if [[ -z $cxx ]]; then
  for c in clang++ clang++-14; do command -v "$c" >/dev/null && { cxx=$c; break; }; done
fi
[[ -n $cxx ]] || { echo "fuzz.sh: clang++ not found (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
if [[ " $targets " == *" capi_text "* && ! -e $tolk_build/libtolk_c.so ]]; then
  echo "fuzz.sh: $tolk_build/libtolk_c.so is missing: build tolk first (scripts/test.sh)" >&2
  exit 1
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
configure=(-DTOLK_BUILD_DIR="$tolk_build" "${launcher[@]}")
# The compiler and generator can only be chosen when the folder is first configured.
[[ -f $fuzz_build/CMakeCache.txt ]] || configure+=("${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx")
mkdir -p "$fuzz_build"
cmake -S tests/fuzz -B "$fuzz_build" "${configure[@]}" >"$fuzz_build/configure.log" 2>&1 ||
  { cat "$fuzz_build/configure.log" >&2; exit 1; }
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
cmake --build "$fuzz_build" --parallel "${TOLK_FUZZ_JOBS:-$(nproc)}" --target "${build_targets[@]}"

# Per target: -max_len (the tokenizer's dev JSON is ~40 KB) and libFuzzer's per-input -timeout
# in seconds. Memory: readers are bounded well below 2 GB; the C API target holds LibTorch.
declare -A max_len=([safetensors]=8192 [pickle]=16384 [config_json]=8192 [tokenizer_json]=65536
                    [capi_text]=1024)
declare -A timeout=([safetensors]=10 [pickle]=10 [config_json]=10 [tokenizer_json]=20
                    [capi_text]=30)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:handle_abort=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
summary=()
for t in $targets; do
  run=$fuzz_build/run/$t
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$run/corpus/"
  args=(-max_total_time="$seconds" -timeout="${timeout[$t]}" -rss_limit_mb=2048
        -malloc_limit_mb=2048 -max_len="${max_len[$t]}" -detect_leaks=1 -print_final_stats=1
        -artifact_prefix="$run/artifacts/")
  [[ -f tests/fuzz/dict/$t.dict ]] && args+=(-dict="tests/fuzz/dict/$t.dict")
  echo "== fuzz_$t: ${seconds}s (log: $run/fuzz.log)"
  rc=0
  "$fuzz_build/fuzz_$t" "${args[@]}" "$run/corpus" >"$run/fuzz.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/fuzz.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/fuzz.log" | tail -1)
  # crash-, leak-, timeout- and oom- files; slow-unit- ones are only a note.
  crashes=$(find "$run/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
                                          -o -name 'oom-*' \) | wc -l)
  if ((rc != 0)) && ((crashes == 0)); then crashes=1; fi  # died without writing an artifact
  line=$(printf '%-16s executions=%-10s exec/s=%-7s crashes=%s' "$t" "${execs:-?}" "${rate:-?}" "$crashes")
  summary+=("$line")
  echo "$line"
  if ((crashes > 0)); then
    failed=1
    grep -m1 -E 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error|SUMMARY' \
      "$run/fuzz.log" || true
    find "$run/artifacts" -type f ! -name 'slow-unit-*' -printf '  reproducer: %p\n'
  fi
done

echo "== fuzz summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "fuzz.sh: FAILED (see the logs and reproducers above)" >&2
  exit 1
fi
echo "fuzz.sh: all targets clean"
