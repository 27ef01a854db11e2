#!/usr/bin/env bash
# Installs every Debian package tolk's build, tests and tools need (Debian 12, run as root).
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev            # LibTorch 1.13.1 (CPU)
  libopenblas0-pthread    # LibTorch's float32 GEMMs: Debian's default libblas is the slow,
                          # single-threaded reference BLAS (measured: 5-7x slower here)
  libdnnl-dev             # oneDNN headers: the int8 product (src/model/int8_matmul.h) runs on
                          # the libdnnl2 that LibTorch already uses
  libsentencepiece-dev sentencepiece
  libfmt-dev nlohmann-json3-dev catch2
  python3                 # demo-model scripts, the Python FFI example's test
  golang-go               # the Go FFI example's test (examples/go)
  cargo                   # the Rust FFI example's test (examples/rust; Debian's, offline)
  clang-14 libclang-rt-14-dev  # libFuzzer targets (tests/fuzz, scripts/fuzz.sh)
)
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "tolk dependencies installed"
