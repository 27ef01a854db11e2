// Continuous mode through the engine: whatever else shares the batch (other requests, other
// priorities, greedy and beam), every request gets exactly the ids of sequential translate_sync;
// cancels, timeouts, queue-full and unload end requests exactly once. No test asserts a timing.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <random>
#include <thread>

#include "../support/reference_data.h"
#include "tolk/engine.h"

using namespace tolk;

namespace {

ModelOptions mode(ExecutionMode m) {
  ModelOptions o;
  o.mode = m;
  o.workers = 2;
  o.threads_per_worker = 1;
  return o;
}

TranslationOptions opts(int beams, Priority p) {
  TranslationOptions o;
  o.max_new_tokens = 20;
  o.beam_size = beams;
  o.priority = p;
  return o;
}

const nlohmann::json& case_of(const std::string& name) { return test::reference()["cases"][name]; }

}  // namespace

TEST_CASE("every mode gives the sequential ids whatever shares the batch", "[scheduling][continuous]") {
  TranslatorEngine engine;
  engine.load_model("exclusive", test::dev_dir(), mode(ExecutionMode::kExclusive));
  engine.load_model("pool", test::dev_dir(), mode(ExecutionMode::kPool));
  engine.load_model("continuous", test::dev_dir(), mode(ExecutionMode::kContinuous));
  const auto names = test::case_names();
  // Sequential answers, one request at a time on an exclusive model.
  std::map<std::pair<size_t, int>, std::vector<int64_t>> want;
  for (size_t k = 0; k < names.size(); ++k)
    for (int beams : {1, 4}) {
      const auto& c = case_of(names[k]);
      want[{k, beams}] = engine.translate_sync("exclusive", c["src_text"], c["src_lang"], c["tgt_lang"],
                                               opts(beams, Priority::kNormal)).ids;
    }
  for (const std::string model : {"continuous", "pool"}) {
    std::atomic<int> mismatches{0}, requests{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        std::mt19937 rng(static_cast<unsigned>(t));
        for (size_t i = 0; i < names.size(); ++i) {
          const size_t k = (i + static_cast<size_t>(t)) % names.size();
          const int beams = (rng() % 2) ? 4 : 1;
          const auto prio = static_cast<Priority>(rng() % 3);
          const auto& c = case_of(names[k]);
          std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
          if (t % 2 == 0) {
            auto r = engine.translate_sync(model, c["src_text"], c["src_lang"], c["tgt_lang"], opts(beams, prio));
            if (r.ids != want[{k, beams}]) ++mismatches;
          } else {  // a batch of two cases in one request
            const size_t k2 = (k + 3) % names.size();
            const auto& c2 = case_of(names[k2]);
            using S = std::vector<std::string>;
            auto rs = engine.translate_batch(model, S{c["src_text"], c2["src_text"]},
                                             S{c["src_lang"], c2["src_lang"]},
                                             S{c["tgt_lang"], c2["tgt_lang"]}, opts(beams, prio));
            if (rs[0].ids != want[{k, beams}] || rs[1].ids != want[{k2, beams}]) ++mismatches;
          }
          ++requests;
        }
      });
    for (auto& th : threads) th.join();
    INFO("mode " << model);
    CHECK(requests == static_cast<int>(8 * names.size()));
    CHECK(mismatches == 0);
  }
}

TEST_CASE("continuous: an interactive request overtakes a running bulk one", "[scheduling][continuous]") {
  TranslatorEngine engine;
  engine.load_model("m", test::dev_dir());
  TranslationOptions bulk = opts(4, Priority::kBulk);
  bulk.max_new_tokens = 200;
  bulk.min_new_tokens = 200;  // forced long decode
  std::atomic<int> order{0};
  std::atomic<bool> bulk_ok{false};
  int bulk_done = -1, interactive_done = -1;
  const auto& c = case_of("long");
  // Catch's assertions are not thread-safe: the callback only records, the test thread checks.
  auto long_request = engine.translate_async("m", c["src_text"], "eng_Latn", "fra_Latn", bulk,
                                             [&](TranslationResult&& r) {
                                               bulk_ok = r.ok();
                                               bulk_done = order++;
                                             });
  // Once the bulk request is decoding, an interactive one arrives.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto r = engine.translate_sync("m", c["src_text"], "eng_Latn", "deu_Latn", opts(1, Priority::kInteractive));
  interactive_done = order++;
  CHECK(r.ok());
  long_request->wait(-1);
  CHECK(long_request->status() == StatusCode::kOk);
  CHECK(bulk_ok);
  CHECK(interactive_done < bulk_done);  // an ordering, not a timing
}

TEST_CASE("continuous: cancels, timeouts, queue-full and unload end requests exactly once", "[scheduling][continuous]") {
  EngineOptions eo;
  // One thread that prepares the requests one by one (none holds it while it decodes): the
  // cancels of 0, 4 and 8 come right after the last submission, microseconds later, while each
  // still has 200 forced tokens with beam 4 to decode (or has not reached the model yet).
  eo.async_threads = 1;
  TranslatorEngine engine(eo);
  ModelOptions small = mode(ExecutionMode::kContinuous);
  small.max_queued_sentences = 4;
  engine.load_model("m", test::dev_dir(), small);
  const auto& c = case_of("long");
  TranslationOptions slow = opts(4, Priority::kNormal);
  slow.max_new_tokens = 200;
  slow.min_new_tokens = 200;

  // More sentences than the queue takes in one request: refused at once, engine unharmed.
  auto full = engine.translate_batch("m", std::vector<std::string>(5, c["src_text"]), "eng_Latn", "fra_Latn", slow);
  for (auto& r : full) CHECK(r.status == StatusCode::kQueueFull);

  std::atomic<int> callbacks{0}, ok{0}, cancelled{0}, timed_out{0}, other{0};
  auto count = [&](TranslationResult&& r) {
    ++callbacks;
    if (r.status == StatusCode::kOk) ++ok;
    else if (r.status == StatusCode::kCancelled) ++cancelled;
    else if (r.status == StatusCode::kTimeout) ++timed_out;
    else ++other;
  };
  std::vector<std::shared_ptr<TranslationRequest>> requests;
  for (int i = 0; i < 12; ++i) {
    TranslationOptions o = slow;
    if (i % 4 == 1) o.timeout_ms = 5;
    if (i % 4 == 3) o = opts(1, Priority::kInteractive);
    requests.push_back(engine.translate_async("m", c["src_text"], "eng_Latn", "fra_Latn", o, count));
  }
  for (int i = 0; i < 12; i += 4) requests[static_cast<size_t>(i)]->cancel();
  for (auto& r : requests) r->wait(-1);
  CHECK(callbacks == 12);
  CHECK(ok + cancelled + timed_out + other == 12);
  CHECK(cancelled >= 1);
  CHECK(timed_out >= 1);
  // Queue-full is the only "other" outcome allowed here (4 sentences may wait at a time).
  CHECK(ok >= 1);

  // Unload under traffic: requests already running finish; later ones get kUnknownModel.
  std::atomic<int> answered{0}, unknown{0}, finished_ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        try {
          auto r = engine.translate_sync("m", c["src_text"], "eng_Latn", "fra_Latn", opts(1, Priority::kNormal));
          if (r.ok()) ++finished_ok;
        } catch (const Error& e) {
          if (e.code() == StatusCode::kUnknownModel) ++unknown;
        }
        ++answered;
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  engine.unload_model("m");
  for (auto& th : clients) th.join();
  CHECK(answered == 20);
  CHECK(finished_ok + unknown <= 20);
}

TEST_CASE("continuous: a sentence that can never fit max_batch_tokens is refused by name", "[scheduling][continuous][limits]") {
  TranslatorEngine engine;
  ModelOptions tight = mode(ExecutionMode::kContinuous);
  tight.max_batch_tokens = 64;
  engine.load_model("m", test::dev_dir(), tight);
  const auto& c = case_of("short");
  // Greedy: 1 row × (source + 20 decode) fits 64.
  const auto fits = engine.translate_sync("m", c["src_text"], "eng_Latn", "fra_Latn", opts(1, Priority::kNormal));
  CHECK(fits.ok());
  // Beam 4: 4 rows × (source + 20) does not; refused, and the model keeps working.
  try {
    engine.translate_sync("m", c["src_text"], "eng_Latn", "fra_Latn", opts(4, Priority::kNormal));
    FAIL("expected kInputTooLong");
  } catch (const Error& e) {
    CHECK(e.code() == StatusCode::kInputTooLong);
    CHECK(std::string(e.what()).find("max_batch_tokens") != std::string::npos);
  }
  const auto again = engine.translate_sync("m", c["src_text"], "eng_Latn", "fra_Latn", opts(1, Priority::kNormal));
  CHECK(again.ids == fits.ids);
}

TEST_CASE("continuous: the cache grows for queued work while requests run, and answers stay the same", "[scheduling][continuous]") {
  TranslatorEngine engine;
  engine.load_model("exclusive", test::dev_dir(), mode(ExecutionMode::kExclusive));
  engine.load_model("continuous", test::dev_dir(), mode(ExecutionMode::kContinuous));
  const auto& c = case_of("long");
  TranslationOptions beam = opts(4, Priority::kBulk);
  const auto want = engine.translate_sync("exclusive", c["src_text"], "eng_Latn", "fra_Latn", beam).ids;
  // 24 sentences × 4 beams: more rows than the empty cache holds, so the cache must grow (into
  // unzeroed storage: a step reads only keys it wrote) while an interactive request in the
  // middle takes rows of its own.
  std::vector<std::string> texts(24, c["src_text"]);
  auto bulk = std::async(std::launch::async, [&] {
    return engine.translate_batch("continuous", texts, "eng_Latn", "fra_Latn", beam);
  });
  const auto quick = engine.translate_sync("continuous", c["src_text"], "eng_Latn", "fra_Latn",
                                           opts(4, Priority::kInteractive));
  CHECK(quick.ids == want);
  for (const auto& r : bulk.get()) {
    CHECK(r.ok());
    CHECK(r.ids == want);
  }
  const auto stats = nlohmann::json::parse(engine.stats())["models"]["continuous"];
  INFO(stats.dump());
  CHECK(stats["cache_growths"].get<int64_t>() >= 1);
  CHECK(stats["cache_slots"].get<int64_t>() >= 24 * 4);
}
