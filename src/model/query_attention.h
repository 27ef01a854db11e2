// query_attention.h — attention with one query per (row, head): every incremental decoder step.
//
// A decoder step of B rows asks, per row and head, softmax(q·kᵀ + mask)·v over that row's
// cached keys. Done with LibTorch operations this materialises [B, H, keys, hd] products and
// runs ~9 operations per call; here each (row, head) is one pass over its keys with AVX-512
// where the CPU has it, and the (row, head) pairs are shared among the intra-op threads.
// Keys and values are float32, or float16 (the slot cache of reduced-precision compute types,
// float16_values.h); queries, masks, scores and outputs are float32 either way.
#pragma once

#include <c10/util/Half.h>

#include <cstdint>
#include <vector>

namespace tolk::model {

// One query over `keys` keys, in float32 arithmetic: out[hd] = softmax(q·kᵀ + mask)·v, key t
// at k + t·k_step and v + t·v_step, mask (additive, may be null) at mask[t]; p is scratch.
// Also the loop behind the fused one-row step (fused_row_step.h), so both paths do the same
// arithmetic. T (keys and values) is float or c10::Half.
template <typename T>
void attend_one_query(const float* q, const T* k, int64_t k_step, const T* v, int64_t v_step,
                      int64_t keys, int64_t hd, const float* mask, float* out, std::vector<float>& p);

// Where (row b, head h) of an operand starts: base + b·batch_stride + h·head_stride; element t
// (key t of keys and values, query t of queries and masks) is t·step further on; the last
// dimension is contiguous.
template <typename T>
struct Operand {
  const T* base = nullptr;
  int64_t batch_stride = 0;
  int64_t head_stride = 0;
  int64_t step = 0;
};
using QueryOperand = Operand<float>;  // queries and masks

// out [B, H·hd] (contiguous) = attention of q over k/v for every (row, head), split over the
// intra-op threads. mask.base may be null; mask strides of 0 broadcast it over rows or heads.
// With row_keys, row b reads only its first min(keys, row_keys[b]) keys: the caller promises
// that the mask hides the others from it (their weight would be exactly 0), so the result is
// the same while a row of a short source in a batch of long ones reads only its own keys.
template <typename T>
void attend_queries(const QueryOperand& q, const Operand<T>& k, const Operand<T>& v,
                    const QueryOperand& mask, int64_t rows, int64_t heads, int64_t keys, int64_t hd,
                    float* out, const int64_t* row_keys = nullptr);

// The same for `queries` queries per (row, head) (q.step apart; mask.step apart, or 0 for one
// mask row shared by every query): out [B, queries, H·hd] (contiguous), the heads merged as the
// next projection wants them. The encoder's self-attention: LibTorch's batched product ran it as
// one small BLAS call per (row, head) (~25 GFLOP/s on two threads here, 256 sentences × 30
// tokens × 8 heads: 3 selects and a product each), this is one pass per (row, query, head).
template <typename T>
void attend_query_blocks(const QueryOperand& q, const Operand<T>& k, const Operand<T>& v,
                         const QueryOperand& mask, int64_t rows, int64_t heads, int64_t queries,
                         int64_t keys, int64_t hd, float* out);

}  // namespace tolk::model
