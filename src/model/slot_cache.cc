// slot_cache.cc — see slot_cache.h.
#include "model/slot_cache.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "model/float16_values.h"
#include "util/cpu_features.h"

namespace tolk::model {

int64_t SlotCache::max_length() const noexcept {
  return layers.empty() ? 0 : layers[0].self_k.size(2);
}

int64_t SlotCache::max_source() const noexcept {
  return layers.empty() ? 0 : layers[0].cross_k.size(2);
}

void SlotCache::copy_row(int64_t dst, int64_t src) {
  if (dst == src) return;
  const int64_t used = std::min(length[src], max_length());
  const int64_t src_len = source_length[src];
  for (auto& l : layers) {
    // Only the filled part of a row matters; the rest is masked until overwritten.
    if (used > 0) {
      l.self_k[dst].narrow(1, 0, used).copy_(l.self_k[src].narrow(1, 0, used));
      l.self_v[dst].narrow(1, 0, used).copy_(l.self_v[src].narrow(1, 0, used));
    }
    l.cross_k[dst].narrow(1, 0, src_len).copy_(l.cross_k[src].narrow(1, 0, src_len));
    l.cross_v[dst].narrow(1, 0, src_len).copy_(l.cross_v[src].narrow(1, 0, src_len));
  }
  cross_mask[dst].copy_(cross_mask[src]);
  length[dst] = length[src];
  source_length[dst] = source_length[src];
}

void SlotCache::swap_rows(int64_t a, int64_t b, int64_t spare) {
  if (a == b) return;
  copy_row(spare, a);
  copy_row(a, b);
  copy_row(b, spare);
}

void SlotCache::reorder_self(const std::vector<int64_t>& dst, const std::vector<int64_t>& src) {
  bool identity = true;
  for (size_t j = 0; j < dst.size(); ++j) identity = identity && dst[j] == src[j];
  if (identity || dst.empty()) return;
  int64_t used = 0;
  for (int64_t r : src) used = std::max(used, length[r]);
  used = std::min(used, max_length());
  auto d = torch::tensor(dst, torch::kInt64);
  auto s = torch::tensor(src, torch::kInt64);
  for (auto& l : layers) {
    for (torch::Tensor* t : {&l.self_k, &l.self_v}) {
      auto part = t->narrow(2, 0, used);
      part.index_copy_(0, d, part.index_select(0, s));  // gather first: src and dst overlap
    }
  }
  std::vector<int64_t> new_len(dst.size());
  for (size_t j = 0; j < dst.size(); ++j) new_len[j] = length[src[j]];
  for (size_t j = 0; j < dst.size(); ++j) length[dst[j]] = new_len[j];
}

namespace {
// Rows per thread task of write_step: a 256-row step's 12 writes (K and V of 6 layers, float16)
// ran on the calling thread while the others waited (perf: ~3 % of a step); one row of 512
// values is too little to hand to another thread.
int64_t rows_per_task(int64_t row_values) {
  return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, row_values));
}
}  // namespace

void write_step(torch::Tensor& cache, const torch::Tensor& values, const std::vector<int64_t>& positions) {
  const int64_t n = static_cast<int64_t>(positions.size());
  const int64_t H = cache.size(1), L = cache.size(2), hd = cache.size(3);
  TORCH_CHECK(values.dim() == 2 && values.size(0) == n && values.size(1) == H * hd,
              "write_step: values must be [rows, heads * head_dim]");
  for (int64_t p : positions) TORCH_CHECK(p >= 0 && p < L, "write_step: position out of range");
  if (cache.scalar_type() == torch::kFloat32 && values.scalar_type() == torch::kFloat32 &&
      cache.is_contiguous() && values.stride(1) == 1) {
    float* c = cache.data_ptr<float>();
    const float* v = values.data_ptr<float>();
    at::parallel_for(0, n, rows_per_task(H * hd), [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r)
        for (int64_t h = 0; h < H; ++h)
          std::memcpy(c + ((r * H + h) * L + positions[static_cast<size_t>(r)]) * hd,
                      v + r * values.stride(0) + h * hd, static_cast<size_t>(hd) * sizeof(float));
    });
    return;
  }
  if (cache.scalar_type() == torch::kHalf && values.scalar_type() == torch::kFloat32 &&
      cache.is_contiguous() && values.stride(1) == 1) {
    auto* c = cache.data_ptr<c10::Half>();
    const float* v = values.data_ptr<float>();
    at::parallel_for(0, n, rows_per_task(H * hd), [&](int64_t first, int64_t last) {
      for (int64_t r = first; r < last; ++r)
        for (int64_t h = 0; h < H; ++h)
          to_float16(v + r * values.stride(0) + h * hd,
                     c + ((r * H + h) * L + positions[static_cast<size_t>(r)]) * hd, hd);
    });
    return;
  }
  using torch::indexing::Slice;
  cache.index_put_({torch::arange(n, torch::kInt64), Slice(), torch::tensor(positions, torch::kInt64)},
                   saturated_for(cache, values).reshape({n, H, hd}).to(cache.scalar_type()));
}

namespace {
std::atomic<bool> g_float16_enabled{true};
}  // namespace

void set_float16_slot_cache_enabled(bool enabled) { g_float16_enabled.store(enabled); }

torch::ScalarType slot_cache_dtype(ComputeType compute_type) {
  if (compute_type == ComputeType::kFloat32 || !g_float16_enabled.load()) return torch::kFloat32;
  if (util::cpu_has_avx512f()) return torch::kHalf;
  return torch::kFloat32;
}

torch::Tensor saturated_for(const torch::Tensor& cache, const torch::Tensor& values) {
  return cache.scalar_type() == torch::kHalf ? values.clamp(-kFloat16Max, kFloat16Max) : values;
}

}  // namespace tolk::model
