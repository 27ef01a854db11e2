// lane_sum.h — the sum of an AVX-512 register's 16 float lanes, in a fixed order.
//
// Written out because GCC 12's own reduction (_mm512_reduce_add_ps) and lane shuffles trip
// -Wmaybe-uninitialized inside its header. Include only where TOLK_HAS_LANE_SUM is defined.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TOLK_HAS_LANE_SUM 1

namespace tolk::model {

__attribute__((target("avx512f"))) inline float lane_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (float x : lanes) s += x;
  return s;
}

}  // namespace tolk::model
#endif
