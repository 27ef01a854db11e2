// int8_rows.h — the per-row work around tolk's int8 product (int8_matmul.h): quantizing an input
// row to int8 and scaling an output row back, 16 lanes at a time where the CPU has AVX-512.
//
// Why its own kernels: these loops run on every row of every int8 layer. Written as plain C++
// they stayed scalar (GCC 12 at -O2 vectorizes only loops of known trip count, and fmin/fmax
// were library calls), and took ~75 % of a 256-row product with 512 outputs (perf, fc2-shaped
// layer, one thread) while oneDNN's int8 kernel itself took ~22 %.
#pragma once

#include <cstdint>

namespace tolk::model {

// Quantizes x[0..n) symmetrically: the largest finite magnitude maps to 127, each entry to
// round-half-even(clamp(x·127/amax, −127, 127)); returns the row's scale amax/127. NaN entries
// are ignored by the maximum and quantize to −127; a row whose maximum is 0 or infinite gets
// scale 1 and quantizes to 0 (finite entries) or −127 (NaN, ±inf).
float quantize_row_int8(const float* x, int64_t n, int8_t* q);
float quantize_row_int8_plain(const float* x, int64_t n, int8_t* q);  // the same, plain loops

// y[0..n) = y·scale + bias (bias may be null: y·scale), then with `relu` max(0, ·) (NaN stays
// NaN): the activation of a feed-forward layer's first product in the same pass over its
// output. The vectorized form rounds once per entry (fused multiply-add), the plain form
// twice, so they can differ in the last bit.
void scale_row_add_bias(float* y, int64_t n, float scale, const float* bias, bool relu = false);
void scale_row_add_bias_plain(float* y, int64_t n, float scale, const float* bias,
                              bool relu = false);

}  // namespace tolk::model
