#!/usr/bin/env bash
# Installs an already built tree into a temporary prefix and builds two consumers against the
# installed files only: examples/cmake-consumer through find_package(tolk CONFIG), and the C
# example through pkg-config (tolk.pc). Each consumer must translate with the dev checkpoint.
#   scripts/check-install.sh BUILD_DIR MODEL_DIR
# Run by ctest as packaging.install_consumers.
set -euo pipefail
BUILD_DIR=$(realpath "$1")
MODEL_DIR=$(realpath "$2")
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tolk-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix
EXPECT="Aduné."   # Hugging Face's greedy output for "Hello world." on the dev checkpoint

cmake --install "$BUILD_DIR" --prefix "$PREFIX" >/dev/null
echo "installed into $PREFIX:"
(cd "$PREFIX" && find . -type f -o -type l | sort | sed 's/^/  /')

# Installed libraries carry their SONAME and find each other without LD_LIBRARY_PATH.
LIBDIR=$(dirname "$(find "$PREFIX" -name 'libtolk_c.so' | head -1)")
for lib in libtolk libtolk_c; do
  soname=$(objdump -p "$LIBDIR/$lib.so" | awk '/SONAME/ {print $2}')
  [ "$soname" = "$lib.so.0" ] || { echo "FAIL: $lib.so has SONAME '$soname'"; exit 1; }
done

check() {  # check NAME OUTPUT
  if [ "$2" != "$EXPECT" ]; then echo "FAIL: $1 printed '$2', expected '$EXPECT'"; exit 1; fi
  echo "ok: $1 → $2"
}

# 1. CMake package consumer (C++ and C).
cmake -S "$SRC/examples/cmake-consumer" -B "$WORK/cmake-consumer" -G Ninja \
      -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$WORK/cmake-consumer" >/dev/null
check "find_package consumer (C++)" "$("$WORK/cmake-consumer/consumer_cpp" "$MODEL_DIR" "Hello world.")"
check "find_package consumer (C)" "$("$WORK/cmake-consumer/consumer_c" "$MODEL_DIR" "Hello world.")"

# 2. pkg-config consumers: the C example against tolk.pc, the C++ one against tolk-cpp.pc.
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
[ "$(pkg-config --modversion tolk)" = "$(pkg-config --modversion tolk-cpp)" ]
cc -std=c99 -Wall -Wextra -Werror -pedantic "$SRC/examples/c/translate.c" -o "$WORK/pc_c" \
   $(pkg-config --cflags --libs tolk) -Wl,-rpath,"$LIBDIR"
check "pkg-config consumer (C)" "$("$WORK/pc_c" "$MODEL_DIR" "Hello world.")"
c++ -Wall -Wextra -Werror "$SRC/examples/cpp/translate.cc" -o "$WORK/pc_cpp" \
   $(pkg-config --cflags --libs tolk-cpp) -Wl,-rpath,"$LIBDIR"
check "pkg-config consumer (C++)" "$("$WORK/pc_cpp" "$MODEL_DIR" "Hello world.")"

# 3. The installed CLI runs from its own folder.
if [ -x "$PREFIX/bin/tolk" ]; then
  check "installed tolk CLI" "$("$PREFIX/bin/tolk" translate --model "$MODEL_DIR" --src eng_Latn --tgt fra_Latn --text "Hello world.")"
fi
