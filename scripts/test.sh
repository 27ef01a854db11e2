#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs the whole suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/cpu-env.sh
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${TOLK_BUILD_DIR:-build}"
ctest --output-on-failure -j "${TOLK_JOBS:-$(nproc)}"
