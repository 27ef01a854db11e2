// slot_cache.h — KV caches for a batch whose rows come and go: one slot per live decoder row.
//
// Continuous batching admits and retires sequences between decoder steps. Rows [0, n) of every
// tensor are the ones a step runs over; each row has its own decoder length and source length,
// and attention masks what a row does not own. Retiring or pausing a row moves one other row
// into its place (a copy of one row), so no step ever copies the whole cache. Capacity grows
// geometrically when admissions need more rows, positions or source tokens.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "model/compute_type.h"

namespace tolk::model {

// K/V are float32, or float16 for reduced-precision compute types (slot_cache_dtype).
struct SlotLayer {
  torch::Tensor self_k, self_v;    // [rows, H, max_length, hd]
  torch::Tensor cross_k, cross_v;  // [rows, H, max_source, hd]
};

// The K/V element type of a slot cache for weights in `compute_type`: float32 for float32 (exact
// parity with the reference); float16 (float16_values.h: half the bytes every step reads) for
// bfloat16 and int8 where the CPU has the AVX-512 attention kernel, which reads float16
// directly; elsewhere float32, since LibTorch's fallback would convert the cache on every read.
torch::ScalarType slot_cache_dtype(ComputeType compute_type);
// For tests and benchmarks (side-by-side runs): float32 K/V for every compute type while off.
// Caches allocated before a change keep their type.
void set_float16_slot_cache_enabled(bool enabled);

// A cache's sizes: rows × positions per row × source tokens per row.
struct SlotShape {
  int64_t rows = 0, max_length = 0, max_source = 0;
  bool covers(const SlotShape& o) const {
    return rows >= o.rows && max_length >= o.max_length && max_source >= o.max_source;
  }
};

class SlotCache {
 public:
  std::vector<SlotLayer> layers;
  torch::Tensor cross_mask;              // [rows, max_source] additive: 0 keep, min masked
  std::vector<int64_t> length;           // decoder tokens cached, per slot
  std::vector<int64_t> source_length;    // encoder tokens, per slot
  // A step's logits [≥ rows stepped, V], reused by every step (Transformer::vocabulary_logits):
  // a fresh 31 MiB buffer per step (256 rows × 32,000 tokens) was filled page by page from the
  // kernel, and in a thread whose malloc arena handed it back each time (the continuous
  // scheduler's) those page faults made whole runs 2× slower.
  torch::Tensor logits_storage;

  int64_t rows() const noexcept { return static_cast<int64_t>(length.size()); }
  int64_t max_length() const noexcept;   // positions per row
  int64_t max_source() const noexcept;   // source tokens per row
  SlotShape shape() const noexcept { return {rows(), max_length(), max_source()}; }

  // Row `src`'s whole state (self and cross K/V, mask, lengths) into row `dst`.
  void copy_row(int64_t dst, int64_t src);
  // Exchanges two rows through `spare`, a row whose content may be overwritten.
  void swap_rows(int64_t a, int64_t b, int64_t spare);
  // Beam reordering inside one sequence: rows dst[j] take the self-attention state rows src[j]
  // had (cross state is the same for every beam of a sequence, so it is not copied).
  void reorder_self(const std::vector<int64_t>& dst, const std::vector<int64_t>& src);
};

// One new position per row: cache [rows, H, max_length, hd] takes values [n, H·hd] (any row
// stride) at cache[r, :, positions[r], :] for r < n. A decoder step does this twice per layer;
// for float32 it is one plain copy loop rather than an index_put_ (a dozen LibTorch operations
// once views and index tensors are counted, which dominate a one-sentence step).
// values [n, H·hd] float32 go to a float32 or float16 cache (float16: to_float16's rounding
// and saturation).
void write_step(torch::Tensor& cache, const torch::Tensor& values, const std::vector<int64_t>& positions);

// float32 values ready to be copy_'d into `cache`: for a float16 cache saturated to
// ±kFloat16Max first, as to_float16 does (LibTorch's conversion would overflow to inf).
torch::Tensor saturated_for(const torch::Tensor& cache, const torch::Tensor& values);

}  // namespace tolk::model
