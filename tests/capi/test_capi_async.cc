// test_capi_async.cc — the C ABI's translate_async: wait and take once, callbacks firing exactly
// once, cancel and timeout_ms, tolk_engine_free with requests in flight, and tolk_engine_free
// refused from a callback.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "capi_test_support.h"
#include "tolk.h"

using namespace capi_test;

namespace {

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

}  // namespace

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
