// TranslatorEngine end to end on the dev checkpoint: texts as HF decoded them, both weight
// formats, batch vs single, concurrency, and every bad input getting its named error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "../support/reference_data.h"
#include "tolk/engine.h"

using namespace tolk;
namespace fs = std::filesystem;

namespace {

TranslationOptions greedy20() {
  TranslationOptions o;
  o.max_new_tokens = 20;
  return o;
}

TranslationOptions beam20(int hyps = 1) {
  TranslationOptions o = greedy20();
  o.beam_size = 4;
  o.num_hypotheses = hyps;
  return o;
}

StatusCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(std::string(e.what()).size() > 0);
    return e.code();
  }
  return StatusCode::kOk;
}

// A scratch copy of the dev model that a test may damage.
struct ModelCopy {
  fs::path dir;
  explicit ModelCopy(const std::string& tag) {
    dir = fs::temp_directory_path() / ("tolk_test_" + tag + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(test::dev_dir()))
      if (e.path().filename() != "reference.json" && e.path().filename() != "reference_tensors.safetensors")
        fs::copy_file(e.path(), dir / e.path().filename());
  }
  ~ModelCopy() { fs::remove_all(dir); }
  void write(const std::string& file, const std::string& content) const {
    std::ofstream(dir / file, std::ios::binary | std::ios::trunc) << content;
  }
};

}  // namespace

TEST_CASE("engine texts, ids and scores match HF (safetensors and pytorch_model.bin)", "[engine][parity]") {
  TranslatorEngine engine;
  engine.load_model("st", test::dev_dir());
  engine.load_model("bin", test::dev_bin_dir());
  for (const std::string model : {"st", "bin"}) {
    for (const auto& name : test::case_names()) {
      INFO(model << " case " << name);
      const auto& c = test::reference()["cases"][name];
      const auto src = c["src_lang"].get<std::string>(), tgt = c["tgt_lang"].get<std::string>();
      const auto text = c["src_text"].get<std::string>();
      auto g = engine.translate_sync(model, text, src, tgt, greedy20());
      CHECK(g.ids == test::ids_of(c["greedy"]["sequence"]));
      CHECK(g.text == c["greedy"]["text"].get<std::string>());
      auto b = engine.translate_sync(model, text, src, tgt, beam20(4));
      CHECK(b.ids == test::ids_of(c["beam4"]["sequence"]));
      CHECK(b.text == c["beam4"]["text"].get<std::string>());
      CHECK(std::abs(b.score - c["beam4"]["sequence_score"].get<double>()) <= 1e-5);
      REQUIRE(b.hypotheses.size() == 4);
      for (size_t h = 0; h < 4; ++h)
        CHECK(std::abs(b.hypotheses[h].score - c["beam4_nbest"]["sequence_scores"][h].get<double>()) <= 1e-5);
      auto nc = greedy20();
      nc.cleanup_tokenization_spaces = false;
      CHECK(engine.translate_sync(model, text, src, tgt, nc).text ==
            c["greedy"]["text_no_cleanup"].get<std::string>());
    }
  }
}

TEST_CASE("translate_batch equals translate_sync item by item, with per-item errors", "[engine]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  std::vector<std::string> texts, srcs, tgts;
  for (const auto& name : test::case_names()) {
    const auto& c = test::reference()["cases"][name];
    texts.push_back(c["src_text"]);
    srcs.push_back(c["src_lang"]);
    tgts.push_back(c["tgt_lang"]);
  }
  texts.push_back("bad \xC0\xAF utf8");
  srcs.push_back("eng_Latn");
  tgts.push_back("fra_Latn");
  texts.push_back("Hello");
  srcs.push_back("eng_Latn");
  tgts.push_back("xx_Nope");
  for (const auto& options : {greedy20(), beam20()}) {
    auto batch = engine.translate_batch("dev", texts, srcs, tgts, options);
    REQUIRE(batch.size() == texts.size());
    for (size_t i = 0; i + 2 < texts.size(); ++i) {
      REQUIRE(batch[i].ok());
      CHECK(batch[i].ids == engine.translate_sync("dev", texts[i], srcs[i], tgts[i], options).ids);
    }
    CHECK(batch[texts.size() - 2].status == StatusCode::kInvalidUtf8);
    CHECK(batch[texts.size() - 1].status == StatusCode::kUnknownLanguage);
    CHECK_FALSE(batch[texts.size() - 1].error.empty());
  }
  CHECK(engine.translate_batch("dev", std::vector<std::string>{}, "eng_Latn", "fra_Latn").empty());
}

TEST_CASE("8 threads of translate_sync return the sequential ids", "[engine][concurrency]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  const auto names = test::case_names();
  std::vector<std::vector<int64_t>> expected;
  for (const auto& name : names) {
    const auto& c = test::reference()["cases"][name];
    expected.push_back(engine.translate_sync("dev", c["src_text"], c["src_lang"], c["tgt_lang"], greedy20()).ids);
  }
  std::atomic<int> mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round)
        for (size_t i = 0; i < names.size(); ++i) {
          const size_t k = (i + t) % names.size();
          const auto& c = test::reference()["cases"][names[k]];
          try {
            auto opts = (t % 2) ? beam20() : greedy20();
            auto r = engine.translate_sync("dev", c["src_text"], c["src_lang"], c["tgt_lang"], opts);
            const auto& want = (t % 2) ? test::ids_of(c["beam4"]["sequence"]) : expected[k];
            if (r.ids != want) ++mismatches;
          } catch (...) {
            ++failures;
          }
        }
    });
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
  CHECK(failures == 0);
}

TEST_CASE("bad inputs get named errors and leave the engine working", "[engine][errors]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  auto t = [&](const std::string& text, const std::string& src, const std::string& tgt,
               TranslationOptions o = greedy20(), const std::string& model = "dev") {
    return code_of([&] { engine.translate_sync(model, text, src, tgt, o); });
  };
  CHECK(t("Hello", "eng_Latn", "fra_Latn", greedy20(), "nope") == StatusCode::kUnknownModel);
  CHECK(t("Hello", "english", "fra_Latn") == StatusCode::kUnknownLanguage);
  CHECK(t("Hello", "eng_Latn", "</s>") == StatusCode::kUnknownLanguage);
  CHECK(t("Hello", "eng_Latn", "") == StatusCode::kUnknownLanguage);
  CHECK(t("\xFF", "eng_Latn", "fra_Latn") == StatusCode::kInvalidUtf8);
  CHECK(t("\xED\xA0\x80", "eng_Latn", "fra_Latn") == StatusCode::kInvalidUtf8);
  CHECK(t(std::string(30, 'a') + std::string(600, ' ') + std::string(30, 'b'), "eng_Latn", "fra_Latn") ==
        StatusCode::kOk);
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word ";
  CHECK(t(long_text, "eng_Latn", "fra_Latn") == StatusCode::kInputTooLong);  // > 256 positions
  TranslationOptions o = greedy20();
  o.beam_size = 0;
  CHECK(t("Hi", "eng_Latn", "fra_Latn", o) == StatusCode::kInvalidArgument);
  o = greedy20();
  o.beam_size = 2;
  o.num_hypotheses = 3;
  CHECK(t("Hi", "eng_Latn", "fra_Latn", o) == StatusCode::kInvalidArgument);
  o = greedy20();
  o.sampling = true;
  o.sampling_topp = 1.5;
  CHECK(t("Hi", "eng_Latn", "fra_Latn", o) == StatusCode::kInvalidArgument);
  o = greedy20();
  o.max_new_tokens = 0;
  CHECK(t("Hi", "eng_Latn", "fra_Latn", o) == StatusCode::kInvalidArgument);
  // still serving
  CHECK(t("Hello world.", "eng_Latn", "fra_Latn") == StatusCode::kOk);
  CHECK(code_of([&] { engine.load_model("dev", test::dev_dir()); }) == StatusCode::kAlreadyExists);
  CHECK(code_of([&] { engine.unload_model("nope"); }) == StatusCode::kUnknownModel);
  engine.unload_model("dev");
  CHECK(t("Hello", "eng_Latn", "fra_Latn") == StatusCode::kUnknownModel);
}

TEST_CASE("bad model directories are refused at load with named errors", "[engine][errors]") {
  TranslatorEngine engine;
  auto load = [&](const std::string& dir) { return code_of([&] { engine.load_model("m", dir); }); };
  CHECK(load("/nonexistent/tolk/model") == StatusCode::kFileNotFound);
  {
    ModelCopy m("noweights");
    fs::remove(m.dir / "model.safetensors");
    CHECK(load(m.dir.string()) == StatusCode::kFileNotFound);
  }
  {
    ModelCopy m("badconfig");
    m.write("config.json", "{\"model_type\": \"m2m_100\", \"d_model\": ");
    CHECK(load(m.dir.string()) == StatusCode::kInvalidModel);
  }
  {
    ModelCopy m("arch");
    m.write("config.json", "{\"model_type\": \"bart\"}");
    CHECK(load(m.dir.string()) == StatusCode::kUnsupportedModel);
  }
  {
    ModelCopy m("shape");  // a config that disagrees with the weights' shapes
    std::ifstream in(m.dir / "config.json");
    std::string cfg((std::istreambuf_iterator<char>(in)), {});
    auto pos = cfg.find("\"decoder_ffn_dim\": 128");
    REQUIRE(pos != std::string::npos);
    cfg.replace(pos, 22, "\"decoder_ffn_dim\": 96");
    m.write("config.json", cfg);
    CHECK(load(m.dir.string()) == StatusCode::kInvalidModel);
  }
  {
    ModelCopy m("truncated");
    m.write("model.safetensors", std::string("\x10\x00\x00\x00\x00\x00\x00\x00{", 9));
    CHECK(load(m.dir.string()) == StatusCode::kInvalidModel);
  }
  {
    ModelCopy m("nospm");
    fs::remove(m.dir / "sentencepiece.bpe.model");
    CHECK(load(m.dir.string()) == StatusCode::kFileNotFound);
  }
  {
    ModelCopy m("badgen");
    m.write("generation_config.json", "[1, 2");
    CHECK(load(m.dir.string()) == StatusCode::kInvalidModel);
  }
  CHECK(engine.list_models().empty());
  ModelOptions mo;
  mo.compute_type = "float99";
  CHECK(code_of([&] { engine.load_model("m", test::dev_dir(), mo); }) == StatusCode::kInvalidArgument);
}

TEST_CASE("model info reports config, size and languages", "[engine]") {
  TranslatorEngine engine;
  engine.load_model("dev", test::dev_dir());
  auto info = engine.model_info("dev");
  CHECK(info.languages.size() == 202);
  CHECK(info.config_json.find("\"d_model\": 64") != std::string::npos);
  // 454×64 shared + per layer weights; tied head counted once
  CHECK(info.parameters > 454 * 64);
  CHECK(info.weight_bytes == info.parameters * 4);
}
