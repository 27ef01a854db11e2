// capi_internal.h — what the C ABI's translation units share: the handle structs behind the
// opaque types of tolk.h, error reporting, and argument validation. Not installed.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <variant>
#include <vector>

#include "tolk.h"
#include "tolk/engine.h"

namespace tolk_capi {

// An option's value as its typed setter stored it.
using OptionValue = std::variant<int64_t, double, std::string>;

// What an async request with a C callback needs when it ends. The result object is allocated
// when the request is submitted, so delivering it can never fail for lack of memory and the
// callback fires exactly once.
struct CallbackState {
  tolk_callback fn = nullptr;
  void* user_data = nullptr;
  const tolk_engine* engine = nullptr;   // only compared with, to refuse freeing from a callback
  std::unique_ptr<tolk_result> prepared;
  // The result's message, copied at delivery (the callee owns the result) so that
  // tolk_request_wait can report it with the final status.
  std::string message;
};

}  // namespace tolk_capi

struct tolk_engine {
  std::unique_ptr<tolk::TranslatorEngine> engine;
};

struct tolk_options {
  std::map<std::string, tolk_capi::OptionValue> values;  // only known keys, right types
};

struct tolk_result {
  tolk::TranslationResult r;
};

struct tolk_batch_result {
  std::vector<tolk_result> items;
};

struct tolk_request {
  // The C++ request's state outlives the engine: it is all a handle needs after engine free.
  std::shared_ptr<tolk::TranslationRequest> request;
  std::shared_ptr<tolk_capi::CallbackState> callback;  // null when no callback was given
  std::atomic<bool> taken{false};                       // result handed out by a wait
};

namespace tolk_capi {

// Records `message` as the calling thread's last error and returns `status`. Never throws.
tolk_status fail(tolk_status status, const char* message) noexcept;
tolk_status fail(tolk_status status, const std::string& message) noexcept;

// tolk::StatusCode → tolk_status (one-to-one; an unknown code is TOLK_ERR_INTERNAL).
tolk_status from_code(tolk::StatusCode code) noexcept;

// Maps the exception being handled to a status and records its message. Call only inside a
// catch block.
tolk_status handle_current_exception() noexcept;

// Runs `body` (which returns a tolk_status) so that no exception escapes.
template <typename F>
tolk_status guarded(F&& body) noexcept {
  try {
    return body();
  } catch (...) {
    return handle_current_exception();
  }
}

// Throws tolk::Error(kInvalidArgument) when `p` is NULL; `what` names the argument.
void require_non_null(const void* p, const char* what);
// Throws kInvalidArgument for NULL, kInvalidUtf8 for a string that is not strict UTF-8.
void require_string(const char* s, const char* what);
// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF): the byte offset of
// the first bad sequence, or npos when valid.
size_t find_invalid_utf8(const char* s, size_t n) noexcept;

// Options → the C++ structs. Each throws kInvalidArgument for a key of another kind of call
// (naming the key) or a key that tolk does not support yet. NULL options: defaults.
tolk::TranslationOptions translation_options(const tolk_options* o);
tolk::ModelOptions model_options(const tolk_options* o);
tolk::EngineOptions engine_options(const tolk_options* o);

// The engine whose callback is running on this thread (or null): tolk_engine_free refuses it.
extern thread_local const tolk_engine* t_callback_engine;

}  // namespace tolk_capi
