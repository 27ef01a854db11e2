// cache_growth.cc — see cache_growth.h.
#include "scheduling/cache_growth.h"

#include <algorithm>

namespace tolk::scheduling {
namespace {
// Elements zeroed per slice: 2 MB of float32, about a millisecond of page faults and stores.
constexpr int64_t kSliceElements = int64_t{1} << 19;
}  // namespace

void CacheGrowth::start(const model::Transformer& model, const model::SlotShape& shape) {
  if (pending()) return;
  storage_ = model.allocate_slots(shape);
  unzeroed_.clear();
  for (auto& l : storage_->layers)
    for (auto* t : {&l.self_k, &l.self_v, &l.cross_k, &l.cross_v}) unzeroed_.push_back(t->view(-1));
  next_tensor_ = 0;
  next_offset_ = 0;
}

int64_t CacheGrowth::advance(const std::function<bool()>& stop, std::chrono::microseconds budget) {
  const auto until = std::chrono::steady_clock::now() + budget;
  int64_t bytes = 0;
  while (next_tensor_ < unzeroed_.size()) {
    auto& t = unzeroed_[next_tensor_];
    const int64_t n = std::min(kSliceElements, t.numel() - next_offset_);
    t.narrow(0, next_offset_, n).zero_();
    bytes += n * static_cast<int64_t>(t.element_size());
    next_offset_ += n;
    if (next_offset_ >= t.numel()) {
      ++next_tensor_;
      next_offset_ = 0;
    }
    if (std::chrono::steady_clock::now() >= until || (stop && stop())) break;
  }
  return bytes;
}

std::optional<model::SlotCache> CacheGrowth::take_if_ready() {
  if (!pending() || next_tensor_ < unzeroed_.size()) return std::nullopt;
  std::optional<model::SlotCache> out = std::move(storage_);
  storage_.reset();
  unzeroed_.clear();
  return out;
}

}  // namespace tolk::scheduling
