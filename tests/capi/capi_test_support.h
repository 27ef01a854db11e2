// capi_test_support.h — helpers shared by the C ABI tests (tests/capi/test_capi_*.cc): the dev
// checkpoint's path, an owned options object and engine, status names that check for a message,
// and translate_sync returning the text.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>

#include "tolk.h"

// A named namespace (not an anonymous one) so each test file can include this without
// unused-function warnings; everything here is inline, so it is defined once across the files.
namespace capi_test {

inline const char* const kDev = TOLK_TEST_DATA_DIR "/dev";
inline double (*const kTimings[])(const tolk_result*) = {tolk_result_queue_ms, tolk_result_encode_ms,
                                                         tolk_result_decode_ms, tolk_result_total_ms};
inline const char* const kLongText =
    "Hello world. Open the file and save it before you close the window, then print the "
    "document. Hello world. Open the file and save it before you close the window.";

// The status' name; a non-OK status must leave a message behind. Names read well in Catch.
inline std::string named(tolk_status s) {
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

inline std::string sync_text(tolk_engine* e, const char* text, const tolk_options* o,
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

}  // namespace capi_test
