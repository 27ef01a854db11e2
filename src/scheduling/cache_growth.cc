// cache_growth.cc — see cache_growth.h.
#include "scheduling/cache_growth.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

namespace tolk::scheduling {

void CacheGrowth::start(std::shared_ptr<const model::Transformer> model,
                        const model::SlotShape& shape) {
  if (pending()) return;
  storage_ = std::async(std::launch::async, [model = std::move(model), shape] {
    c10::InferenceMode guard;
    at::set_num_threads(1);  // zeroing memory: one thread; the scheduler keeps the others
    return model->allocate_slots(shape);
  });
}

std::optional<model::SlotCache> CacheGrowth::take_if_ready() {
  if (!pending() || storage_.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return std::nullopt;
  return storage_.get();  // leaves storage_ invalid, whether it returns or throws
}

void CacheGrowth::wait(std::chrono::milliseconds limit) const {
  if (pending()) storage_.wait_for(limit);
}

void CacheGrowth::reset() {
  if (pending()) storage_.wait();
  storage_ = {};
}

}  // namespace tolk::scheduling
