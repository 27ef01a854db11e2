// The NLLB tokenizer against what transformers v4.36.2 computed (tests/data/dev/reference.json).
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "text/nllb_language_codes.h"
#include "text/special_token_splitter.h"
#include "text/tokenizer.h"
#include "tolk/status.h"

namespace fs = std::filesystem;
using nlohmann::json;
using tolk::StatusCode;
using tolk::text::Tokenizer;
using Ids = std::vector<int64_t>;

namespace {

const std::string kDevDir = std::string(TOLK_TEST_DATA_DIR) + "/dev";

const json& reference() {
  static const json ref = [] {
    std::ifstream in(kDevDir + "/reference.json");
    REQUIRE(in);
    return json::parse(in);
  }();
  return ref;
}

std::shared_ptr<const Tokenizer> dev_tokenizer() {
  static const auto tok = Tokenizer::load(kDevDir);
  return tok;
}

// A fresh directory under the system temp dir, removed when the object dies.
struct TempDir {
  fs::path path;
  TempDir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path() /
           ("tolk_tok_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void copy_model() const { fs::copy_file(kDevDir + "/sentencepiece.bpe.model", path / "sentencepiece.bpe.model"); }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name, std::ios::binary) << content;
  }
};

StatusCode load_error(const std::string& dir, std::string* message = nullptr) {
  try {
    Tokenizer::load(dir);
  } catch (const tolk::Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return StatusCode::kOk;
}

std::string unknown_language_message(const Tokenizer& tok, const std::string& code) {
  try {
    tok.language_id(code);
  } catch (const tolk::Error& e) {
    CHECK(e.code() == StatusCode::kUnknownLanguage);
    return e.what();
  }
  FAIL("no error for " << code);
  return {};
}

}  // namespace

TEST_CASE("tokenizer: every reference case encodes and decodes like HF", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  for (const auto& [name, c] : reference().at("cases").items()) {
    INFO("case " << name);
    const std::string src = c.at("src_text"), tgt = c.at("tgt_text");
    const std::string src_lang = c.at("src_lang"), tgt_lang = c.at("tgt_lang");
    const Ids src_ids = tok->encode_source(src, src_lang);
    CHECK(src_ids == c.at("src_input_ids").get<Ids>());
    CHECK(tok->tokens(src_ids) == c.at("src_tokens").get<std::vector<std::string>>());
    CHECK(tok->encode_target(tgt, tgt_lang) == c.at("tgt_labels").get<Ids>());

    const json& greedy = c.at("greedy");
    const Ids seq = greedy.at("sequence").get<Ids>();
    CHECK(tok->decode(seq) == greedy.at("text").get<std::string>());
    CHECK(tok->decode(seq, true, false) == greedy.at("text_no_cleanup").get<std::string>());
    CHECK(tok->decode(seq, false) == greedy.at("text_with_special").get<std::string>());
    CHECK(tok->decode(c.at("beam4").at("sequence").get<Ids>()) == c.at("beam4").at("text").get<std::string>());
  }
}

TEST_CASE("tokenizer: legacy_behaviour moves the language code to the end", "[tokenizer]") {
  const json& t = reference().at("tokenizer");
  const json& sentence = reference().at("cases").at("sentence");
  const std::string src = sentence.at("src_text"), tgt = sentence.at("tgt_text");
  const auto modern = dev_tokenizer();
  CHECK_FALSE(modern->legacy_behaviour());
  CHECK(modern->encode_source(src, "eng_Latn") == t.at("legacy_behaviour_false").at("source").get<Ids>());
  CHECK(modern->encode_target(tgt, "fra_Latn") == t.at("legacy_behaviour_false").at("target").get<Ids>());
  tolk::text::TokenizerOptions opts;
  opts.legacy_behaviour = true;
  const auto legacy = Tokenizer::load(kDevDir, opts);
  CHECK(legacy->legacy_behaviour());
  CHECK(legacy->encode_source(src, "eng_Latn") == t.at("legacy_behaviour_true").at("source").get<Ids>());
  CHECK(legacy->encode_target(tgt, "fra_Latn") == t.at("legacy_behaviour_true").at("target").get<Ids>());
  CHECK(legacy->encode_source("", "eng_Latn") == Ids{2, 297});
}

TEST_CASE("tokenizer: legacy_behaviour is read from tokenizer_config.json", "[tokenizer]") {
  TempDir dir;
  dir.copy_model();
  dir.write("tokenizer_config.json", R"({"legacy_behaviour": true})");
  CHECK(Tokenizer::load(dir.path.string())->encode_source("", "fra_Latn") == Ids{2, 307});
  tolk::text::TokenizerOptions opts;
  opts.legacy_behaviour = false;  // an explicit option wins over the file
  CHECK(Tokenizer::load(dir.path.string(), opts)->encode_source("", "fra_Latn") == Ids{307, 2});
}

TEST_CASE("tokenizer: special-token text inside the input", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  const json& s = reference().at("tokenizer").at("special_text_in_input");
  const Ids ids = tok->encode_source(s.at("text").get<std::string>(), "eng_Latn");
  CHECK(ids == s.at("input_ids").get<Ids>());
  CHECK(tok->tokens(ids) == s.at("tokens").get<std::vector<std::string>>());

  // Each plain chunk is its own sp.encode (own dummy prefix); only <mask> eats whitespace (lstrip).
  auto pieces = [&](const std::string& text) {
    Ids ids = tok->encode_source(text, "eng_Latn");
    return Ids(ids.begin() + 1, ids.end() - 1);
  };
  Ids expected{297};
  for (const Ids& part : {pieces("a"), Ids{307}, pieces("b")}) expected.insert(expected.end(), part.begin(), part.end());
  expected.push_back(2);
  CHECK(tok->encode_source("a fra_Latn b", "eng_Latn") == expected);
  CHECK(tok->encode_source("afra_Latnb", "eng_Latn") == expected);
  CHECK(tok->encode_source("x \t <mask>", "eng_Latn") == tok->encode_source("x<mask>", "eng_Latn"));
  CHECK(tok->encode_source(" <mask>  ", "eng_Latn") == Ids{297, 453, 2});
  CHECK(tok->encode_source("</s><s><pad><unk>", "eng_Latn") == Ids{297, 2, 0, 1, 3, 2});
  CHECK(tok->encode_source("fra_Latn deu_Latn", "eng_Latn") == Ids{297, 307, 292, 2});
  expected = {297};
  for (const Ids& part : {pieces("<"), Ids{2}, pieces(">")}) expected.insert(expected.end(), part.begin(), part.end());
  expected.push_back(2);
  CHECK(tok->encode_source("<</s>>", "eng_Latn") == expected);
}

TEST_CASE("tokenizer: pad_batch rows are the single encodings padded with <pad>", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  const json& pb = reference().at("pad_batch");
  const auto names = pb.at("cases").get<std::vector<std::string>>();
  const auto rows = pb.at("input_ids").get<std::vector<Ids>>();
  const auto masks = pb.at("attention_mask").get<std::vector<Ids>>();
  REQUIRE(rows.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    INFO("row " << names[i]);
    const json& c = reference().at("cases").at(names[i]);
    Ids padded = tok->encode_source(c.at("src_text").get<std::string>(), c.at("src_lang"));
    Ids mask(padded.size(), 1);
    padded.resize(rows[i].size(), tok->pad_id());
    mask.resize(rows[i].size(), 0);
    CHECK(padded == rows[i]);
    CHECK(mask == masks[i]);
    CHECK(tok->decode(pb.at("greedy_sequences")[i].get<Ids>()) == pb.at("greedy_texts")[i].get<std::string>());
    CHECK(tok->decode(pb.at("beam4_sequences")[i].get<Ids>()) == pb.at("beam4_texts")[i].get<std::string>());
  }
}

TEST_CASE("tokenizer: special and language ids", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  CHECK(tok->bos_id() == 0);
  CHECK(tok->pad_id() == 1);
  CHECK(tok->eos_id() == 2);
  CHECK(tok->unk_id() == 3);
  CHECK(tok->mask_id() == 453);
  CHECK(tok->size() == 454);
  CHECK(tok->sentencepiece_size() == 250);
  for (const auto& [code, id] : reference().at("tokenizer").at("lang_code_ids").items()) {
    CHECK(tok->language_id(code) == id.get<int64_t>());
  }
  CHECK(tok->language_id("eng_Latn") == 297);
  CHECK(tok->language_id("fra_Latn") == 307);
  CHECK(tok->language_id("deu_Latn") == 292);
  CHECK(tok->language_id("spa_Latn") == 411);
  CHECK(tok->language_id("ace_Arab") == 251);
  CHECK(tok->language_id("zul_Latn") == 452);
  CHECK(tok->languages() == tolk::text::nllb_language_codes());
  CHECK(tok->is_language("eng_Latn"));
  CHECK_FALSE(tok->is_language("<mask>"));
  CHECK_FALSE(tok->is_language("eng_latn"));
  CHECK(tok->is_language_id(297));
  CHECK_FALSE(tok->is_language_id(453));
  CHECK(tok->tokens({0, 1, 2, 3, 4, 251, 453}) ==
        std::vector<std::string>{"<s>", "<pad>", "</s>", "<unk>", "▁d", "ace_Arab", "<mask>"});
  for (const auto& [id, piece] : reference().at("tokenizer").at("first_spm_pieces").items()) {
    CHECK(tok->tokens({std::stoll(id)})[0] == piece.get<std::string>());
  }
}

TEST_CASE("tokenizer: without the json files the formula gives the same ids", "[tokenizer]") {
  TempDir dir;
  dir.copy_model();
  const auto bare = Tokenizer::load(dir.path.string());
  const auto dev = dev_tokenizer();
  CHECK(bare->size() == dev->size());
  CHECK(bare->mask_id() == 453);
  CHECK(bare->languages() == dev->languages());
  for (const auto& code : dev->languages()) CHECK(bare->language_id(code) == dev->language_id(code));
  for (const auto& [name, c] : reference().at("cases").items()) {
    INFO("case " << name);
    CHECK(bare->encode_source(c.at("src_text").get<std::string>(), c.at("src_lang")) == c.at("src_input_ids").get<Ids>());
    CHECK(bare->decode(c.at("greedy").at("sequence").get<Ids>(), false) ==
          c.at("greedy").at("text_with_special").get<std::string>());
  }
  const json& s = reference().at("tokenizer").at("special_text_in_input");
  CHECK(bare->encode_source(s.at("text").get<std::string>(), "eng_Latn") == s.at("input_ids").get<Ids>());
}

TEST_CASE("tokenizer: added_tokens_decoder ids win over the formula", "[tokenizer]") {
  // The layout a v4.38+ tokenizer built from the .model alone saves (NOTES.md §6.1): <mask> at
  // sp_size + 1 and every language one higher. Whatever the file says is what we use.
  json decoder = json::object();
  const auto& codes = tolk::text::nllb_language_codes();
  decoder["251"] = {{"content", "<mask>"}, {"lstrip", true}, {"special", true}};
  for (size_t i = 0; i < codes.size(); ++i) decoder[std::to_string(252 + i)] = {{"content", codes[i]}, {"special", true}};
  TempDir dir;
  dir.copy_model();
  dir.write("tokenizer_config.json", json{{"added_tokens_decoder", decoder}}.dump());
  const auto tok = Tokenizer::load(dir.path.string());
  CHECK(tok->mask_id() == 251);
  CHECK(tok->language_id("eng_Latn") == 298);
  CHECK(tok->language_id("zul_Latn") == 453);
  CHECK(tok->size() == 454);
  CHECK(tok->languages() == codes);
  Ids expected = tok->encode_source("x", "fra_Latn");  // [308, pieces of "x"…, 2]
  expected.insert(expected.end() - 1, 251);
  CHECK(expected.front() == 308);
  CHECK(tok->encode_source("x <mask>", "fra_Latn") == expected);
  CHECK(tok->decode({2, 308, 251, 453, 2}) == "");
}

TEST_CASE("tokenizer: decode drops specials, unknown ids and out-of-range ids", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  const Ids seq{2, 307, 150, 187, 161, 160, 156, 170, 173, 2};
  Ids noisy{0, 3, 453, 454, 256205, -1};
  noisy.insert(noisy.end(), seq.begin(), seq.end());
  CHECK(tok->decode(noisy) == "Aduné.");
  CHECK(tok->decode(noisy, false) == "<s><unk><mask></s>fra_Latn Aduné.</s>");
  CHECK(tok->decode({}) == "");
  CHECK_THROWS_AS(tok->tokens({454}), tolk::Error);
  CHECK_THROWS_AS(tok->tokens({-1}), tolk::Error);
  // Clean-up rules (HF clean_up_tokenization) only run when asked.
  const Ids dot = tok->encode_source("a .", "eng_Latn");
  CHECK(tok->decode(dot) == "a.");
  CHECK(tok->decode(dot, true, false) == "a .");
}

TEST_CASE("tokenizer: unknown language codes suggest close matches", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  CHECK_THAT(unknown_language_message(*tok, "fra"), Catch::Contains("fra_Latn"));
  CHECK_THAT(unknown_language_message(*tok, "french"), Catch::Contains("fra_Latn"));
  CHECK_THAT(unknown_language_message(*tok, "eng_latn"), Catch::Contains("eng_Latn"));
  CHECK_THAT(unknown_language_message(*tok, "eng-Latn"), Catch::Contains("eng_Latn"));
  CHECK_THAT(unknown_language_message(*tok, "fra_Latm"), Catch::Contains("fra_Latn"));
  CHECK_THAT(unknown_language_message(*tok, "zho"), Catch::Contains("zho_Hans") && Catch::Contains("zho_Hant"));
  CHECK_THAT(unknown_language_message(*tok, "qqqqqqqqq"), Catch::Contains("eng_Latn"));
  CHECK_THAT(unknown_language_message(*tok, std::string("\xFF\n", 2)), Catch::Contains("\\xff"));
  CHECK(tolk::text::suggest_language_codes("e", tok->languages()).size() == 5);
  CHECK_THROWS_AS(tok->encode_source("hi", "english"), tolk::Error);
  CHECK_THROWS_AS(tok->encode_target("hi", ""), tolk::Error);
}

TEST_CASE("tokenizer: invalid UTF-8 input is rejected", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  for (const std::string bad : {"\x80", "a\xC0\xAF", "\xED\xA0\x80", "x\xE2\x82", "\xF4\x90\x80\x80"}) {
    try {
      tok->encode_source(bad, "eng_Latn");
      FAIL("accepted invalid UTF-8");
    } catch (const tolk::Error& e) {
      CHECK(e.code() == StatusCode::kInvalidUtf8);
    }
    CHECK_THROWS_AS(tok->encode_target(bad, "fra_Latn"), tolk::Error);
  }
}

TEST_CASE("tokenizer: missing and corrupt files", "[tokenizer]") {
  std::string msg;
  {
    TempDir dir;  // empty: no sentencepiece model
    CHECK(load_error(dir.path.string(), &msg) == StatusCode::kFileNotFound);
    CHECK_THAT(msg, Catch::Contains("sentencepiece.bpe.model"));
    CHECK(load_error((dir.path / "does_not_exist").string()) == StatusCode::kFileNotFound);
  }
  {
    TempDir dir;
    dir.write("sentencepiece.bpe.model", "this is not a protobuf \xFF\xFF\xFF");
    CHECK(load_error(dir.path.string(), &msg) == StatusCode::kInvalidModel);
    CHECK_THAT(msg, Catch::Contains("sentencepiece.bpe.model"));
  }
  {
    TempDir dir;  // a truncated copy of the real model
    std::ifstream in(kDevDir + "/sentencepiece.bpe.model", std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    dir.write("sentencepiece.bpe.model", bytes.substr(0, bytes.size() / 2));
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
  }
  {
    TempDir dir;
    dir.write("sentencepiece.bpe.model", "");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
  }
  {
    TempDir dir;
    dir.copy_model();
    dir.write("tokenizer_config.json", "{\"added_tokens_decoder\": {");
    CHECK(load_error(dir.path.string(), &msg) == StatusCode::kInvalidModel);
    CHECK_THAT(msg, Catch::Contains("tokenizer_config.json"));
  }
  {
    TempDir dir;
    dir.copy_model();
    dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"x1": {"content": "<mask>"}}})");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
    dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {" 300": {"content": "<mask>"}}})");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
    dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"300": {"content": 7}}})");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
    dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"9": {"content": "<mask>"}}})");
    CHECK(load_error(dir.path.string(), &msg) == StatusCode::kInvalidModel);  // inside the spm range
    dir.write("tokenizer_config.json", R"({"added_tokens_decoder": {"7": {"content": "<unk>"}}})");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);  // fixed ids are fixed
    dir.write("tokenizer_config.json", R"({"legacy_behaviour": "yes"})");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
    dir.write("tokenizer_config.json", "[]");
    CHECK(load_error(dir.path.string()) == StatusCode::kInvalidModel);
  }
  {
    TempDir dir;
    dir.copy_model();
    dir.write("special_tokens_map.json", "not json");
    CHECK(load_error(dir.path.string(), &msg) == StatusCode::kInvalidModel);
    CHECK_THAT(msg, Catch::Contains("special_tokens_map.json"));
  }
}

TEST_CASE("tokenizer: concurrent encoding gives the same ids", "[tokenizer]") {
  const auto tok = dev_tokenizer();
  std::vector<std::string> texts, langs;
  std::vector<Ids> expected;
  for (const auto& [name, c] : reference().at("cases").items()) {
    texts.push_back(c.at("src_text"));
    langs.push_back(c.at("src_lang"));
    expected.push_back(c.at("src_input_ids").get<Ids>());
  }
  const std::string with_special = "Hello <mask> world fra_Latn end";
  const Ids special_ids = tok->encode_source(with_special, "eng_Latn");
  const std::string single_text = tok->decode(expected[0]);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          const size_t k = (i + t) % texts.size();
          if (tok->encode_source(texts[k], langs[k]) != expected[k]) ++mismatches;
        }
        if (tok->encode_source(with_special, "eng_Latn") != special_ids) ++mismatches;
        if (tok->decode(expected[0]) != single_text) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(mismatches == 0);
}

TEST_CASE("special token splitter: AddedToken flags as in HF's slow tokenize()", "[tokenizer]") {
  using tolk::text::AddedToken;
  using tolk::text::SpecialTokenSplitter;
  AddedToken lstrip{"<L>", 10, true, false, false};
  AddedToken rstrip{"<R>", 11, false, true, false};
  AddedToken word{"<W>", 12, false, false, true};
  AddedToken longer{"<L>>", 13};
  const SpecialTokenSplitter splitter({lstrip, rstrip, word, longer});
  auto render = [&](const std::string& text) {
    std::string out;
    for (const auto& c : splitter.split(text)) out += "[" + c.text + (c.id >= 0 ? "#" + std::to_string(c.id) : "") + "]";
    return out;
  };
  CHECK(render("a  <L> b") == "[a][<L>#10][ b]");
  CHECK(render("a <R> \t b") == "[a ][<R>#11][b]");
  CHECK(render("<L><L>") == "[<L>#10][<L>#10]");
  CHECK(render("x<L>>y") == "[x][<L>>#13][y]");      // longest match wins
  CHECK(render("a<W>b") == "[a<W>][b]");             // glued to the left word, becomes plain text
  CHECK(render("<W>b") == "[<W>b]");                 // or to the right one
  CHECK(render("a <W> b") == "[a ][<W>#12][ b]");
  CHECK(render("   <L>") == "[<L>#10]");
  CHECK(render("") == "");
}
