// translation_request.h — the shared state behind a TranslationRequest handle.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "tolk/engine.h"

namespace tolk {

struct TranslationRequest::State {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  bool taken = false;
  StatusCode status = StatusCode::kOk;
  TranslationResult result;
  TranslationCallback callback;
  std::atomic<bool> cancelled{false};
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();

  // Ends the request: the callback (if any) gets the result, then waiters wake. Called exactly
  // once, by the engine thread that ran (or refused) the request.
  void finish(TranslationResult r);
};

}  // namespace tolk
