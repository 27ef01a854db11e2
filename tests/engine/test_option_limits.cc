// Limits and misuse of the C++ API, each checked for its exact StatusCode (not just "throws"):
// taking a result twice, max_sentences_per_request, translate_async on an unknown model,
// mismatched batch language lists, invalid EngineOptions / ModelOptions / timeout_ms, and
// status_code_name of a value outside the enum. Plus the C ABI's TOLK_ERR_INPUT_TOO_LONG from
// the token limits (max_input_tokens, the model's positions, max_sentences_per_request).
// After each error the engine still translates.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "../support/reference_data.h"
#include "tolk.h"
#include "tolk/engine.h"

using namespace tolk;
using Catch::Matchers::Contains;

namespace {

TranslationOptions greedy20() {
  TranslationOptions o;
  o.max_new_tokens = 20;
  return o;
}

// What a call threw: kOk and an empty message when it did not throw.
struct Failure {
  StatusCode code = StatusCode::kOk;
  std::string message;
};

Failure failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {};
}

// "Hello world." on `model` translates (the engine is still serving).
void check_serving(TranslatorEngine& engine, const std::string& model = "dev") {
  const auto& c = test::reference()["cases"]["short"];
  const auto r = engine.translate_sync(model, c["src_text"].get<std::string>(), "eng_Latn", "fra_Latn",
                                       greedy20());
  CHECK(r.ok());
  CHECK(r.text == c["greedy"]["text"].get<std::string>());
}

// Three sentences: the line breaks always end a sentence (text/sentence_splitter.h).
const char* const kThreeSentences = "Hello world.\nThe file does not exist.\nOpen the file.";
const char* const kTwoSentences = "Hello world.\nThe file does not exist.";

struct COptions {
  tolk_options* p = tolk_options_create();
  COptions() = default;
  COptions(const COptions&) = delete;
  COptions& operator=(const COptions&) = delete;
  ~COptions() { tolk_options_free(p); }
  COptions& i(const char* key, int64_t value) {
    REQUIRE(std::string(tolk_status_name(tolk_options_set_int(p, key, value))) == "TOLK_OK");
    return *this;
  }
};

}  // namespace

TEST_CASE("take_result a second time, or after a callback, is kInvalidArgument", "[engine][async][errors]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());

  auto r = engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy20());
  REQUIRE(r->wait(-1));
  CHECK(r->take_result().ok());
  const Failure twice = failure_of([&] { r->take_result(); });
  CHECK(twice.code == StatusCode::kInvalidArgument);
  CHECK_THAT(twice.message, Contains("already taken"));
  CHECK(r->status() == StatusCode::kOk);  // the request itself ended fine

  std::atomic<int> calls{0};
  auto c = engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy20(),
                                  [&](TranslationResult&&) { ++calls; });
  REQUIRE(c->wait(-1));
  const Failure handed = failure_of([&] { c->take_result(); });
  CHECK(handed.code == StatusCode::kInvalidArgument);
  CHECK_THAT(handed.message, Contains("callback"));
  CHECK(calls == 1);

  // A request that ended with an error status is taken once, too.
  auto bad = engine.translate_async("dev", "Hello", "eng_Latn", "nope_Latn", greedy20());
  const TranslationResult res = bad->take_result();  // waits
  CHECK(res.status == StatusCode::kUnknownLanguage);
  CHECK(failure_of([&] { bad->take_result(); }).code == StatusCode::kInvalidArgument);

  check_serving(engine);
}

TEST_CASE("translate_async on an unknown model throws kUnknownModel", "[engine][async][errors]") {
  TranslatorEngine engine;
  Failure f = failure_of([&] { engine.translate_async("nope", "Hello", "eng_Latn", "fra_Latn"); });
  CHECK(f.code == StatusCode::kUnknownModel);
  CHECK_THAT(f.message, Contains("'nope'"));

  engine.load_model("dev", test::dev_dir());
  std::atomic<int> calls{0};
  f = failure_of([&] {
    engine.translate_async("nope", "Hello", "eng_Latn", "fra_Latn", greedy20(),
                           [&](TranslationResult&&) { ++calls; });
  });
  CHECK(f.code == StatusCode::kUnknownModel);
  CHECK(calls == 0);  // a call that threw queued nothing: its callback never runs

  engine.unload_model("dev");  // unloaded: the name is unknown again
  f = failure_of([&] { engine.translate_async("dev", "Hello", "eng_Latn", "fra_Latn", greedy20()); });
  CHECK(f.code == StatusCode::kUnknownModel);

  engine.load_model("dev", test::dev_dir());
  auto r = engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy20());
  CHECK(r->take_result().ok());
}

TEST_CASE("more sentences than max_sentences_per_request is kInputTooLong", "[engine][sentences][errors]") {
  TranslatorEngine engine;
  ModelOptions few;
  few.max_sentences_per_request = 2;
  engine.load_model("few", test::dev_dir(), few);

  const Failure f =
      failure_of([&] { engine.translate_sync("few", kThreeSentences, "eng_Latn", "fra_Latn", greedy20()); });
  CHECK(f.code == StatusCode::kInputTooLong);
  CHECK_THAT(f.message, Contains("input has 3 sentences; max_sentences_per_request is 2"));

  // Exactly at the limit is fine.
  const auto two = engine.translate_sync("few", kTwoSentences, "eng_Latn", "fra_Latn", greedy20());
  CHECK(two.ok());
  CHECK(two.sentences == 2);

  // In a batch only that item fails; async ends the request with the status.
  const auto batch = engine.translate_batch("few", {kThreeSentences, "Hello world."}, "eng_Latn", "fra_Latn",
                                            greedy20());
  REQUIRE(batch.size() == 2);
  CHECK(batch[0].status == StatusCode::kInputTooLong);
  CHECK_THAT(batch[0].error, Contains("max_sentences_per_request"));
  CHECK(batch[1].ok());
  auto r = engine.translate_async("few", kThreeSentences, "eng_Latn", "fra_Latn", greedy20());
  REQUIRE(r->wait(-1));
  CHECK(r->status() == StatusCode::kInputTooLong);
  CHECK(r->take_result().status == StatusCode::kInputTooLong);

  check_serving(engine, "few");
}

TEST_CASE("translate_batch with src_langs or tgt_langs of another length is kInvalidArgument", "[engine][batch][errors]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  using V = std::vector<std::string>;
  auto batch = [&](const V& texts, const V& srcs, const V& tgts) {
    return failure_of([&] { engine.translate_batch("dev", texts, srcs, tgts, greedy20()); });
  };
  const V texts = {"Hello world.", "The file does not exist."};
  const std::vector<std::pair<V, V>> mismatched = {
      {V{"eng_Latn"}, V{"fra_Latn", "fra_Latn"}},                                 // too few sources
      {V{"eng_Latn", "eng_Latn"}, V{"fra_Latn"}},                                 // too few targets
      {V{"eng_Latn", "eng_Latn", "eng_Latn"}, V{"fra_Latn", "fra_Latn", "fra_Latn"}},  // too many
      {V{}, V{}},
  };
  for (size_t i = 0; i < mismatched.size(); ++i) {
    INFO("case " << i);
    const Failure f = batch(texts, mismatched[i].first, mismatched[i].second);
    CHECK(f.code == StatusCode::kInvalidArgument);
    CHECK_THAT(f.message, Contains("one source and one target language per text"));
  }
  CHECK(batch(V{}, V{"eng_Latn"}, V{"fra_Latn"}).code == StatusCode::kInvalidArgument);  // 0 texts, 1 language

  const auto ok = engine.translate_batch("dev", texts, V{"eng_Latn", "eng_Latn"}, V{"fra_Latn", "fra_Latn"},
                                         greedy20());
  REQUIRE(ok.size() == 2);
  CHECK(ok[0].ok());
  CHECK(ok[1].ok());
  check_serving(engine);
}

TEST_CASE("invalid EngineOptions are refused by the TranslatorEngine constructor", "[engine][options][errors]") {
  struct Case {
    const char* what;
    std::function<void(EngineOptions&)> set;
    const char* needle;
  };
  const std::vector<Case> cases = {
      {"async_threads 0", [](EngineOptions& o) { o.async_threads = 0; }, "async_threads must be in [1, 1024]"},
      {"async_threads -1", [](EngineOptions& o) { o.async_threads = -1; }, "async_threads must be in [1, 1024]"},
      {"async_threads 1025", [](EngineOptions& o) { o.async_threads = 1025; }, "async_threads must be in [1, 1024]"},
      {"max_queued_requests 0", [](EngineOptions& o) { o.max_queued_requests = 0; }, "max_queued_requests must be >= 1"},
      {"max_queued_requests -5", [](EngineOptions& o) { o.max_queued_requests = -5; }, "max_queued_requests must be >= 1"},
      {"intra_threads -1", [](EngineOptions& o) { o.intra_threads = -1; }, "intra_threads must be >= 0"},
      {"log_level loud", [](EngineOptions& o) { o.log_level = "loud"; }, "log_level 'loud'"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    EngineOptions o;
    c.set(o);
    const Failure f = failure_of([&] { TranslatorEngine engine(o); });
    CHECK(f.code == StatusCode::kInvalidArgument);
    CHECK_THAT(f.message, Contains(c.needle));
  }

  // The smallest valid values make a working engine.
  EngineOptions small;
  small.async_threads = 1;
  small.max_queued_requests = 1;
  TranslatorEngine engine(small);
  engine.load_model("dev", test::dev_dir());
  check_serving(engine);
  auto r = engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy20());
  CHECK(r->take_result().ok());
}

TEST_CASE("a negative timeout_ms is kInvalidArgument for sync, batch and async", "[engine][options][errors]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  TranslationOptions o = greedy20();
  o.timeout_ms = -1;
  Failure f = failure_of([&] { engine.translate_sync("dev", "Hello world.", "eng_Latn", "fra_Latn", o); });
  CHECK(f.code == StatusCode::kInvalidArgument);
  CHECK_THAT(f.message, Contains("timeout_ms"));
  f = failure_of([&] { engine.translate_batch("dev", {"Hello world."}, "eng_Latn", "fra_Latn", o); });
  CHECK(f.code == StatusCode::kInvalidArgument);
  std::atomic<int> calls{0};
  f = failure_of([&] {
    engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn", o, [&](TranslationResult&&) { ++calls; });
  });
  CHECK(f.code == StatusCode::kInvalidArgument);
  CHECK(calls == 0);
  check_serving(engine);
}

TEST_CASE("invalid ModelOptions are refused at load_model and nothing is loaded", "[engine][options][errors]") {
  TranslatorEngine engine;
  // Loaded first, so the refused names below share its weights and load fast.
  engine.load_model("dev", test::dev_dir());
  struct Case {
    const char* what;
    std::function<void(ModelOptions&)> set;
    const char* needle;
  };
  auto pool = [](ModelOptions& o) { o.mode = ExecutionMode::kPool; };
  const std::vector<Case> cases = {
      // pool mode (workers and threads_per_worker are read in pool mode only)
      {"pool workers 0", [&](ModelOptions& o) { pool(o); o.workers = 0; }, "workers must be in [1, 256]"},
      {"pool workers 257", [&](ModelOptions& o) { pool(o); o.workers = 257; }, "workers must be in [1, 256]"},
      {"pool threads_per_worker -1", [&](ModelOptions& o) { pool(o); o.threads_per_worker = -1; },
       "threads_per_worker must be >= 0"},
      // every mode
      {"max_input_bytes 0", [](ModelOptions& o) { o.max_input_bytes = 0; }, "max_input_bytes"},
      {"max_input_bytes -1", [](ModelOptions& o) { o.max_input_bytes = -1; }, "max_input_bytes"},
      {"max_input_tokens -1", [](ModelOptions& o) { o.max_input_tokens = -1; }, "max_input_tokens"},
      {"max_queued_requests -1", [](ModelOptions& o) { o.max_queued_requests = -1; },
       "max_queued_requests must be >= 0"},
      {"max_sentences_per_request 0", [](ModelOptions& o) { o.max_sentences_per_request = 0; },
       "max_sentences_per_request must be >= 1"},
      {"compute_type float16", [](ModelOptions& o) { o.compute_type = "float16"; }, "compute_type 'float16'"},
      {"device cuda", [](ModelOptions& o) { o.device = "cuda"; }, "device 'cuda'"},
      // continuous mode (the default)
      {"max_batch_sequences 0", [](ModelOptions& o) { o.max_batch_sequences = 0; }, "max_batch_sequences must be >= 1"},
      {"max_batch_tokens 0", [](ModelOptions& o) { o.max_batch_tokens = 0; }, "max_batch_tokens must be >= 1"},
      {"encode_chunk_tokens -1", [](ModelOptions& o) { o.encode_chunk_tokens = -1; }, "encode_chunk_tokens must be >= 1"},
      {"max_queued_sentences 0", [](ModelOptions& o) { o.max_queued_sentences = 0; }, "max_queued_sentences must be >= 1"},
      {"batch_window_ms -1", [](ModelOptions& o) { o.batch_window_ms = -1; }, "batch_window_ms must be in [0, 60000]"},
      {"batch_window_ms 60001", [](ModelOptions& o) { o.batch_window_ms = 60001; }, "batch_window_ms must be in [0, 60000]"},
      {"aging_ms -1", [](ModelOptions& o) { o.aging_ms = -1; }, "aging_ms must be >= 0"},
      {"bulk_grace_ms -1", [](ModelOptions& o) { o.bulk_grace_ms = -1; }, "bulk_grace_ms must be >= 0"},
      {"bulk_min_share -0.1", [](ModelOptions& o) { o.bulk_min_share = -0.1; }, "bulk_min_share must be in [0, 1]"},
      {"bulk_min_share 1.5", [](ModelOptions& o) { o.bulk_min_share = 1.5; }, "bulk_min_share must be in [0, 1]"},
      {"bulk_min_share NaN", [](ModelOptions& o) { o.bulk_min_share = std::numeric_limits<double>::quiet_NaN(); },
       "bulk_min_share must be in [0, 1]"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    ModelOptions o;
    c.set(o);
    const Failure f = failure_of([&] { engine.load_model("bad", test::dev_dir(), o); });
    CHECK(f.code == StatusCode::kInvalidArgument);
    CHECK_THAT(f.message, Contains(c.needle));
    CHECK(engine.list_models() == std::vector<std::string>{"dev"});  // nothing half-loaded
  }

  // The edges of the valid ranges load.
  const std::vector<Case> edges = {
      {"pool workers 1, threads_per_worker 0", [&](ModelOptions& o) { pool(o); o.workers = 1; o.threads_per_worker = 0; }, ""},
      {"max_input_tokens 0 (the model's positions)", [](ModelOptions& o) { o.max_input_tokens = 0; }, ""},
      {"max_queued_requests 0 (no limit)", [](ModelOptions& o) { o.max_queued_requests = 0; }, ""},
      {"bulk_min_share 0", [](ModelOptions& o) { o.bulk_min_share = 0.0; }, ""},
      {"bulk_min_share 1", [](ModelOptions& o) { o.bulk_min_share = 1.0; }, ""},
  };
  for (const auto& c : edges) {
    INFO(c.what);
    ModelOptions o;
    c.set(o);
    CHECK(failure_of([&] { engine.load_model("edge", test::dev_dir(), o); }).code == StatusCode::kOk);
    check_serving(engine, "edge");
    engine.unload_model("edge");
  }
  check_serving(engine);
}

TEST_CASE("status_code_name names the codes and UNKNOWN_STATUS for anything else", "[status]") {
  CHECK(std::string(status_code_name(StatusCode::kOk)) == "OK");
  CHECK(std::string(status_code_name(StatusCode::kInvalidModel)) == "INVALID_MODEL");
  CHECK(std::string(status_code_name(StatusCode::kInternal)) == "INTERNAL");
  // Codes 1–14 are the C ABI's statuses without the TOLK_ERR_ prefix.
  for (int v = 1; v <= 14; ++v) {
    INFO(v);
    const std::string name = status_code_name(static_cast<StatusCode>(v));
    CHECK(name != "UNKNOWN_STATUS");
    CHECK("TOLK_ERR_" + name == std::string(tolk_status_name(static_cast<tolk_status>(v))));
  }
  for (const int v : {-1, 15, 16, 17, 18, 9999, std::numeric_limits<int>::max(), std::numeric_limits<int>::min()}) {
    INFO(v);
    CHECK(std::string(status_code_name(static_cast<StatusCode>(v))) == "UNKNOWN_STATUS");
  }
}

TEST_CASE("C ABI: TOLK_ERR_INPUT_TOO_LONG from max_input_tokens, max_position_embeddings and max_sentences_per_request", "[capi][errors]") {
  tolk_engine* e = nullptr;
  REQUIRE(tolk_engine_create(nullptr, &e) == TOLK_OK);
  const std::string dev = test::dev_dir();
  COptions tokens;
  tokens.i("max_input_tokens", 12);
  REQUIRE(tolk_engine_load_model(e, "tokens", dev.c_str(), tokens.p) == TOLK_OK);
  COptions few;
  few.i("max_sentences_per_request", 2);
  REQUIRE(tolk_engine_load_model(e, "few", dev.c_str(), few.p) == TOLK_OK);
  REQUIRE(tolk_engine_load_model(e, "dev", dev.c_str(), nullptr) == TOLK_OK);
  COptions greedy;
  greedy.i("max_new_tokens", 20);

  auto sync = [&](const char* model, const std::string& text) -> std::string {
    tolk_result* r = nullptr;
    const tolk_status s = tolk_translate_sync(e, model, text.c_str(), "eng_Latn", "fra_Latn", greedy.p, &r);
    if (s == TOLK_OK) {
      CHECK(r != nullptr);
      tolk_result_free(r);
    } else {
      CHECK(r == nullptr);
      CHECK(std::strlen(tolk_last_error_message()) > 0);
    }
    return tolk_status_name(s);
  };
  const std::string long_text = test::reference()["cases"]["long"]["src_text"];  // 83 tokens, one sentence
  CHECK(sync("tokens", long_text) == "TOLK_ERR_INPUT_TOO_LONG");
  CHECK_THAT(std::string(tolk_last_error_message()), Contains("the limit is 12"));
  CHECK(sync("tokens", "Hello world.") == "TOLK_OK");  // 12 tokens: exactly at the limit

  std::string words;
  for (int i = 0; i < 300; ++i) words += "word ";
  CHECK(sync("dev", words) == "TOLK_ERR_INPUT_TOO_LONG");  // over the model's 256 positions
  CHECK_THAT(std::string(tolk_last_error_message()), Contains("the limit is 256"));

  CHECK(sync("few", kThreeSentences) == "TOLK_ERR_INPUT_TOO_LONG");
  CHECK_THAT(std::string(tolk_last_error_message()), Contains("max_sentences_per_request is 2"));
  CHECK(sync("few", kTwoSentences) == "TOLK_OK");

  // Async: the call succeeds and the request ends with the status; the wait hands out the result.
  tolk_request* q = nullptr;
  REQUIRE(tolk_translate_async(e, "tokens", long_text.c_str(), "eng_Latn", "fra_Latn", greedy.p, nullptr,
                               nullptr, &q) == TOLK_OK);
  tolk_result* res = nullptr;
  CHECK(std::string(tolk_status_name(tolk_request_wait(q, -1, &res))) == "TOLK_ERR_INPUT_TOO_LONG");
  REQUIRE(res != nullptr);
  CHECK(tolk_result_status(res) == TOLK_ERR_INPUT_TOO_LONG);
  CHECK(std::strlen(tolk_result_error_message(res)) > 0);
  tolk_result_free(res);
  tolk_request_free(q);

  // Batch: only that item fails, and the call returns TOLK_OK.
  const char* texts[] = {"Hello world.", long_text.c_str()};
  tolk_batch_result* b = nullptr;
  REQUIRE(tolk_translate_batch(e, "tokens", texts, 2, "eng_Latn", "fra_Latn", greedy.p, &b) == TOLK_OK);
  REQUIRE(tolk_batch_result_size(b) == 2);
  CHECK(tolk_result_status(tolk_batch_result_get(b, 0)) == TOLK_OK);
  CHECK(tolk_result_status(tolk_batch_result_get(b, 1)) == TOLK_ERR_INPUT_TOO_LONG);
  tolk_batch_result_free(b);

  CHECK(sync("dev", "Hello world.") == "TOLK_OK");
  tolk_engine_free(e);
}
