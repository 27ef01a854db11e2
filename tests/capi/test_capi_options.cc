// test_capi_options.cc — bad input to the C ABI, each getting its named status and a message:
// every NULL argument, invalid UTF-8 in every string, unknown models and languages, too-long text,
// and options that are typed, scoped to their kind of call and range-checked.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "capi_test_support.h"
#include "tolk.h"

using namespace capi_test;

namespace {

tolk_status sync_status(tolk_engine* e, const char* model, const char* text, const char* src,
                        const char* tgt, const tolk_options* o = nullptr) {
  tolk_result* r = reinterpret_cast<tolk_result*>(&r);  // must come back NULL on failure
  const tolk_status s = tolk_translate_sync(e, model, text, src, tgt, o, &r);
  if (s != TOLK_OK) CHECK(r == nullptr);
  tolk_result_free(s == TOLK_OK ? r : nullptr);
  return s;
}

}  // namespace

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
