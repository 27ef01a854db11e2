#!/usr/bin/env bash
# The speed benchmark suite (issue 6; benchmarks/README.md): gemm, throughput, latency, scaling
# and efficiency, one after the other, each printing the machine first and writing JSON to
# ${TOLK_BENCH_OUT:-build/bench-speed}/. About 7–17 minutes on 2 cores. Run it on an otherwise
# idle machine: every other busy process skews every number.
#
#   scripts/bench-speed.sh            # after scripts/build.sh (or the README's test command)
#
# The sizes are cut to fit the time (each line says what it runs); tolk_bench --help lists the
# flags for full-size runs, e.g. --sentences 1000 --threads 1,2 --beams 1,4 on the 60M model.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cpu-env.sh
BUILD="${TOLK_BUILD_DIR:-build}"
OUT="${TOLK_BENCH_OUT:-$BUILD/bench-speed}"
BENCH="$BUILD/benchmarks/tolk_bench"
[ -x "$BENCH" ] || { echo "bench-speed: $BENCH not built (run scripts/build.sh)" >&2; exit 1; }
[ -f "$BUILD/bench-models/nllb-60m-random/config.json" ] || python3 benchmarks/random_model.py --out "$BUILD/bench-models/nllb-60m-random"
mkdir -p "$OUT"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OPENBLAS_THREAD_TIMEOUT=${OPENBLAS_THREAD_TIMEOUT:-<unset>} GLIBC_TUNABLES=${GLIBC_TUNABLES:-<unset>}"
run() { local name="$1"; shift; echo; echo "=== $name: $*"; "$BENCH" --json "$OUT/$name.json" "$@"; }
M="--model $BUILD/bench-models/nllb-60m-random"
start=$(date +%s)
run gemm --scenario gemm $M --threads 1,2 --rows 1,16,64,256 --repeats 3
# The demo model: 1,000 sentences, every compute type, beam 1 and 4, 1 and 2 threads.
run throughput-demo --scenario throughput --model - --sentences 1000 --threads 1,2 --beams 1,4
# The 60M model costs ~8x more per token: 200 sentences, 2 threads.
run throughput-60m --scenario throughput $M --demo - --sentences 200 --threads 2 --beams 1
run throughput-60m-beam4 --scenario throughput $M --demo - --sentences 200 --threads 2 --beams 4 --compute-types bfloat16
run latency --scenario latency $M --threads 1,2 --runs 20
run scaling --scenario scaling $M --threads 2 --compute-types bfloat16 --lengths 8,16,32,64,128,256,512
# 9 static/continuous pairs: single pairs vary by ±5-20 % here (int8 at 256 sentences, one run:
# 1.131, 1.130, 1.066, 0.834, 1.059), so the median of 5 moved across the 5 % goal between runs.
run efficiency --scenario efficiency $M --threads 2 --batch 64 --tokens 32 --repeats 9
# A large batch: products are at their 256-row peak, so what is left is the per-row work
# (attention over each row's cache, the vocabulary pass of the search).
run efficiency-256 --scenario efficiency $M --threads 2 --batch 256 --tokens 32 --repeats 9
echo; echo "bench-speed: done in $(( $(date +%s) - start )) s; JSON in $OUT/"
