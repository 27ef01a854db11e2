#!/usr/bin/env bash
# Configures and builds tolk into build/ (Release with debug info). Idempotent and incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TOLK_BUILD_DIR:-build}
JOBS=${TOLK_JOBS:-$(nproc)}
# Let ccache share hits between clones in different folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
# Every LibTorch translation unit uses a precompiled header; ccache caches those only with
# this sloppiness (otherwise it calls them uncacheable and each clean build compiles again).
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
