// translation_request.cc — completion, waiting and cancellation of an async request.
#include "engine/translation_request.h"

#include "util/log.h"

namespace tolk {

void TranslationRequest::State::finish(TranslationResult r) {
  const StatusCode final_status = r.status;
  if (callback) {
    try {
      callback(std::move(r));
    } catch (...) {  // a throwing callback must not take an engine thread down
      log::warn("a translation callback threw; ignored");
    }
  }
  {
    std::lock_guard<std::mutex> guard(mutex);
    status = final_status;
    if (!callback) result = std::move(r);
    done = true;
  }
  cv.notify_all();
}

TranslationRequest::TranslationRequest(std::shared_ptr<State> state) : state_(std::move(state)) {}

void TranslationRequest::cancel() { state_->cancelled.store(true); }

bool TranslationRequest::wait(int64_t timeout_ms) const {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (timeout_ms < 0) {
    state_->cv.wait(lock, [&] { return state_->done; });
    return true;
  }
  return state_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return state_->done; });
}

bool TranslationRequest::done() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->done;
}

StatusCode TranslationRequest::status() const {
  std::lock_guard<std::mutex> guard(state_->mutex);
  return state_->status;
}

TranslationResult TranslationRequest::take_result() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->cv.wait(lock, [&] { return state_->done; });
  if (state_->callback)
    throw Error(StatusCode::kInvalidArgument, "the result was handed to the request's callback");
  if (state_->taken) throw Error(StatusCode::kInvalidArgument, "the result was already taken");
  state_->taken = true;
  return std::move(state_->result);
}

}  // namespace tolk
