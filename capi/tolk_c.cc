// tolk_c.cc — the C ABI's error reporting, engine, translation and request functions.
//
// No logic of its own: each function checks its arguments, maps options, calls
// tolk::TranslatorEngine and turns every exception into a tolk_status (see guarded()).
#include <cstdlib>
#include <cstring>
#include <limits>

#include "capi_internal.h"
#include "tolk/log.h"

namespace tolk_capi {
namespace {

using tolk::Error;
using tolk::StatusCode;

// The calling thread's last failure. The fallback covers a message that could not be copied
// (out of memory), so a failure always leaves a non-empty message behind.
thread_local std::string t_last_error;
thread_local const char* t_last_error_fallback = nullptr;

// A timeout this long (~31 years) means "forever": it keeps steady_clock arithmetic from
// overflowing inside the C++ wait.
constexpr int64_t kForeverMs = 1000000000000LL;

}  // namespace

thread_local const tolk_engine* t_callback_engine = nullptr;

tolk_status fail(tolk_status status, const char* message) noexcept {
  if (!message || !*message) message = tolk_status_name(status);
  try {
    t_last_error = message;
    t_last_error_fallback = nullptr;
  } catch (...) {
    t_last_error_fallback = "out of memory while recording an error message";
  }
  return status;
}

tolk_status fail(tolk_status status, const std::string& message) noexcept {
  return fail(status, message.c_str());
}

tolk_status from_code(StatusCode code) noexcept {
  static_assert(TOLK_ERR_INVALID_ARGUMENT == static_cast<int>(StatusCode::kInvalidArgument) &&
                    TOLK_ERR_INTERNAL == static_cast<int>(StatusCode::kInternal),
                "tolk_status keeps tolk::StatusCode's numbers");
  switch (code) {
    case StatusCode::kOk: return TOLK_OK;
    case StatusCode::kInvalidArgument: return TOLK_ERR_INVALID_ARGUMENT;
    case StatusCode::kInvalidUtf8: return TOLK_ERR_INVALID_UTF8;
    case StatusCode::kUnknownModel: return TOLK_ERR_UNKNOWN_MODEL;
    case StatusCode::kUnknownLanguage: return TOLK_ERR_UNKNOWN_LANGUAGE;
    case StatusCode::kAlreadyExists: return TOLK_ERR_ALREADY_EXISTS;
    case StatusCode::kFileNotFound: return TOLK_ERR_FILE_NOT_FOUND;
    case StatusCode::kInvalidModel: return TOLK_ERR_INVALID_MODEL;
    case StatusCode::kUnsupportedModel: return TOLK_ERR_UNSUPPORTED_MODEL;
    case StatusCode::kInputTooLong: return TOLK_ERR_INPUT_TOO_LONG;
    case StatusCode::kCancelled: return TOLK_ERR_CANCELLED;
    case StatusCode::kTimeout: return TOLK_ERR_TIMEOUT;
    case StatusCode::kQueueFull: return TOLK_ERR_QUEUE_FULL;
    case StatusCode::kShutdown: return TOLK_ERR_SHUTDOWN;
    case StatusCode::kInternal: return TOLK_ERR_INTERNAL;
  }
  return TOLK_ERR_INTERNAL;
}

tolk_status handle_current_exception() noexcept {
  try {
    throw;
  } catch (const tolk::Error& e) {
    const tolk_status s = from_code(e.code());
    // An Error never means success; keep a (buggy) kOk from reading as TOLK_OK.
    return fail(s == TOLK_OK ? TOLK_ERR_INTERNAL : s, e.what());
  } catch (const std::bad_alloc&) {
    return fail(TOLK_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(TOLK_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(TOLK_ERR_INTERNAL, "unknown exception");
  }
}

size_t find_invalid_utf8(const char* s, size_t n) noexcept {
  size_t i = 0;
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;       // overlong
      else if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;       // overlong
      else if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return i;  // continuation byte, C0/C1 overlong lead, or F5..FF
    }
    if (n - i < len) return i;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return i;
    for (size_t k = 2; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string::npos;
}

void require_non_null(const void* p, const char* what) {
  if (!p) throw Error(StatusCode::kInvalidArgument, std::string(what) + " is NULL");
}

void require_string(const char* s, const char* what) {
  require_non_null(s, what);
  const size_t bad = find_invalid_utf8(s, std::char_traits<char>::length(s));
  if (bad != std::string::npos)
    throw Error(StatusCode::kInvalidUtf8,
                std::string(what) + " is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
}

namespace {

// Marks the calling thread as running a callback of `engine` for as long as it lives.
class CallbackScope {
 public:
  explicit CallbackScope(const tolk_engine* engine) : outer_(t_callback_engine) {
    t_callback_engine = engine;
  }
  ~CallbackScope() { t_callback_engine = outer_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  const tolk_engine* outer_;
};

// Hands an ended request's result to the C callback. Runs on an engine thread inside
// TranslationRequest::State::finish, exactly once per request; cannot fail (the result object
// was allocated at submission, and moving a TranslationResult does not allocate). Not noexcept:
// should a C++ function posing as a C callback throw, finish() catches and logs it.
void deliver(CallbackState& cs, tolk::TranslationResult&& r) {
  tolk_result* result = cs.prepared.release();
  if (!result) return;  // unreachable: finish() runs once
  try {
    cs.message = r.error;
  } catch (...) {  // only tolk_request_wait's copy is lost; the result still has it
  }
  result->r = std::move(r);
  CallbackScope scope(cs.engine);
  cs.fn(cs.user_data, result);
}

// Checks the arguments every translation call shares.
void require_translation_args(const tolk_engine* e, const char* model, const char* src_lang,
                              const char* tgt_lang) {
  require_non_null(e, "engine");
  require_string(model, "model");
  require_string(src_lang, "src_lang");
  require_string(tgt_lang, "tgt_lang");
}

}  // namespace
}  // namespace tolk_capi

using namespace tolk_capi;
using tolk::Error;
using tolk::StatusCode;

extern "C" {

TOLK_API const char* tolk_version(void) { return tolk::version(); }

TOLK_API int tolk_abi_version(void) { return TOLK_ABI_VERSION; }

TOLK_API const char* tolk_status_name(tolk_status status) {
  switch (status) {
    case TOLK_OK: return "TOLK_OK";
    case TOLK_ERR_INVALID_ARGUMENT: return "TOLK_ERR_INVALID_ARGUMENT";
    case TOLK_ERR_INVALID_UTF8: return "TOLK_ERR_INVALID_UTF8";
    case TOLK_ERR_UNKNOWN_MODEL: return "TOLK_ERR_UNKNOWN_MODEL";
    case TOLK_ERR_UNKNOWN_LANGUAGE: return "TOLK_ERR_UNKNOWN_LANGUAGE";
    case TOLK_ERR_ALREADY_EXISTS: return "TOLK_ERR_ALREADY_EXISTS";
    case TOLK_ERR_FILE_NOT_FOUND: return "TOLK_ERR_FILE_NOT_FOUND";
    case TOLK_ERR_INVALID_MODEL: return "TOLK_ERR_INVALID_MODEL";
    case TOLK_ERR_UNSUPPORTED_MODEL: return "TOLK_ERR_UNSUPPORTED_MODEL";
    case TOLK_ERR_INPUT_TOO_LONG: return "TOLK_ERR_INPUT_TOO_LONG";
    case TOLK_ERR_CANCELLED: return "TOLK_ERR_CANCELLED";
    case TOLK_ERR_TIMEOUT: return "TOLK_ERR_TIMEOUT";
    case TOLK_ERR_QUEUE_FULL: return "TOLK_ERR_QUEUE_FULL";
    case TOLK_ERR_SHUTDOWN: return "TOLK_ERR_SHUTDOWN";
    case TOLK_ERR_INTERNAL: return "TOLK_ERR_INTERNAL";
    case TOLK_ERR_OUT_OF_MEMORY: return "TOLK_ERR_OUT_OF_MEMORY";
    case TOLK_ERR_NOT_READY: return "TOLK_ERR_NOT_READY";
    case TOLK_ERR_ALREADY_TAKEN: return "TOLK_ERR_ALREADY_TAKEN";
    default: return "TOLK_UNKNOWN_STATUS";
  }
}

TOLK_API const char* tolk_last_error_message(void) {
  return t_last_error_fallback ? t_last_error_fallback : t_last_error.c_str();
}

TOLK_API tolk_status tolk_engine_create(const tolk_options* engine_options, tolk_engine** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require_non_null(out, "out");
    tolk::EngineOptions options = tolk_capi::engine_options(engine_options);
    auto handle = std::make_unique<tolk_engine>();
    handle->engine = std::make_unique<tolk::TranslatorEngine>(std::move(options));
    *out = handle.release();
    return TOLK_OK;
  });
}

TOLK_API void tolk_engine_free(tolk_engine* engine) {
  if (!engine) return;
  // From its own callback this would join the very thread it runs on (or recurse into the
  // shutdown in progress): refuse instead of deadlocking or aborting.
  if (engine == t_callback_engine) {
    fail(TOLK_ERR_INVALID_ARGUMENT, "tolk_engine_free called from a callback of that engine; ignored");
    return;
  }
  delete engine;  // ~TranslatorEngine ends every request and joins its threads
}

TOLK_API tolk_status tolk_engine_load_model(tolk_engine* e, const char* name, const char* path,
                                            const tolk_options* model_options) {
  return guarded([&] {
    require_non_null(e, "engine");
    require_string(name, "name");
    require_string(path, "path");
    tolk::ModelOptions options = tolk_capi::model_options(model_options);
    e->engine->load_model(name, path, std::move(options));
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_engine_unload_model(tolk_engine* e, const char* name) {
  return guarded([&] {
    require_non_null(e, "engine");
    require_string(name, "name");
    e->engine->unload_model(name);
    return TOLK_OK;
  });
}

TOLK_API char* tolk_engine_stats_json(tolk_engine* e) {
  char* out = nullptr;
  guarded([&] {
    require_non_null(e, "engine");
    const std::string json = e->engine->stats();
    out = static_cast<char*>(std::malloc(json.size() + 1));
    if (!out) return fail(TOLK_ERR_OUT_OF_MEMORY, "out of memory copying the statistics");
    std::memcpy(out, json.c_str(), json.size() + 1);
    return TOLK_OK;
  });
  return out;
}

TOLK_API void tolk_string_free(char* s) { std::free(s); }

TOLK_API tolk_status tolk_set_log_callback(tolk_log_callback callback, void* user_data) {
  return guarded([&] {
    if (!callback) {
      tolk::set_log_sink({});
    } else {
      tolk::set_log_sink([callback, user_data](tolk::LogLevel level, const std::string& message) {
        callback(user_data, static_cast<tolk_log_level>(level), message.c_str());
      });
    }
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_translate_sync(tolk_engine* e, const char* model, const char* text,
                                         const char* src_lang, const char* tgt_lang,
                                         const tolk_options* options, tolk_result** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require_translation_args(e, model, src_lang, tgt_lang);
    require_string(text, "text");
    require_non_null(out, "out");
    const tolk::TranslationOptions t = translation_options(options);
    auto result = std::make_unique<tolk_result>();
    result->r = e->engine->translate_sync(model, text, src_lang, tgt_lang, t);
    *out = result.release();
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_translate_batch(tolk_engine* e, const char* model,
                                          const char* const* texts, size_t count,
                                          const char* src_lang, const char* tgt_lang,
                                          const tolk_options* options, tolk_batch_result** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require_translation_args(e, model, src_lang, tgt_lang);
    require_non_null(out, "out");
    if (count > 0) require_non_null(texts, "texts");
    // Bad items fail the whole call, before any work starts.
    std::vector<std::string> items;
    items.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      const std::string what = "texts[" + std::to_string(i) + "]";
      require_string(texts[i], what.c_str());
      items.emplace_back(texts[i]);
    }
    const tolk::TranslationOptions t = translation_options(options);
    auto batch = std::make_unique<tolk_batch_result>();
    // Called for count 0 too: the model name and options are still checked.
    std::vector<tolk::TranslationResult> results =
        e->engine->translate_batch(model, items, src_lang, tgt_lang, t);
    batch->items.resize(results.size());
    for (size_t i = 0; i < results.size(); ++i) batch->items[i].r = std::move(results[i]);
    *out = batch.release();
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_translate_async(tolk_engine* e, const char* model, const char* text,
                                          const char* src_lang, const char* tgt_lang,
                                          const tolk_options* options, tolk_callback callback,
                                          void* user_data, tolk_request** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require_translation_args(e, model, src_lang, tgt_lang);
    require_string(text, "text");
    if (!out && !callback)
      throw Error(StatusCode::kInvalidArgument,
                  "out is NULL and no callback is given: the result could never be received");
    const tolk::TranslationOptions t = translation_options(options);
    // Everything that can fail is allocated before the request is submitted: once the engine
    // accepts it, this call must succeed.
    auto handle = std::make_unique<tolk_request>();
    tolk::TranslationCallback cpp_callback;
    if (callback) {
      auto cs = std::make_shared<CallbackState>();
      cs->fn = callback;
      cs->user_data = user_data;
      cs->engine = e;
      cs->prepared = std::make_unique<tolk_result>();
      handle->callback = cs;
      cpp_callback = [cs](tolk::TranslationResult&& r) { deliver(*cs, std::move(r)); };
    }
    const std::string model_s = model, text_s = text, src_s = src_lang, tgt_s = tgt_lang;
    handle->request = e->engine->translate_async(model_s, text_s, src_s, tgt_s, t,
                                                 std::move(cpp_callback));
    if (out) *out = handle.release();
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_request_wait(tolk_request* r, int64_t timeout_ms, tolk_result** out) {
  if (out) *out = nullptr;
  return guarded([&] {
    require_non_null(r, "request");
    require_non_null(out, "out");
    if (!r->callback && r->taken.load())
      return fail(TOLK_ERR_ALREADY_TAKEN, "the request's result was already handed out by a wait");
    if (timeout_ms > kForeverMs) timeout_ms = -1;
    if (!r->request->wait(timeout_ms))
      return fail(TOLK_ERR_NOT_READY, "the request is still running (waited " +
                                          std::to_string(timeout_ms) + " ms)");
    if (r->callback) {  // the callback got the result; report how the request ended
      const tolk_status s = from_code(r->request->status());
      if (s == TOLK_OK) return TOLK_OK;
      return fail(s, r->callback->message);
    }
    auto result = std::make_unique<tolk_result>();  // before taking: taking cannot be undone
    if (r->taken.exchange(true))
      return fail(TOLK_ERR_ALREADY_TAKEN, "the request's result was already handed out by a wait");
    result->r = r->request->take_result();
    const tolk_status s = from_code(result->r.status);
    if (s != TOLK_OK) fail(s, result->r.error);
    *out = result.release();
    return s;
  });
}

TOLK_API tolk_status tolk_request_cancel(tolk_request* r) {
  return guarded([&] {
    require_non_null(r, "request");
    r->request->cancel();
    return TOLK_OK;
  });
}

TOLK_API void tolk_request_free(tolk_request* r) {
  delete r;  // the request's state lives on with the engine task that still runs it
}

}  // extern "C"
