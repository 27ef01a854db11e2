#!/bin/sh
# check_exports.sh LIBRARY — fails unless every symbol LIBRARY exports starts with tolk_.
# The C ABI promises a clean namespace: a leaked C++ symbol would clash with the host program's
# own copy of libstdc++ templates or of tolk's C++ library. (Run by ctest; see CMakeLists.txt.)
set -eu
lib="$1"
# nm prints "VALUE TYPE NAME"; keep defined code/data symbols (T/D/B/R/W/V/i/u, any case).
symbols=$(nm -D --defined-only "$lib" | awk 'NF >= 3 && $2 ~ /^[TtDdBbRrWwVviu]$/ { print $3 }' |
          grep -v -E '^(_init|_fini|_edata|_end|__bss_start)$' || true)
if [ -z "$symbols" ]; then
  echo "check_exports: $lib exports no symbols at all (or nm failed)" >&2
  exit 1
fi
bad=$(printf '%s\n' "$symbols" | grep -v '^tolk_' || true)
if [ -n "$bad" ]; then
  echo "check_exports: $lib exports symbols outside the tolk_ namespace:" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
echo "check_exports: $(printf '%s\n' "$symbols" | wc -l) symbols, all tolk_*"
