/* tolk.h — the C ABI of tolk, a library that serves NLLB translation models.
 *
 * Plain C99; usable from C++ and from any FFI. Conventions (see docs/c-api.md):
 *  - Opaque handles with _create/_free pairs; every _free accepts NULL and does nothing.
 *  - Every fallible call returns a tolk_status (TOLK_OK = 0). On failure the calling thread's
 *    tolk_last_error_message() says why, and every out-pointer the call has is set to NULL.
 *  - A NULL options pointer means "all defaults". Any other NULL pointer argument is
 *    TOLK_ERR_INVALID_ARGUMENT (the single exception: `out` of tolk_translate_async when a
 *    callback is given).
 *  - Strings are NUL-terminated UTF-8; invalid UTF-8 in any string argument is
 *    TOLK_ERR_INVALID_UTF8. Returned strings are owned by the object they come from.
 *  - No C++ exception ever leaves a tolk_ function.
 *
 * Thread-safety: a tolk_engine may be used from any number of threads at once (except
 * tolk_engine_free, which must be the last call on it). A tolk_options object must not be
 * modified while another thread uses it; reading it from several calls at once is fine. Results
 * are immutable and may be read from any thread. A tolk_request may be waited on, cancelled and
 * queried from any thread.
 */
#ifndef TOLK_H_
#define TOLK_H_

#include <stddef.h>
#include <stdint.h>

/* Bumped whenever a signature or a documented behaviour changes incompatibly. Compare it with
 * tolk_abi_version() at startup to detect a header/library mismatch. */
#define TOLK_ABI_VERSION 1

/* Only tolk_ symbols are exported: the library is built with hidden visibility (and, on ELF, a
 * linker version script); TOLK_API marks the public ones. */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(TOLK_C_BUILDING)
#    define TOLK_API __declspec(dllexport)
#  else
#    define TOLK_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define TOLK_API __attribute__((visibility("default")))
#else
#  define TOLK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------------------------ */

typedef struct tolk_engine tolk_engine;             /* an engine: loaded models + threads */
typedef struct tolk_options tolk_options;           /* typed key/value settings */
typedef struct tolk_result tolk_result;             /* one translation's outcome */
typedef struct tolk_batch_result tolk_batch_result; /* the outcomes of a batch, in order */
typedef struct tolk_request tolk_request;           /* the handle of an async translation */

/* Status codes. Values are stable (part of the ABI); 1..14 equal tolk::StatusCode's. */
typedef enum tolk_status {
  TOLK_OK = 0,
  TOLK_ERR_INVALID_ARGUMENT = 1,  /* bad parameter: NULL, unknown option key, out of range… */
  TOLK_ERR_INVALID_UTF8 = 2,      /* a string argument is not valid UTF-8 */
  TOLK_ERR_UNKNOWN_MODEL = 3,     /* no model is loaded under that name */
  TOLK_ERR_UNKNOWN_LANGUAGE = 4,  /* language code unknown to the model's tokenizer */
  TOLK_ERR_ALREADY_EXISTS = 5,    /* a model is already loaded under that name */
  TOLK_ERR_FILE_NOT_FOUND = 6,    /* model directory or a required file is missing */
  TOLK_ERR_INVALID_MODEL = 7,     /* a model file is corrupt, truncated, hostile, inconsistent */
  TOLK_ERR_UNSUPPORTED_MODEL = 8, /* a well-formed model tolk does not support */
  TOLK_ERR_INPUT_TOO_LONG = 9,    /* input above max_input_bytes / max_input_tokens */
  TOLK_ERR_CANCELLED = 10,        /* the request was cancelled */
  TOLK_ERR_TIMEOUT = 11,          /* the request's deadline (timeout_ms option) passed */
  TOLK_ERR_QUEUE_FULL = 12,       /* admission refused: too many queued requests */
  TOLK_ERR_SHUTDOWN = 13,         /* the engine is shutting down (or was freed) */
  TOLK_ERR_INTERNAL = 14,         /* a bug or an unexpected runtime failure */
  TOLK_ERR_OUT_OF_MEMORY = 15,    /* an allocation failed */
  TOLK_ERR_NOT_READY = 16,        /* tolk_request_wait timed out: the request is still running */
  TOLK_ERR_ALREADY_TAKEN = 17,    /* the request's result was already handed out */
  /* Not a status: keeps the enum int-sized so that any int value converts to it safely. */
  TOLK_STATUS_MAX_ENUM_ = 0x7FFFFFFF
} tolk_status;

/* ---------------------------------------------------------------------------------------------
 * Library information and errors. All of these are thread-safe and never fail.
 * ------------------------------------------------------------------------------------------ */

/* The library version, "MAJOR.MINOR.PATCH". Static storage; never NULL. */
TOLK_API const char* tolk_version(void);

/* The ABI version the library was built with; equals TOLK_ABI_VERSION when header and library
 * match. */
TOLK_API int tolk_abi_version(void);

/* The enumerator's name, e.g. "TOLK_ERR_UNKNOWN_MODEL"; "TOLK_UNKNOWN_STATUS" for a value that
 * is not a status. Static storage; never NULL. */
TOLK_API const char* tolk_status_name(tolk_status status);

/* The message of the calling thread's most recent failed tolk_ call (non-empty after any
 * failure; "" if no call on this thread has failed yet). Successful calls leave it unchanged.
 * Owned by the library; valid until the next tolk_ call on the same thread. */
TOLK_API const char* tolk_last_error_message(void);

/* Severity of a log line (the engine option log_level filters them; default "warn"). */
typedef enum tolk_log_level {
  TOLK_LOG_DEBUG = 0,
  TOLK_LOG_INFO = 1,
  TOLK_LOG_WARN = 2,
  TOLK_LOG_ERROR = 3
} tolk_log_level;

/* Receives one log line (UTF-8, no trailing newline, borrowed for the call only). It runs on the
 * thread that logged: an engine thread or a caller's. Calls are serialised (never two at once);
 * it must return quickly and must not call tolk_set_log_callback. */
typedef void (*tolk_log_callback)(void* user_data, tolk_log_level level, const char* message);

/* Sends tolk's log lines to `callback` instead of stderr, process-wide (all engines); NULL
 * restores stderr. Thread-safe; once it returns, the previous callback is never called again
 * (a call in progress is waited for). Returns TOLK_OK; TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_set_log_callback(tolk_log_callback callback, void* user_data);

/* Frees a string the library returned with ownership (tolk_engine_stats_json). NULL: no-op. */
TOLK_API void tolk_string_free(char* s);

/* ---------------------------------------------------------------------------------------------
 * Options: one object type for every kind of call. Each call reads the keys that apply to it
 * and refuses (TOLK_ERR_INVALID_ARGUMENT, naming the key) keys that belong to another kind of
 * call. The key table is in docs/c-api.md. A setter refuses at once an unknown key, a key of
 * another type, and a value that is obviously out of range; other limits (e.g. beam_size <= 64)
 * are checked by the call that uses the options. Setting a key again replaces its value.
 * ------------------------------------------------------------------------------------------ */

/* A new, empty options object (everything default), or NULL if out of memory. The caller owns
 * it and frees it with tolk_options_free; calls only read it, so it may be reused and freed
 * right after the call that took it. */
TOLK_API tolk_options* tolk_options_create(void);

/* Frees an options object. NULL: no-op. */
TOLK_API void tolk_options_free(tolk_options* options);

/* Sets an integer key. Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL options or key,
 * unknown key, key not of integer type, value out of range); TOLK_ERR_INVALID_UTF8 (key);
 * TOLK_ERR_OUT_OF_MEMORY. */
TOLK_API tolk_status tolk_options_set_int(tolk_options* o, const char* key, int64_t value);

/* Sets a floating-point key. Same statuses as tolk_options_set_int (NaN and infinities are
 * out of range). */
TOLK_API tolk_status tolk_options_set_float(tolk_options* o, const char* key, double value);

/* Sets a string key; the value is copied. Same statuses as tolk_options_set_int, plus
 * TOLK_ERR_INVALID_UTF8 for the value, and TOLK_ERR_INVALID_ARGUMENT for a NULL value or a
 * value outside the key's fixed set (priority, mode, log_level). */
TOLK_API tolk_status tolk_options_set_string(tolk_options* o, const char* key, const char* value);

/* ---------------------------------------------------------------------------------------------
 * Engine and models
 * ------------------------------------------------------------------------------------------ */

/* Creates an engine with its async threads. engine_options: NULL or engine keys
 * (intra_threads, async_threads, max_queued_requests, log_level). On success *out owns the
 * engine (free with tolk_engine_free); on failure *out = NULL.
 * Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL out, non-engine key, bad value);
 * TOLK_ERR_OUT_OF_MEMORY; TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_engine_create(const tolk_options* engine_options, tolk_engine** out);

/* Frees an engine. Requests still queued end with TOLK_ERR_SHUTDOWN (their callbacks run on the
 * calling thread, before this returns); running ones stop early, also with TOLK_ERR_SHUTDOWN
 * unless they finish first. Returns only after every accepted request has ended and its
 * callback has returned; no callback runs after it returns. Request handles stay valid (waiting
 * on them returns their final status at once) until tolk_request_free. Must be the last call on
 * the engine, and must not be called from a callback (such a call is refused: the engine is
 * not freed and the thread's last error says why). NULL: no-op. */
TOLK_API void tolk_engine_free(tolk_engine* engine);

/* Loads the model directory `path` (Hugging Face layout) under `name`. Everything is validated
 * here, not at first use. model_options: NULL or model keys (mode, workers,
 * threads_per_worker, compute_type, device, max_input_tokens, max_input_bytes,
 * legacy_behaviour, max_queued_requests and the continuous-batching and sentence keys listed in
 * docs/c-api.md). Thread-safe; slow (reads the weights). On failure nothing is loaded.
 * Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL argument, empty name, non-model key, a key
 * not supported yet, unsupported mode/compute_type/device); TOLK_ERR_INVALID_UTF8;
 * TOLK_ERR_ALREADY_EXISTS; TOLK_ERR_FILE_NOT_FOUND; TOLK_ERR_INVALID_MODEL;
 * TOLK_ERR_UNSUPPORTED_MODEL; TOLK_ERR_OUT_OF_MEMORY; TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_engine_load_model(tolk_engine* e, const char* name, const char* path,
                                            const tolk_options* model_options);

/* Unloads a model. Requests already running on it finish first; later calls naming it get
 * TOLK_ERR_UNKNOWN_MODEL. Thread-safe. Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL);
 * TOLK_ERR_INVALID_UTF8; TOLK_ERR_UNKNOWN_MODEL; TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_engine_unload_model(tolk_engine* e, const char* name);

/* Live statistics as a JSON object (UTF-8, NUL-terminated): per model its mode, queue lengths
 * per priority, live sentences, batch occupancy histogram, requests, tokens and tokens per busy
 * second, weight bytes; the async queue. Thread-safe; a snapshot, not a consistent cut. The
 * caller owns the string and frees it with tolk_string_free. On failure returns NULL and sets
 * the thread's last error: TOLK_ERR_INVALID_ARGUMENT (NULL e); TOLK_ERR_OUT_OF_MEMORY;
 * TOLK_ERR_INTERNAL. */
TOLK_API char* tolk_engine_stats_json(tolk_engine* e);

/* ---------------------------------------------------------------------------------------------
 * Translation. `options`: NULL or translation keys (beam_size, num_hypotheses, max_new_tokens,
 * min_new_tokens, length_penalty, repetition_penalty, no_repeat_ngram_size, sampling,
 * sampling_topk, sampling_topp, temperature, seed, priority, timeout_ms,
 * cleanup_tokenization_spaces). Empty or whitespace-only text is valid. src_lang/tgt_lang are
 * the model's language codes, e.g. "eng_Latn", "fra_Latn".
 * ------------------------------------------------------------------------------------------ */

/* Translates one text on the calling thread. Thread-safe. On success *out owns a result with
 * status TOLK_OK (free with tolk_result_free); on failure *out = NULL.
 * Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL argument, bad option); TOLK_ERR_INVALID_UTF8;
 * TOLK_ERR_UNKNOWN_MODEL; TOLK_ERR_UNKNOWN_LANGUAGE; TOLK_ERR_INPUT_TOO_LONG; TOLK_ERR_TIMEOUT;
 * TOLK_ERR_QUEUE_FULL (the model's max_queued_requests); TOLK_ERR_CANCELLED (the model was
 * unloaded with cancel); TOLK_ERR_SHUTDOWN; TOLK_ERR_OUT_OF_MEMORY; TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_translate_sync(tolk_engine* e, const char* model, const char* text,
                                         const char* src_lang, const char* tgt_lang,
                                         const tolk_options* options, tolk_result** out);

/* Translates `count` texts as one batch on the calling thread. Thread-safe. Errors of the whole
 * call (NULL `texts` or item, invalid UTF-8 in any item, unknown model, bad options) fail it as
 * a whole: *out = NULL. Otherwise it returns TOLK_OK and *out owns a batch result (free with
 * tolk_batch_result_free) with one result per text, in order; per-item failures (unknown
 * language, input too long, …) are in each item's tolk_result_status. count 0: TOLK_OK with an
 * empty batch (`texts` may then be NULL).
 * Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT; TOLK_ERR_INVALID_UTF8; TOLK_ERR_UNKNOWN_MODEL;
 * TOLK_ERR_QUEUE_FULL (the model's max_queued_requests); TOLK_ERR_OUT_OF_MEMORY;
 * TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_translate_batch(tolk_engine* e, const char* model,
                                          const char* const* texts, size_t count,
                                          const char* src_lang, const char* tgt_lang,
                                          const tolk_options* options, tolk_batch_result** out);

/* Called once when an async request ends, with the request's result, which the callee owns and
 * must free with tolk_result_free (the result's status may be an error: cancelled, timeout,
 * shutdown, unknown language, …). It runs on an engine thread — or, for a request still queued
 * when tolk_engine_free is called, on the thread calling tolk_engine_free. It must return
 * quickly (it holds an engine thread), must not call tolk_engine_free, and must not wait on its
 * own request (the request ends only after the callback returns). It may call any other tolk_
 * function, including tolk_request_free on its own request. */
typedef void (*tolk_callback)(void* user_data, tolk_result* result);

/* Queues one translation and returns at once. Thread-safe. The request ends exactly once, with
 * a result or an error status; it is delivered to `callback` (if not NULL) or else handed out
 * by tolk_request_wait. On success *out (if `out` is not NULL) owns the request handle (free
 * with tolk_request_free; freeing it does not stop the request). `out` may be NULL only when a
 * callback is given (fire-and-forget). Input errors (unknown language, input too long) end the
 * request with their status; errors of the call itself are returned, and then no callback
 * runs and *out = NULL.
 * Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL argument, NULL out without callback, bad
 * option); TOLK_ERR_INVALID_UTF8; TOLK_ERR_UNKNOWN_MODEL; TOLK_ERR_QUEUE_FULL;
 * TOLK_ERR_SHUTDOWN; TOLK_ERR_OUT_OF_MEMORY; TOLK_ERR_INTERNAL. */
TOLK_API tolk_status tolk_translate_async(tolk_engine* e, const char* model, const char* text,
                                          const char* src_lang, const char* tgt_lang,
                                          const tolk_options* options, tolk_callback callback,
                                          void* user_data, tolk_request** out);

/* Waits up to timeout_ms for the request to end (0 polls; negative waits forever). *out is
 * always set: NULL unless a result is handed out.
 *  - Still running after timeout_ms: TOLK_ERR_NOT_READY; the request stays waitable.
 *  - Ended, no callback, result not yet handed out: *out owns the result (free with
 *    tolk_result_free) and the return value is the result's status (TOLK_OK, or e.g.
 *    TOLK_ERR_CANCELLED, with the message also in tolk_last_error_message).
 *  - Ended, result already handed out by an earlier wait: TOLK_ERR_ALREADY_TAKEN at once.
 *  - Ended, with a callback (which owns the result): the request's final status; *out = NULL.
 * Works after tolk_engine_free (the request has ended by then). Thread-safe: several threads
 * may wait; one gets the result, the others TOLK_ERR_ALREADY_TAKEN.
 * Returns those, and TOLK_ERR_INVALID_ARGUMENT (NULL r or out); TOLK_ERR_OUT_OF_MEMORY. */
TOLK_API tolk_status tolk_request_wait(tolk_request* r, int64_t timeout_ms, tolk_result** out);

/* Asks the request to stop; it ends with TOLK_ERR_CANCELLED unless it ends otherwise first.
 * Returns at once; any thread; a request that has already ended is left as it is (TOLK_OK).
 * Returns TOLK_OK; TOLK_ERR_INVALID_ARGUMENT (NULL). */
TOLK_API tolk_status tolk_request_cancel(tolk_request* r);

/* Releases the handle. A request still running completes anyway (its callback, if any, still
 * runs); only the handle goes. Must be the last call on the handle (no other thread may be
 * waiting on it). NULL: no-op. */
TOLK_API void tolk_request_free(tolk_request* r);

/* ---------------------------------------------------------------------------------------------
 * Results: immutable, readable from any thread. Returned strings and arrays are borrowed: valid
 * until the result (or the batch holding it) is freed. A NULL result or an out-of-range index is
 * an error: the accessor returns the value documented below and sets the thread's last error.
 * ------------------------------------------------------------------------------------------ */

/* The result's status: TOLK_OK or the error that ended it. NULL: TOLK_ERR_INVALID_ARGUMENT. */
TOLK_API tolk_status tolk_result_status(const tolk_result* r);

/* The best translation, UTF-8 ("" for a failed result). NULL r: "". Never NULL. */
TOLK_API const char* tolk_result_text(const tolk_result* r);

/* The error message of a failed result; "" when the status is TOLK_OK. NULL r: "". Never
 * NULL. */
TOLK_API const char* tolk_result_error_message(const tolk_result* r);

/* The best hypothesis' score: sum of token log-probabilities / length ** length_penalty
 * (Hugging Face's sequence score). 0 for a failed result; NaN for NULL r. */
TOLK_API double tolk_result_score(const tolk_result* r);

/* The best hypothesis' token ids as Hugging Face's generate() returns them (decoder start,
 * target language code, pieces, </s> if finished). *count gets the length; the array is
 * borrowed (NULL when *count is 0). NULL r or count: returns NULL (and *count = 0 if count is
 * not NULL). */
TOLK_API const int64_t* tolk_result_token_ids(const tolk_result* r, size_t* count);

/* The number of hypotheses (the num_hypotheses option; 0 for a failed result). NULL r: 0. */
TOLK_API size_t tolk_result_num_hypotheses(const tolk_result* r);

/* Hypothesis i (0 = best, the same as tolk_result_text): its text, "" if r is NULL or i is out
 * of range. Never NULL. */
TOLK_API const char* tolk_result_hypothesis_text(const tolk_result* r, size_t i);

/* Hypothesis i's score; NaN if r is NULL or i is out of range. */
TOLK_API double tolk_result_hypothesis_score(const tolk_result* r, size_t i);

/* Hypothesis i's token ids (borrowed, like tolk_result_token_ids); NULL with *count = 0 if r is
 * NULL or i is out of range. */
TOLK_API const int64_t* tolk_result_hypothesis_token_ids(const tolk_result* r, size_t i,
                                                         size_t* count);

/* Timings in milliseconds (0 for a request that never ran): waiting for the model (queue_ms),
 * tokenizer + encoder (encode_ms), decoder steps + detokenizer (decode_ms), and the whole call
 * (total_ms). NULL r: NaN. */
TOLK_API double tolk_result_queue_ms(const tolk_result* r);
TOLK_API double tolk_result_encode_ms(const tolk_result* r);
TOLK_API double tolk_result_decode_ms(const tolk_result* r);
TOLK_API double tolk_result_total_ms(const tolk_result* r);

/* Frees a result obtained from tolk_translate_sync, tolk_request_wait or a callback. Never
 * pass a result borrowed from a batch. NULL: no-op. */
TOLK_API void tolk_result_free(tolk_result* r);

/* The number of results in a batch (= count of the call). NULL: 0. */
TOLK_API size_t tolk_batch_result_size(const tolk_batch_result* b);

/* Result i of a batch, borrowed: valid until the batch is freed; do not free it. NULL if b is
 * NULL or i >= size. */
TOLK_API const tolk_result* tolk_batch_result_get(const tolk_batch_result* b, size_t i);

/* Frees a batch result and every result in it. NULL: no-op. */
TOLK_API void tolk_batch_result_free(tolk_batch_result* b);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TOLK_H_ */
