// translate_async (wait, callbacks, cancel, timeout, shutdown) and the pool mode: every request
// ends exactly once, with the ids of sequential translate_sync.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "../support/reference_data.h"
#include "tolk/engine.h"

using namespace tolk;

namespace {
TranslationOptions greedy20() {
  TranslationOptions o;
  o.max_new_tokens = 20;
  return o;
}
// Long enough that requests are still queued or running when the test acts on them.
TranslationOptions slow_beam4() {
  TranslationOptions o;
  o.max_new_tokens = 200;
  o.beam_size = 4;
  return o;
}
std::string text_of(const std::string& c) { return test::reference()["cases"][c]["src_text"]; }

// Submits slow requests to `model` until one is refused (at most 10); returns the refusal's
// code (kOk if none was refused) and keeps the accepted requests in `kept`.
StatusCode submit_until_refused(TranslatorEngine& engine, const std::string& model,
                                std::vector<std::shared_ptr<TranslationRequest>>& kept) {
  const TranslationOptions slow = slow_beam4();
  for (int i = 0; i < 10; ++i) {
    try {
      kept.push_back(engine.translate_async(model, text_of("long"), "eng_Latn", "fra_Latn", slow));
    } catch (const Error& e) {
      return e.code();
    }
  }
  return StatusCode::kOk;
}
}  // namespace

TEST_CASE("translate_async: wait, take once, callback once", "[engine][async]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  auto want = engine.translate_sync("dev", text_of("short"), "eng_Latn", "fra_Latn", greedy20()).ids;
  auto r = engine.translate_async("dev", text_of("short"), "eng_Latn", "fra_Latn", greedy20());
  REQUIRE(r->wait(-1));
  CHECK(r->done());
  auto result = r->take_result();
  CHECK(result.ok());
  CHECK(result.ids == want);
  CHECK_THROWS_AS(r->take_result(), Error);  // handed out once only

  std::atomic<int> calls{0};
  std::vector<int64_t> seen;
  auto c = engine.translate_async("dev", text_of("short"), "eng_Latn", "fra_Latn", greedy20(),
                                  [&](TranslationResult&& res) { seen = res.ids; ++calls; });
  REQUIRE(c->wait(-1));
  CHECK(calls == 1);
  CHECK(seen == want);
  CHECK(c->status() == StatusCode::kOk);
  CHECK_THROWS_AS(c->take_result(), Error);  // the callback owns it

  auto bad = engine.translate_async("dev", "hi", "eng_Latn", "nope_Latn", greedy20());
  bad->wait(-1);
  CHECK(bad->status() == StatusCode::kUnknownLanguage);
  CHECK_THROWS_AS(engine.translate_async("nope", "hi", "eng_Latn", "fra_Latn"), Error);
}

TEST_CASE("cancel, timeout and shutdown end every request exactly once", "[engine][async]") {
  std::atomic<int> callbacks{0}, ok{0}, cancelled{0}, shutdown{0}, other{0};
  std::vector<std::shared_ptr<TranslationRequest>> requests;
  {
    EngineOptions eo;
    eo.async_threads = 2;
    TranslatorEngine engine(eo);
    engine.load_model("dev", test::dev_dir());
    const TranslationOptions slow = slow_beam4();
    for (int i = 0; i < 40; ++i)
      requests.push_back(engine.translate_async(
          "dev", text_of("long"), "eng_Latn", "fra_Latn", slow, [&](TranslationResult&& r) {
            ++callbacks;
            if (r.status == StatusCode::kOk) ++ok;
            else if (r.status == StatusCode::kCancelled) ++cancelled;
            else if (r.status == StatusCode::kShutdown) ++shutdown;
            else ++other;
          }));
    for (int i = 0; i < 40; i += 2) requests[i]->cancel();
    TranslationOptions tiny = greedy20();
    tiny.timeout_ms = 1;
    auto timed = engine.translate_async("dev", text_of("long"), "eng_Latn", "fra_Latn", tiny);
    timed->wait(-1);
    CHECK(timed->status() == StatusCode::kTimeout);
  }  // the destructor answers what is left with kShutdown and joins
  CHECK(callbacks == 40);
  CHECK(other == 0);
  CHECK(cancelled >= 1);
  CHECK(ok + cancelled + shutdown == 40);
  for (auto& r : requests) CHECK(r->wait(0));  // handles outlive the engine
}

TEST_CASE("a full queue refuses at once with kQueueFull", "[engine][async]") {
  EngineOptions eo;
  eo.async_threads = 1;
  eo.max_queued_requests = 2;
  TranslatorEngine engine(eo);
  engine.load_model("dev", test::dev_dir());
  std::vector<std::shared_ptr<TranslationRequest>> kept;
  CHECK(submit_until_refused(engine, "dev", kept) == StatusCode::kQueueFull);
  for (auto& r : kept) r->cancel();
}

TEST_CASE("a model's max_queued_requests refuses its extra requests at once", "[engine][async]") {
  TranslatorEngine engine;
  ModelOptions limited;
  limited.max_queued_requests = 2;
  engine.load_model("limited", test::dev_dir(), limited);
  engine.load_model("free", test::dev_dir());
  std::vector<std::shared_ptr<TranslationRequest>> kept;
  CHECK(submit_until_refused(engine, "limited", kept) == StatusCode::kQueueFull);
  CHECK(kept.size() <= 2);
  // The limit is the model's: the other name over the same weights still takes requests.
  CHECK(engine.translate_sync("free", text_of("short"), "eng_Latn", "fra_Latn", greedy20()).ok());
  for (auto& r : kept) r->cancel();
  for (auto& r : kept) CHECK(r->wait(-1));
  // Once they have ended, the model takes requests again.
  CHECK(engine.translate_sync("limited", text_of("short"), "eng_Latn", "fra_Latn", greedy20()).ok());
}

TEST_CASE("pool mode: 4 workers over one copy give the sequential ids", "[engine][pool]") {
  TranslatorEngine engine;
  ModelOptions exclusive;
  exclusive.mode = ExecutionMode::kExclusive;
  engine.load_model("exclusive", test::dev_dir(), exclusive);
  ModelOptions pool;
  pool.mode = ExecutionMode::kPool;
  pool.workers = 4;
  pool.threads_per_worker = 1;
  engine.load_model("pool", test::dev_dir(), pool);
  const auto names = test::case_names();
  std::vector<std::vector<int64_t>> want;
  for (const auto& n : names) {
    const auto& c = test::reference()["cases"][n];
    want.push_back(engine.translate_sync("exclusive", c["src_text"], c["src_lang"], c["tgt_lang"], greedy20()).ids);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < names.size(); ++i) {
        const size_t k = (i + t) % names.size();
        const auto& c = test::reference()["cases"][names[k]];
        auto r = engine.translate_sync("pool", c["src_text"], c["src_lang"], c["tgt_lang"], greedy20());
        if (r.ids != want[k]) ++mismatches;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
  ModelOptions bad = pool;
  bad.workers = 0;
  CHECK_THROWS_AS(engine.load_model("bad", test::dev_dir(), bad), Error);
  engine.unload_model("pool");  // joins its workers
}

TEST_CASE("async requests hold no engine thread while they decode", "[engine][async][continuous][pool]") {
  // One async thread. If a request held it while decoding, the requests would run one after
  // the other and every continuous decoder step would have one row; handed over to the model,
  // they batch together.
  EngineOptions eo;
  eo.async_threads = 1;
  TranslatorEngine engine(eo);
  engine.load_model("cont", test::dev_dir());
  ModelOptions pool;
  pool.mode = ExecutionMode::kPool;
  pool.workers = 2;
  engine.load_model("pool", test::dev_dir(), pool);
  TranslationOptions forced;
  forced.max_new_tokens = 100;
  forced.min_new_tokens = 100;
  const auto want = engine.translate_sync("cont", text_of("short"), "eng_Latn", "fra_Latn", forced).ids;
  for (const std::string model : {"cont", "pool"}) {
    INFO(model);
    std::vector<std::shared_ptr<TranslationRequest>> requests;
    for (int i = 0; i < 6; ++i)
      requests.push_back(engine.translate_async(model, text_of("short"), "eng_Latn", "fra_Latn", forced));
    for (auto& r : requests) {
      auto result = r->take_result();
      CHECK(result.ok());
      CHECK(result.ids == want);
    }
  }
  const auto stats = nlohmann::json::parse(engine.stats());
  const auto& steps = stats["models"]["cont"]["steps_by_rows"];
  bool batched = false;
  for (const auto& [rows, count] : steps.items()) batched = batched || rows != "<=1";
  INFO(steps.dump());
  CHECK(batched);
}
