// The C ABI (capi/tolk.h) end to end on the dev checkpoint: HF's reference outputs through C,
// batch and async semantics (wait, callbacks, cancel, engine free with requests in flight),
// and every bad input getting its named status and a message.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "tolk.h"

namespace fs = std::filesystem;

namespace {

const char* const kDev = TOLK_TEST_DATA_DIR "/dev";
double (*const kTimings[])(const tolk_result*) = {tolk_result_queue_ms, tolk_result_encode_ms,
                                                  tolk_result_decode_ms, tolk_result_total_ms};
const char* const kLongText =
    "Hello world. Open the file and save it before you close the window, then print the "
    "document. Hello world. Open the file and save it before you close the window.";

// The status' name; a non-OK status must leave a message behind. Names read well in Catch.
std::string named(tolk_status s) {
  if (s != TOLK_OK) CHECK(std::strlen(tolk_last_error_message()) > 0);
  return tolk_status_name(s);
}

struct Options {
  tolk_options* p = tolk_options_create();
  ~Options() { tolk_options_free(p); }
  Options& i(const char* k, int64_t v) { REQUIRE(named(tolk_options_set_int(p, k, v)) == "TOLK_OK"); return *this; }
  Options& f(const char* k, double v) { REQUIRE(named(tolk_options_set_float(p, k, v)) == "TOLK_OK"); return *this; }
  Options& s(const char* k, const char* v) { REQUIRE(named(tolk_options_set_string(p, k, v)) == "TOLK_OK"); return *this; }
};

// An engine with the dev checkpoint loaded as "dev".
struct Engine {
  tolk_engine* e = nullptr;
  explicit Engine(const tolk_options* engine_options = nullptr) {
    REQUIRE(named(tolk_engine_create(engine_options, &e)) == "TOLK_OK");
    REQUIRE(named(tolk_engine_load_model(e, "dev", kDev, nullptr)) == "TOLK_OK");
  }
  ~Engine() { tolk_engine_free(e); }
};

struct Counter {
  std::atomic<int> calls{0};
  std::atomic<int> status{-1};
  std::mutex mutex;
  std::string text;
};

void count_callback(void* user_data, tolk_result* r) {
  auto* c = static_cast<Counter*>(user_data);
  c->status = tolk_result_status(r);
  {
    std::lock_guard<std::mutex> guard(c->mutex);
    c->text = tolk_result_text(r);
  }
  tolk_result_free(r);
  c->calls++;
}

std::string sync_text(tolk_engine* e, const char* text, const tolk_options* o,
                      double* score = nullptr, const char* model = "dev") {
  tolk_result* r = nullptr;
  REQUIRE(named(tolk_translate_sync(e, model, text, "eng_Latn", "fra_Latn", o, &r)) == "TOLK_OK");
  REQUIRE(r != nullptr);
  CHECK(tolk_result_status(r) == TOLK_OK);
  std::string t = tolk_result_text(r);
  if (score) *score = tolk_result_score(r);
  tolk_result_free(r);
  return t;
}

tolk_status sync_status(tolk_engine* e, const char* model, const char* text, const char* src,
                        const char* tgt, const tolk_options* o = nullptr) {
  tolk_result* r = reinterpret_cast<tolk_result*>(&r);  // must come back NULL on failure
  const tolk_status s = tolk_translate_sync(e, model, text, src, tgt, o, &r);
  if (s != TOLK_OK) CHECK(r == nullptr);
  tolk_result_free(s == TOLK_OK ? r : nullptr);
  return s;
}

}  // namespace

TEST_CASE("C ABI: version, ABI version and status names", "[capi]") {
  CHECK(std::string(tolk_version()).find('.') != std::string::npos);
  CHECK(tolk_abi_version() == TOLK_ABI_VERSION);
  std::set<std::string> names;
  for (int s = TOLK_OK; s <= TOLK_ERR_ALREADY_TAKEN; ++s) {
    const std::string n = tolk_status_name(static_cast<tolk_status>(s));
    CHECK((n.rfind("TOLK_", 0) == 0 && n != "TOLK_UNKNOWN_STATUS"));
    names.insert(n);
  }
  CHECK(names.size() == TOLK_ERR_ALREADY_TAKEN + 1);
  CHECK(std::string(tolk_status_name(TOLK_ERR_NOT_READY)) == "TOLK_ERR_NOT_READY");
  CHECK(std::string(tolk_status_name(static_cast<tolk_status>(9999))) == "TOLK_UNKNOWN_STATUS");
  CHECK(std::string(tolk_status_name(static_cast<tolk_status>(18))) == "TOLK_UNKNOWN_STATUS");
}

TEST_CASE("C ABI: translate_sync matches HF (greedy, beam, n-best)", "[capi][parity]") {
  Engine eng;
  Options greedy;
  greedy.i("max_new_tokens", 20);
  tolk_result* r = nullptr;
  REQUIRE(tolk_translate_sync(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", greedy.p, &r) == TOLK_OK);
  CHECK(std::string(tolk_result_text(r)) == "Aduné.");
  CHECK(std::string(tolk_result_error_message(r)).empty());
  size_t n = 0;
  const int64_t* ids = tolk_result_token_ids(r, &n);
  CHECK(std::vector<int64_t>(ids, ids + n) == std::vector<int64_t>{2, 307, 150, 187, 161, 160, 156, 170, 173, 2});
  CHECK(std::isfinite(tolk_result_score(r)));
  REQUIRE(tolk_result_num_hypotheses(r) == 1);
  CHECK(std::string(tolk_result_hypothesis_text(r, 0)) == "Aduné.");
  CHECK(tolk_result_hypothesis_score(r, 0) == tolk_result_score(r));
  for (auto timing : kTimings) CHECK(timing(r) >= 0);
  // Out of range: "", NaN, NULL with count 0, and a message.
  CHECK(std::string(tolk_result_hypothesis_text(r, 1)).empty());
  CHECK(std::isnan(tolk_result_hypothesis_score(r, 1)));
  CHECK(tolk_result_hypothesis_token_ids(r, 1, &n) == nullptr);
  CHECK(n == 0);
  tolk_result_free(r);

  CHECK(sync_text(eng.e, "Hello world.", nullptr) == "Aduné.");  // defaults

  Options beam;
  beam.i("max_new_tokens", 20).i("beam_size", 4);
  double score = 0;
  CHECK(sync_text(eng.e, "Hello world.", beam.p, &score) == "Lempossible d'étendition.");
  CHECK(score == Approx(-1.152292).margin(1e-4));

  beam.i("num_hypotheses", 4);
  REQUIRE(tolk_translate_sync(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", beam.p, &r) == TOLK_OK);
  REQUIRE(tolk_result_num_hypotheses(r) == 4);
  CHECK(std::string(tolk_result_hypothesis_text(r, 0)) == "Lempossible d'étendition.");
  CHECK(tolk_result_hypothesis_score(r, 0) >= tolk_result_hypothesis_score(r, 3));
  CHECK(tolk_result_hypothesis_token_ids(r, 3, &n) != nullptr);
  CHECK(n > 2);
  tolk_result_free(r);

  // Empty and whitespace-only texts are valid input.
  CHECK_NOTHROW(sync_text(eng.e, "", greedy.p));
  CHECK_NOTHROW(sync_text(eng.e, "  \t ", greedy.p));
  // Seeded sampling is reproducible.
  Options sampled;
  sampled.i("sampling", 1).i("seed", 42).i("max_new_tokens", 20).f("sampling_topp", 0.9).f("temperature", 0.8);
  CHECK(sync_text(eng.e, "Hello world.", sampled.p) == sync_text(eng.e, "Hello world.", sampled.p));
}

TEST_CASE("C ABI: batches", "[capi][batch]") {
  Engine eng;
  Options o;
  o.i("max_new_tokens", 20);
  const char* texts[] = {"Hello world.", "", "Open the file"};
  tolk_batch_result* b = nullptr;
  REQUIRE(named(tolk_translate_batch(eng.e, "dev", texts, 3, "eng_Latn", "fra_Latn", o.p, &b)) == "TOLK_OK");
  REQUIRE(tolk_batch_result_size(b) == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(tolk_result_status(tolk_batch_result_get(b, i)) == TOLK_OK);
  CHECK(std::string(tolk_result_text(tolk_batch_result_get(b, 0))) == "Aduné.");
  CHECK(tolk_batch_result_get(b, 3) == nullptr);
  tolk_batch_result_free(b);

  // A NULL or non-UTF-8 item fails the whole call.
  const char* with_null[] = {"Hello world.", nullptr, "x"};
  b = reinterpret_cast<tolk_batch_result*>(&b);
  CHECK(named(tolk_translate_batch(eng.e, "dev", with_null, 3, "eng_Latn", "fra_Latn", o.p, &b)) == "TOLK_ERR_INVALID_ARGUMENT");
  CHECK(b == nullptr);
  const char* bad_utf8[] = {"Hello world.", "caf\xc3"};
  CHECK(named(tolk_translate_batch(eng.e, "dev", bad_utf8, 2, "eng_Latn", "fra_Latn", o.p, &b)) == "TOLK_ERR_INVALID_UTF8");
  CHECK(b == nullptr);

  // count 0: an empty batch (texts may be NULL), but the model is still checked.
  REQUIRE(tolk_translate_batch(eng.e, "dev", nullptr, 0, "eng_Latn", "fra_Latn", nullptr, &b) == TOLK_OK);
  CHECK(tolk_batch_result_size(b) == 0);
  tolk_batch_result_free(b);
  CHECK(named(tolk_translate_batch(eng.e, "nope", texts, 0, "eng_Latn", "fra_Latn", nullptr, &b)) == "TOLK_ERR_UNKNOWN_MODEL");

  // Runtime failures are per item.
  Options small;
  small.i("max_input_bytes", 8);
  REQUIRE(tolk_engine_load_model(eng.e, "small", kDev, small.p) == TOLK_OK);
  REQUIRE(tolk_translate_batch(eng.e, "small", texts, 3, "eng_Latn", "fra_Latn", o.p, &b) == TOLK_OK);
  CHECK(named(tolk_result_status(tolk_batch_result_get(b, 0))) == "TOLK_ERR_INPUT_TOO_LONG");
  CHECK(std::strlen(tolk_result_error_message(tolk_batch_result_get(b, 0))) > 0);
  CHECK(tolk_result_status(tolk_batch_result_get(b, 1)) == TOLK_OK);
  tolk_batch_result_free(b);
  REQUIRE(tolk_translate_batch(eng.e, "dev", texts, 3, "eng_Latn", "</s>", o.p, &b) == TOLK_OK);
  CHECK(named(tolk_result_status(tolk_batch_result_get(b, 2))) == "TOLK_ERR_UNKNOWN_LANGUAGE");
  tolk_batch_result_free(b);
}

TEST_CASE("C ABI: async with wait and with callbacks", "[capi][async]") {
  Engine eng;
  Options o;
  o.i("max_new_tokens", 20);
  tolk_request* req = nullptr;
  REQUIRE(named(tolk_translate_async(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", o.p, nullptr, nullptr, &req)) == "TOLK_OK");
  tolk_result* r = nullptr;
  const tolk_status polled = tolk_request_wait(req, 0, &r);  // fresh: still running, or done
  CHECK((polled == TOLK_ERR_NOT_READY || polled == TOLK_OK));
  if (polled == TOLK_ERR_NOT_READY) {
    CHECK(r == nullptr);
    REQUIRE(named(tolk_request_wait(req, -1, &r)) == "TOLK_OK");
  }
  REQUIRE(r != nullptr);
  CHECK(std::string(tolk_result_text(r)) == "Aduné.");
  tolk_result_free(r);
  CHECK(named(tolk_request_wait(req, -1, &r)) == "TOLK_ERR_ALREADY_TAKEN");
  CHECK(r == nullptr);
  CHECK(named(tolk_request_cancel(req)) == "TOLK_OK");  // after the end: a no-op
  CHECK(named(tolk_request_wait(req, 0, &r)) == "TOLK_ERR_ALREADY_TAKEN");
  tolk_request_free(req);

  // Callback: fires exactly once; wait reports the final status without a result.
  Counter c;
  REQUIRE(tolk_translate_async(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", o.p, count_callback, &c, &req) == TOLK_OK);
  r = reinterpret_cast<tolk_result*>(&r);
  CHECK(named(tolk_request_wait(req, -1, &r)) == "TOLK_OK");
  CHECK(r == nullptr);
  CHECK(c.calls == 1);
  CHECK(c.text == "Aduné.");
  CHECK(tolk_request_wait(req, 0, &r) == TOLK_OK);  // still the final status
  tolk_request_free(req);

  // An input error ends the request with its status (wait hands out the failed result).
  REQUIRE(tolk_translate_async(eng.e, "dev", "Hello", "eng_Latn", "</s>", nullptr, nullptr, nullptr, &req) == TOLK_OK);
  CHECK(named(tolk_request_wait(req, -1, &r)) == "TOLK_ERR_UNKNOWN_LANGUAGE");
  REQUIRE(r != nullptr);
  CHECK(tolk_result_status(r) == TOLK_ERR_UNKNOWN_LANGUAGE);
  CHECK(std::strlen(tolk_result_error_message(r)) > 0);
  tolk_result_free(r);
  tolk_request_free(req);

  // Fire-and-forget, and a handle freed while its request runs: callbacks still fire once.
  Counter ff, freed;
  REQUIRE(tolk_translate_async(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", o.p, count_callback, &ff, nullptr) == TOLK_OK);
  REQUIRE(tolk_translate_async(eng.e, "dev", kLongText, "eng_Latn", "fra_Latn", nullptr, count_callback, &freed, &req) == TOLK_OK);
  tolk_request_free(req);
  for (int i = 0; i < 2000 && (ff.calls == 0 || freed.calls == 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(ff.calls == 1);
  CHECK(ff.status == TOLK_OK);
  CHECK(freed.calls == 1);
}

TEST_CASE("C ABI: cancel", "[capi][async]") {
  Options one_thread;
  one_thread.i("async_threads", 1);
  Engine eng(one_thread.p);
  Options long_run;
  long_run.i("max_new_tokens", 200);
  constexpr int kN = 6;
  Counter counters[kN];
  tolk_request* reqs[kN] = {};
  for (int i = 0; i < kN; ++i)
    REQUIRE(tolk_translate_async(eng.e, "dev", kLongText, "eng_Latn", "fra_Latn", long_run.p, count_callback, &counters[i], &reqs[i]) == TOLK_OK);
  for (auto* req : reqs) CHECK(tolk_request_cancel(req) == TOLK_OK);
  int cancelled = 0;
  for (int i = 0; i < kN; ++i) {
    tolk_result* r = nullptr;
    const tolk_status s = tolk_request_wait(reqs[i], -1, &r);
    CHECK((s == TOLK_ERR_CANCELLED || s == TOLK_OK));
    CHECK(r == nullptr);  // the callback owns it
    CHECK(counters[i].calls == 1);
    CHECK(counters[i].status == s);
    if (s == TOLK_ERR_CANCELLED) {
      ++cancelled;
      CHECK(std::strlen(tolk_last_error_message()) > 0);
    }
    CHECK(tolk_request_cancel(reqs[i]) == TOLK_OK);  // after the end: no-op
    tolk_request_free(reqs[i]);
  }
  CHECK(cancelled >= 1);  // with one async thread, the last requests were still queued

  // Without a callback, a cancelled request's result carries the status.
  tolk_request* a = nullptr;
  tolk_request* b = nullptr;
  REQUIRE(tolk_translate_async(eng.e, "dev", kLongText, "eng_Latn", "fra_Latn", long_run.p, nullptr, nullptr, &a) == TOLK_OK);
  REQUIRE(tolk_translate_async(eng.e, "dev", kLongText, "eng_Latn", "fra_Latn", long_run.p, nullptr, nullptr, &b) == TOLK_OK);
  CHECK(tolk_request_cancel(b) == TOLK_OK);
  tolk_result* r = nullptr;
  CHECK(named(tolk_request_wait(b, -1, &r)) == "TOLK_ERR_CANCELLED");
  REQUIRE(r != nullptr);
  CHECK(tolk_result_status(r) == TOLK_ERR_CANCELLED);
  tolk_result_free(r);
  CHECK(tolk_request_wait(a, -1, &r) == TOLK_OK);
  tolk_result_free(r);
  tolk_request_free(a);
  tolk_request_free(b);

  // timeout_ms bounds submission to completion: requests queued behind others time out.
  Options deadline;
  deadline.i("timeout_ms", 1);
  tolk_request* late[4] = {};
  for (auto& q : late)
    REQUIRE(tolk_translate_async(eng.e, "dev", kLongText, "eng_Latn", "fra_Latn", deadline.p, nullptr, nullptr, &q) == TOLK_OK);
  int timeouts = 0;
  for (auto* q : late) {
    const tolk_status s = tolk_request_wait(q, -1, &r);
    CHECK((s == TOLK_OK || s == TOLK_ERR_TIMEOUT));
    timeouts += s == TOLK_ERR_TIMEOUT;
    tolk_result_free(r);
    tolk_request_free(q);
  }
  CHECK(timeouts >= 1);
}

TEST_CASE("C ABI: engine free with requests in flight", "[capi][async]") {
  Options one_thread;
  one_thread.i("async_threads", 1);
  tolk_engine* e = nullptr;
  REQUIRE(tolk_engine_create(one_thread.p, &e) == TOLK_OK);
  REQUIRE(tolk_engine_load_model(e, "dev", kDev, nullptr) == TOLK_OK);
  Options long_run;
  long_run.i("max_new_tokens", 200);
  constexpr int kN = 5;
  Counter counters[kN];
  tolk_request* with_cb[kN] = {};
  tolk_request* without_cb[kN] = {};
  for (int i = 0; i < kN; ++i) {
    REQUIRE(tolk_translate_async(e, "dev", kLongText, "eng_Latn", "fra_Latn", long_run.p, count_callback, &counters[i], &with_cb[i]) == TOLK_OK);
    REQUIRE(tolk_translate_async(e, "dev", kLongText, "eng_Latn", "fra_Latn", long_run.p, nullptr, nullptr, &without_cb[i]) == TOLK_OK);
  }
  tolk_engine_free(e);  // returns once every request ended and every callback returned
  for (int i = 0; i < kN; ++i) {
    CHECK(counters[i].calls == 1);
    tolk_result* r = nullptr;
    const tolk_status s = tolk_request_wait(with_cb[i], 0, &r);  // terminal at once
    CHECK((s == TOLK_OK || s == TOLK_ERR_SHUTDOWN));
    CHECK(r == nullptr);
    const tolk_status s2 = tolk_request_wait(without_cb[i], 0, &r);
    CHECK((s2 == TOLK_OK || s2 == TOLK_ERR_SHUTDOWN));
    REQUIRE(r != nullptr);
    CHECK(tolk_result_status(r) == s2);
    tolk_result_free(r);
    tolk_request_free(with_cb[i]);
    tolk_request_free(without_cb[i]);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& c : counters) CHECK(c.calls == 1);  // and never again
}

namespace {
struct SelfFree {
  tolk_engine* engine = nullptr;
  std::atomic<int> calls{0};
  std::string error;
};
void free_own_engine(void* user_data, tolk_result* r) {
  auto* s = static_cast<SelfFree*>(user_data);
  tolk_engine_free(s->engine);  // refused: would join the thread running this callback
  s->error = tolk_last_error_message();
  tolk_result_free(r);
  s->calls++;
}
}  // namespace

TEST_CASE("C ABI: tolk_engine_free from a callback is refused", "[capi][async]") {
  Engine eng;
  SelfFree s;
  s.engine = eng.e;
  tolk_request* req = nullptr;
  REQUIRE(tolk_translate_async(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", nullptr, free_own_engine, &s, &req) == TOLK_OK);
  CHECK(tolk_request_wait(req, -1, nullptr) == TOLK_ERR_INVALID_ARGUMENT);
  tolk_result* r = nullptr;
  CHECK(tolk_request_wait(req, -1, &r) == TOLK_OK);
  tolk_request_free(req);
  CHECK(s.calls == 1);
  CHECK(s.error.find("callback") != std::string::npos);
  CHECK(sync_text(eng.e, "Hello world.", nullptr) == "Aduné.");  // the engine still works
}

TEST_CASE("C ABI: every NULL argument", "[capi][errors]") {
  Engine eng;
  const std::string bad = "TOLK_ERR_INVALID_ARGUMENT";
  Options o;
  CHECK(named(tolk_engine_create(nullptr, nullptr)) == bad);
  CHECK(named(tolk_options_set_int(nullptr, "beam_size", 1)) == bad);
  CHECK(named(tolk_options_set_int(o.p, nullptr, 1)) == bad);
  CHECK(named(tolk_options_set_float(nullptr, "temperature", 1)) == bad);
  CHECK(named(tolk_options_set_float(o.p, nullptr, 1)) == bad);
  CHECK(named(tolk_options_set_string(nullptr, "priority", "bulk")) == bad);
  CHECK(named(tolk_options_set_string(o.p, nullptr, "bulk")) == bad);
  CHECK(named(tolk_options_set_string(o.p, "priority", nullptr)) == bad);
  CHECK(named(tolk_engine_load_model(nullptr, "x", kDev, nullptr)) == bad);
  CHECK(named(tolk_engine_load_model(eng.e, nullptr, kDev, nullptr)) == bad);
  CHECK(named(tolk_engine_load_model(eng.e, "x", nullptr, nullptr)) == bad);
  CHECK(named(tolk_engine_load_model(eng.e, "", kDev, nullptr)) == bad);  // empty name
  CHECK(named(tolk_engine_unload_model(nullptr, "dev")) == bad);
  CHECK(named(tolk_engine_unload_model(eng.e, nullptr)) == bad);
  const char* const args[4] = {"dev", "Hello", "eng_Latn", "fra_Latn"};
  for (int k = 0; k < 4; ++k) {  // each string argument NULL in turn
    const char* a[4] = {args[0], args[1], args[2], args[3]};
    a[k] = nullptr;
    tolk_result* r = nullptr;
    tolk_request* q = nullptr;
    tolk_batch_result* b = nullptr;
    CHECK(named(tolk_translate_sync(eng.e, a[0], a[1], a[2], a[3], nullptr, &r)) == bad);
    CHECK(named(tolk_translate_async(eng.e, a[0], a[1], a[2], a[3], nullptr, nullptr, nullptr, &q)) == bad);
    if (k != 1) CHECK(named(tolk_translate_batch(eng.e, a[0], &args[1], 1, a[2], a[3], nullptr, &b)) == bad);
    CHECK((r == nullptr && q == nullptr && b == nullptr));
  }
  tolk_result* r = nullptr;
  tolk_request* q = nullptr;
  tolk_batch_result* b = nullptr;
  CHECK(named(tolk_translate_sync(nullptr, "dev", "Hello", "eng_Latn", "fra_Latn", nullptr, &r)) == bad);
  CHECK(named(tolk_translate_sync(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", nullptr, nullptr)) == bad);
  CHECK(named(tolk_translate_batch(nullptr, "dev", &args[1], 1, "eng_Latn", "fra_Latn", nullptr, &b)) == bad);
  CHECK(named(tolk_translate_batch(eng.e, "dev", nullptr, 1, "eng_Latn", "fra_Latn", nullptr, &b)) == bad);
  CHECK(named(tolk_translate_batch(eng.e, "dev", &args[1], 1, "eng_Latn", "fra_Latn", nullptr, nullptr)) == bad);
  CHECK(named(tolk_translate_async(nullptr, "dev", "Hello", "eng_Latn", "fra_Latn", nullptr, nullptr, nullptr, &q)) == bad);
  CHECK(named(tolk_translate_async(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", nullptr, nullptr, nullptr, nullptr)) == bad);
  CHECK(named(tolk_request_wait(nullptr, 0, &r)) == bad);
  CHECK(named(tolk_request_cancel(nullptr)) == bad);
  // Accessors: safe values plus a message.
  size_t n = 7;
  CHECK(named(tolk_result_status(nullptr)) == bad);
  CHECK(std::string(tolk_result_text(nullptr)).empty());
  CHECK(std::string(tolk_result_error_message(nullptr)).empty());
  CHECK(std::isnan(tolk_result_score(nullptr)));
  CHECK(tolk_result_token_ids(nullptr, &n) == nullptr);
  CHECK(n == 0);
  CHECK(tolk_result_num_hypotheses(nullptr) == 0);
  CHECK(std::string(tolk_result_hypothesis_text(nullptr, 0)).empty());
  CHECK(std::isnan(tolk_result_hypothesis_score(nullptr, 0)));
  CHECK(tolk_result_hypothesis_token_ids(nullptr, 0, &n) == nullptr);
  for (auto timing : kTimings) CHECK(std::isnan(timing(nullptr)));
  CHECK(tolk_batch_result_size(nullptr) == 0);
  CHECK(tolk_batch_result_get(nullptr, 0) == nullptr);
  CHECK(std::strlen(tolk_last_error_message()) > 0);
  REQUIRE(tolk_translate_sync(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", nullptr, &r) == TOLK_OK);
  CHECK(tolk_result_token_ids(r, nullptr) == nullptr);
  CHECK(tolk_result_hypothesis_token_ids(r, 0, nullptr) == nullptr);
  tolk_result_free(r);
  // _free(NULL) is a no-op.
  tolk_options_free(nullptr), tolk_engine_free(nullptr), tolk_result_free(nullptr);
  tolk_batch_result_free(nullptr), tolk_request_free(nullptr);
}

TEST_CASE("C ABI: invalid UTF-8, unknown model and language, too long", "[capi][errors]") {
  Engine eng;
  const std::string utf8 = "TOLK_ERR_INVALID_UTF8";
  for (const char* bad : {"\xff", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\x80"}) {
    CHECK(named(sync_status(eng.e, "dev", bad, "eng_Latn", "fra_Latn")) == utf8);
    CHECK(named(sync_status(eng.e, bad, "Hello", "eng_Latn", "fra_Latn")) == utf8);
    CHECK(named(sync_status(eng.e, "dev", "Hello", bad, "fra_Latn")) == utf8);
    CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", bad)) == utf8);
    tolk_request* q = nullptr;
    CHECK(named(tolk_translate_async(eng.e, "dev", bad, "eng_Latn", "fra_Latn", nullptr, nullptr, nullptr, &q)) == utf8);
    CHECK(q == nullptr);
    CHECK(named(tolk_engine_load_model(eng.e, bad, kDev, nullptr)) == utf8);
    CHECK(named(tolk_engine_unload_model(eng.e, bad)) == utf8);
    Options o;
    CHECK(named(tolk_options_set_int(o.p, bad, 1)) == utf8);
    CHECK(named(tolk_options_set_string(o.p, "device", bad)) == utf8);
  }
  CHECK(sync_text(eng.e, "caf\xc3\xa9 \xf0\x9f\x98\x80", nullptr).size() > 0);  // valid 2- and 4-byte

  CHECK(named(sync_status(eng.e, "nope", "Hello", "eng_Latn", "fra_Latn")) == "TOLK_ERR_UNKNOWN_MODEL");
  tolk_request* q = nullptr;
  CHECK(named(tolk_translate_async(eng.e, "nope", "Hello", "eng_Latn", "fra_Latn", nullptr, nullptr, nullptr, &q)) == "TOLK_ERR_UNKNOWN_MODEL");
  CHECK(q == nullptr);
  for (const char* lang : {"</s>", "xxx_Latn", "", "fra_latn"}) {
    CHECK(named(sync_status(eng.e, "dev", "Hello", lang, "fra_Latn")) == "TOLK_ERR_UNKNOWN_LANGUAGE");
    CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", lang)) == "TOLK_ERR_UNKNOWN_LANGUAGE");
  }
  const std::string huge((1 << 20) + 1, 'a');
  CHECK(named(sync_status(eng.e, "dev", huge.c_str(), "eng_Latn", "fra_Latn")) == "TOLK_ERR_INPUT_TOO_LONG");

  CHECK(named(tolk_engine_unload_model(eng.e, "dev")) == "TOLK_OK");
  CHECK(named(tolk_engine_unload_model(eng.e, "dev")) == "TOLK_ERR_UNKNOWN_MODEL");
  CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn")) == "TOLK_ERR_UNKNOWN_MODEL");
}

TEST_CASE("C ABI: options are typed, scoped and range-checked", "[capi][options]") {
  Engine eng;
  const std::string bad = "TOLK_ERR_INVALID_ARGUMENT";
  Options o;
  CHECK(named(tolk_options_set_int(o.p, "beam_sizes", 4)) == bad);           // unknown key
  CHECK(std::string(tolk_last_error_message()).find("beam_sizes") != std::string::npos);
  CHECK(named(tolk_options_set_int(o.p, "", 4)) == bad);
  CHECK(named(tolk_options_set_string(o.p, "beam_size", "4")) == bad);       // wrong types
  CHECK(named(tolk_options_set_float(o.p, "beam_size", 4.0)) == bad);
  CHECK(named(tolk_options_set_int(o.p, "length_penalty", 1)) == bad);
  CHECK(named(tolk_options_set_int(o.p, "priority", 1)) == bad);
  CHECK(named(tolk_options_set_int(o.p, "beam_size", 0)) == bad);            // obvious ranges
  CHECK(named(tolk_options_set_int(o.p, "beam_size", -3)) == bad);
  CHECK(named(tolk_options_set_float(o.p, "sampling_topp", 1.5)) == bad);
  CHECK(named(tolk_options_set_float(o.p, "sampling_topp", 0.0)) == bad);
  CHECK(named(tolk_options_set_float(o.p, "temperature", std::nan(""))) == bad);
  CHECK(named(tolk_options_set_int(o.p, "sampling", 2)) == bad);
  CHECK(named(tolk_options_set_int(o.p, "max_new_tokens", 0)) == bad);
  CHECK(named(tolk_options_set_int(o.p, "timeout_ms", -1)) == bad);
  CHECK(named(tolk_options_set_string(o.p, "priority", "urgent")) == bad);
  CHECK(named(tolk_options_set_string(o.p, "mode", "turbo")) == bad);
  CHECK(named(tolk_options_set_string(o.p, "log_level", "loud")) == bad);
  CHECK(named(tolk_options_set_int(o.p, "async_threads", 0)) == bad);
  CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", o.p)) == "TOLK_OK");  // none stuck

  // Limits the engine checks at the call.
  Options big;
  big.i("beam_size", 1000000000);
  CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", big.p)) == bad);
  Options nbest;
  nbest.i("beam_size", 4).i("num_hypotheses", 5);
  CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", nbest.p)) == bad);
  tolk_request* q = nullptr;
  CHECK(named(tolk_translate_async(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", nbest.p, nullptr, nullptr, &q)) == bad);
  CHECK(q == nullptr);
  tolk_batch_result* b = nullptr;
  const char* texts[] = {"Hello"};
  CHECK(named(tolk_translate_batch(eng.e, "dev", texts, 1, "eng_Latn", "fra_Latn", nbest.p, &b)) == bad);

  // Keys of another kind of call are refused, naming the key.
  Options model_key;
  model_key.s("mode", "exclusive");
  CHECK(named(sync_status(eng.e, "dev", "Hello", "eng_Latn", "fra_Latn", model_key.p)) == bad);
  CHECK(std::string(tolk_last_error_message()).find("'mode'") != std::string::npos);
  Options engine_key;
  engine_key.i("async_threads", 2);
  CHECK(named(tolk_engine_load_model(eng.e, "x", kDev, engine_key.p)) == bad);
  tolk_engine* e2 = nullptr;
  Options translation_key;
  translation_key.i("beam_size", 2);
  CHECK(named(tolk_engine_create(translation_key.p, &e2)) == bad);
  CHECK(e2 == nullptr);
  CHECK(named(tolk_engine_load_model(eng.e, "x", kDev, translation_key.p)) == bad);

  // max_queued_requests as a model key: requests on that model beyond it are refused at once.
  {
    Options m;
    m.i("max_queued_requests", 2);
    REQUIRE(tolk_engine_load_model(eng.e, "limited", kDev, m.p) == TOLK_OK);
    Options long_run;
    long_run.i("max_new_tokens", 200).i("beam_size", 4);
    std::vector<tolk_request*> kept;
    tolk_status refused = TOLK_OK;
    for (int i = 0; i < 10 && refused == TOLK_OK; ++i) {
      tolk_request* r = nullptr;
      refused = tolk_translate_async(eng.e, "limited", kLongText, "eng_Latn", "fra_Latn",
                                     long_run.p, nullptr, nullptr, &r);
      if (refused == TOLK_OK) kept.push_back(r);
      else CHECK(r == nullptr);
    }
    CHECK(named(refused) == "TOLK_ERR_QUEUE_FULL");
    CHECK(std::string(tolk_last_error_message()).find("max_queued_requests") != std::string::npos);
    for (auto* r : kept) {
      CHECK(tolk_request_cancel(r) == TOLK_OK);
      tolk_result* res = nullptr;
      const tolk_status s = tolk_request_wait(r, -1, &res);
      CHECK((s == TOLK_OK || s == TOLK_ERR_CANCELLED));
      tolk_result_free(res);
      tolk_request_free(r);
    }
    REQUIRE(tolk_engine_unload_model(eng.e, "limited") == TOLK_OK);
  }
  // Every mode loads and translates, with the continuous-batching and sentence keys.
  for (const char* mode : {"exclusive", "pool", "continuous"}) {
    Options m;
    m.s("mode", mode).i("workers", 2).i("max_batch_sequences", 8).i("max_batch_tokens", 4096);
    m.i("encode_chunk_tokens", 64).i("batch_window_ms", 1).i("aging_ms", 100);
    m.i("max_queued_sentences", 100).i("max_sentences_per_request", 10);
    m.s("sentence_splitting", "punctuation").s("long_sentences", "split");
    REQUIRE(tolk_options_set_float(m.p, "bulk_min_share", 0.25) == TOLK_OK);
    REQUIRE(tolk_engine_load_model(eng.e, mode, kDev, m.p) == TOLK_OK);
    CHECK(sync_text(eng.e, "Hello world.", nullptr, nullptr, mode) == "Aduné.");
  }
  {
    Options m;
    CHECK(named(tolk_options_set_string(m.p, "sentence_splitting", "sometimes")) == bad);
    CHECK(named(tolk_options_set_float(m.p, "bulk_min_share", 1.5)) == bad);
    CHECK(named(tolk_options_set_int(m.p, "batch_window_ms", 60001)) == bad);
  }
  Options device;
  device.s("device", "cuda");
  CHECK(named(tolk_engine_load_model(eng.e, "x", kDev, device.p)) == bad);

  // Keys that apply work.
  Options model_ok;
  model_ok.s("mode", "exclusive").i("max_input_tokens", 64).i("legacy_behaviour", 0).s("compute_type", "float32")
      .i("threads_per_worker", 0);
  CHECK(named(tolk_engine_load_model(eng.e, "x", kDev, model_ok.p)) == "TOLK_OK");
  Options engine_ok;
  engine_ok.i("async_threads", 2).i("max_queued_requests", 10).s("log_level", "error").i("intra_threads", 0);
  REQUIRE(named(tolk_engine_create(engine_ok.p, &e2)) == "TOLK_OK");
  tolk_engine_free(e2);
  Options translate_ok;
  translate_ok.s("priority", "interactive").i("timeout_ms", 60000).f("length_penalty", 1.0)
      .f("repetition_penalty", 1.0).i("no_repeat_ngram_size", 0).i("min_new_tokens", 0)
      .i("cleanup_tokenization_spaces", 1).i("max_new_tokens", 20);
  CHECK(sync_text(eng.e, "Hello world.", translate_ok.p) == "Aduné.");
}

TEST_CASE("C ABI: loading refuses duplicate names and bad model directories", "[capi][load]") {
  Engine eng;
  CHECK(named(tolk_engine_load_model(eng.e, "dev", kDev, nullptr)) == "TOLK_ERR_ALREADY_EXISTS");
  CHECK(named(tolk_engine_load_model(eng.e, "m", "/nonexistent/tolk/model", nullptr)) == "TOLK_ERR_FILE_NOT_FOUND");
  const fs::path dir = fs::temp_directory_path() / ("tolk_capi_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& f : fs::directory_iterator(kDev)) fs::copy_file(f.path(), dir / f.path().filename());
  std::ofstream(dir / "config.json", std::ios::trunc) << "{\"model_type\": \"m2m_100\", \"d_model\": ";
  CHECK(named(tolk_engine_load_model(eng.e, "m", dir.c_str(), nullptr)) == "TOLK_ERR_INVALID_MODEL");
  fs::remove(dir / "config.json");
  CHECK(named(tolk_engine_load_model(eng.e, "m", dir.c_str(), nullptr)) == "TOLK_ERR_FILE_NOT_FOUND");
  fs::remove_all(dir);
  CHECK(named(tolk_engine_unload_model(eng.e, "m")) == "TOLK_ERR_UNKNOWN_MODEL");  // nothing half-loaded
}

TEST_CASE("C ABI: one engine, many threads", "[capi][threads]") {
  Engine eng;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        tolk_result* r = nullptr;
        if (tolk_translate_sync(eng.e, "dev", "Hello world.", "eng_Latn", "fra_Latn", nullptr, &r) == TOLK_OK &&
            std::string(tolk_result_text(r)) == "Aduné.")
          ok++;
        tolk_result_free(r);
        // Errors are per thread: this thread's message is its own.
        tolk_translate_sync(eng.e, "none", "x", "eng_Latn", "fra_Latn", nullptr, &r);
        if (std::string(tolk_last_error_message()).find("none") == std::string::npos) ok -= 100;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 12);
}

namespace {
struct LogLines {
  std::mutex mutex;
  std::vector<std::pair<tolk_log_level, std::string>> lines;
};
void collect_log(void* user_data, tolk_log_level level, const char* message) {
  auto* log = static_cast<LogLines*>(user_data);
  std::lock_guard<std::mutex> guard(log->mutex);
  log->lines.emplace_back(level, message);
}
}  // namespace

TEST_CASE("C ABI: stats as JSON, the log callback", "[capi][stats][log]") {
  LogLines log;
  REQUIRE(tolk_set_log_callback(collect_log, &log) == TOLK_OK);
  {
    Options debug;
    debug.s("log_level", "debug");
    Options exclusive;
    exclusive.s("mode", "exclusive");
    tolk_engine* e = nullptr;
    REQUIRE(tolk_engine_create(debug.p, &e) == TOLK_OK);
    REQUIRE(tolk_engine_load_model(e, "ex", kDev, exclusive.p) == TOLK_OK);
    CHECK(sync_text(e, "Hello world.", nullptr, nullptr, "ex") == "Aduné.");

    char* stats = tolk_engine_stats_json(e);
    REQUIRE(stats != nullptr);
    const std::string json = stats;
    tolk_string_free(stats);
    CHECK(json.front() == '{');
    CHECK(json.find("\"ex\"") != std::string::npos);
    CHECK(json.find("\"exclusive\"") != std::string::npos);
    tolk_engine_free(e);
  }
  REQUIRE(tolk_set_log_callback(nullptr, nullptr) == TOLK_OK);
  size_t seen = 0;
  {
    std::lock_guard<std::mutex> guard(log.mutex);
    seen = log.lines.size();
    REQUIRE(seen > 0);  // exclusive mode logs the lock at debug level
    bool debug_line = false;
    for (const auto& [level, text] : log.lines) {
      CHECK(!text.empty());
      CHECK(text.back() != '\n');
      debug_line = debug_line || level == TOLK_LOG_DEBUG;
    }
    CHECK(debug_line);
  }
  // Back on stderr: the callback is not called any more.
  {
    Options debug;
    debug.s("log_level", "debug");
    Engine eng(debug.p);
    CHECK(sync_text(eng.e, "Hello world.", nullptr) == "Aduné.");
  }
  {
    std::lock_guard<std::mutex> guard(log.mutex);
    CHECK(log.lines.size() == seen);
  }
  // Restore the default level for the rest of this process.
  Options warn;
  warn.s("log_level", "warn");
  tolk_engine* quiet = nullptr;
  REQUIRE(tolk_engine_create(warn.p, &quiet) == TOLK_OK);
  tolk_engine_free(quiet);

  CHECK(tolk_engine_stats_json(nullptr) == nullptr);
  CHECK(std::string(tolk_last_error_message()).find("engine") != std::string::npos);
  tolk_string_free(nullptr);
}
