// ModelLoader: shared weights for one directory under two names, memory report, unload that
// waits for or cancels in-flight requests.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "../support/reference_data.h"
#include "tolk/engine.h"

using namespace tolk;

TEST_CASE("model loader: one directory under two names shares one copy of the weights", "[engine][loader]") {
  TranslatorEngine engine;
  ModelOptions pool;
  pool.mode = ExecutionMode::kPool;
  engine.models().load("a", test::dev_dir());
  const int64_t one = engine.models().total_weight_bytes();
  CHECK(one > 0);
  engine.models().load("b", test::dev_dir() + "/.", pool);  // another spelling of the same path
  CHECK(engine.models().total_weight_bytes() == one);
  auto report = engine.models().memory_report();
  REQUIRE(report.size() == 2);
  for (const auto& m : report) {
    CHECK(m.weight_bytes == one);
    REQUIRE(m.shared_with.size() == 1);
    CHECK(m.shared_with[0] == (m.name == "a" ? "b" : "a"));
  }
  CHECK(report[1].mode == ExecutionMode::kPool);
  // Both names translate, with the same answer.
  const auto& c = test::reference()["cases"]["short"];
  TranslationOptions o;
  o.max_new_tokens = 20;
  CHECK(engine.translate_sync("a", c["src_text"], "eng_Latn", "fra_Latn", o).ids ==
        engine.translate_sync("b", c["src_text"], "eng_Latn", "fra_Latn", o).ids);
  engine.models().unload("a");
  CHECK(engine.models().list() == std::vector<std::string>{"b"});
  CHECK(engine.models().memory_report()[0].shared_with.empty());
  // A different directory is a different copy.
  engine.models().load("bin", test::dev_bin_dir());
  CHECK(engine.models().total_weight_bytes() == 2 * one);
  CHECK_THROWS_AS(engine.models().unload("a"), Error);
}

TEST_CASE("model loader: unload waits for running requests, or cancels them", "[engine][loader]") {
  for (auto policy : {UnloadPolicy::kWait, UnloadPolicy::kCancel}) {
    INFO("policy " << static_cast<int>(policy));
    TranslatorEngine engine;
    engine.models().load("m", test::dev_dir());
    TranslationOptions slow;
    slow.beam_size = 4;
    slow.max_new_tokens = 200;
    slow.min_new_tokens = 200;
    const auto& c = test::reference()["cases"]["long"];
    std::vector<std::shared_ptr<TranslationRequest>> running;
    for (int i = 0; i < 3; ++i)
      running.push_back(engine.translate_async("m", c["src_text"], "eng_Latn", "fra_Latn", slow));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    engine.unload_model("m", policy);
    // unload returned: every request has ended, none is lost.
    for (auto& r : running) {
      CHECK(r->done());
      CHECK(r->status() == (policy == UnloadPolicy::kWait ? StatusCode::kOk : StatusCode::kCancelled));
    }
    CHECK_THROWS_AS(engine.translate_sync("m", "hi", "eng_Latn", "fra_Latn"), Error);
  }
}
