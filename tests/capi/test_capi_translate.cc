// test_capi_translate.cc — the C ABI's translate_sync and translate_batch on the dev checkpoint:
// HF's reference outputs through C (greedy, beam, n-best, sampling), result accessors in and out
// of range, and batches failing as a whole (NULL, non-UTF-8 item) or per item.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "capi_test_support.h"
#include "tolk.h"

using namespace capi_test;

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
