// Long inputs: sentence splitting and re-joining, long-sentence policies, streaming of finished
// sentences, and engine.stats().
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <mutex>
#include <set>

#include "../support/reference_data.h"
#include "tolk/engine.h"

using namespace tolk;

namespace {
TranslationOptions greedy(int64_t max_new = 20) {
  TranslationOptions o;
  o.max_new_tokens = max_new;
  return o;
}
}  // namespace

TEST_CASE("a text of several sentences is translated sentence by sentence and re-joined", "[engine][sentences]") {
  TranslatorEngine engine;
  engine.load_model("m", test::dev_dir());
  const std::string a = "Hello world.", b = "The file does not exist.";
  const auto ta = engine.translate_sync("m", a, "eng_Latn", "fra_Latn", greedy()).text;
  const auto tb = engine.translate_sync("m", b, "eng_Latn", "fra_Latn", greedy()).text;

  std::mutex mu;
  std::set<size_t> streamed;
  TranslationOptions o = greedy();
  o.on_sentence = [&](const SentenceUpdate& u) {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(u.sentence_count == 2);
    CHECK(u.translation == (u.sentence_index == 0 ? ta : tb));
    streamed.insert(u.sentence_index);
  };
  auto r = engine.translate_sync("m", "  " + a + "\n\n" + b + "  ", "eng_Latn", "fra_Latn", o);
  CHECK(r.sentences == 2);
  CHECK(r.text == "  " + ta + "\n\n" + tb + "  ");  // the original whitespace, kept
  CHECK(streamed == std::set<size_t>{0, 1});
  CHECK(r.generated_tokens > 0);
  CHECK(r.source_tokens > 0);

  // Splitting off: one sequence, as Hugging Face would decode it.
  ModelOptions off;
  off.sentence_splitting = SentenceSplitting::kOff;
  engine.load_model("whole", test::dev_dir(), off);
  auto whole = engine.translate_sync("whole", a + " " + b, "eng_Latn", "fra_Latn", greedy());
  CHECK(whole.sentences == 1);
}

TEST_CASE("a sentence over max_input_tokens is refused or cut, never truncated", "[engine][sentences]") {
  TranslatorEngine engine;
  const std::string text = test::reference()["cases"]["long"]["src_text"];
  ModelOptions reject;
  reject.max_input_tokens = 12;
  engine.load_model("reject", test::dev_dir(), reject);
  try {
    engine.translate_sync("reject", text, "eng_Latn", "fra_Latn", greedy());
    FAIL("expected kInputTooLong");
  } catch (const Error& e) {
    CHECK(e.code() == StatusCode::kInputTooLong);
  }
  ModelOptions cut = reject;
  cut.long_sentences = LongSentencePolicy::kSplit;
  engine.load_model("cut", test::dev_dir(), cut);
  auto r = engine.translate_sync("cut", text, "eng_Latn", "fra_Latn", greedy(8));
  CHECK(r.ok());
  CHECK(r.sentences >= 3);  // ~30 tokens in pieces of at most 12
  ModelOptions few = cut;
  few.max_sentences_per_request = 2;
  engine.load_model("few", test::dev_dir(), few);
  CHECK_THROWS_AS(engine.translate_sync("few", text, "eng_Latn", "fra_Latn", greedy()), Error);
}

TEST_CASE("engine.stats() reports every model as JSON", "[engine][stats]") {
  TranslatorEngine engine;
  engine.load_model("c", test::dev_dir());
  ModelOptions ex;
  ex.mode = ExecutionMode::kExclusive;
  engine.load_model("e", test::dev_dir(), ex);
  engine.translate_sync("c", "Hello world.", "eng_Latn", "fra_Latn", greedy());
  engine.translate_sync("e", "Hello world.", "eng_Latn", "fra_Latn", greedy());
  auto j = nlohmann::json::parse(engine.stats());
  CHECK(j["models"]["c"]["mode"] == "continuous");
  CHECK(j["models"]["e"]["mode"] == "exclusive");
  for (const char* m : {"c", "e"}) {
    CHECK(j["models"][m]["requests"].get<int64_t>() == 1);
    CHECK(j["models"][m]["generated_tokens"].get<int64_t>() > 0);
    CHECK(j["models"][m]["weight_bytes"].get<int64_t>() > 0);
  }
  CHECK(j["models"]["c"]["queued_sentences"]["bulk"].get<int64_t>() == 0);
  CHECK(!j["models"]["c"]["steps_by_rows"].empty());
  CHECK(j["models"]["c"]["shared_with"].size() == 1);
}
