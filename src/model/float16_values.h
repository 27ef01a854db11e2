// float16_values.h — float32 → float16 for the K/V cache of the reduced-precision compute types.
//
// Why float16 K/V: a batched decoder step reads every row's whole cache (self and cross
// attention) once per layer, and at 64–256 rows that reading is bound by memory bandwidth, not
// arithmetic. float16 halves it (the attention kernel measured 2.0–2.6× faster at 256 rows on
// this project's 2-core machine). float16 keeps 11 significant bits, eight times the precision
// of the bfloat16 operands those compute types already round every product's input to, so the
// cache adds little error; float32 models keep a float32 cache (exact parity with the reference).
#pragma once

#include <c10/util/Half.h>

#include <cstdint>

namespace tolk::model {

// The largest finite float16.
constexpr float kFloat16Max = 65504.0f;

// dst[i] = src[i] rounded to the nearest float16 (ties to even), saturated to ±kFloat16Max: a
// value out of float16's range becomes the largest finite one, never inf (an inf key would turn
// a whole softmax into NaN). NaN stays NaN.
void to_float16(const float* src, c10::Half* dst, int64_t n);

}  // namespace tolk::model
