// Tests for config.json / generation_config.json parsing: the dev files, a heldout-shaped config,
// and every way a config must be refused (with the right code and the field named).
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>

#include "model/model_config.h"
#include "tolk/status.h"

namespace fs = std::filesystem;
using nlohmann::json;
using tolk::Error;
using tolk::StatusCode;
using namespace tolk::model;

namespace {

const std::string kDevDir = std::string(TOLK_TEST_DATA_DIR) + "/dev";

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tolk-cfg-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

// The heldout checkpoint's config as described in tests/data/NOTES.md.
json heldout_config() {
  return json{{"model_type", "m2m_100"},
              {"architectures", {"M2M100ForConditionalGeneration"}},
              {"vocab_size", 454},
              {"d_model", 96},
              {"encoder_layers", 3},
              {"decoder_layers", 1},
              {"encoder_attention_heads", 6},
              {"decoder_attention_heads", 6},
              {"encoder_ffn_dim", 192},
              {"decoder_ffn_dim", 224},
              {"activation_function", "gelu"},
              {"scale_embedding", false},
              {"max_position_embeddings", 128},
              {"pad_token_id", 1},
              {"bos_token_id", 0},
              {"eos_token_id", 2},
              {"decoder_start_token_id", 2}};
}

// Runs `f`, which must throw `code` with every needle in the message.
template <typename F>
void expect_error(F&& f, StatusCode code, std::initializer_list<std::string> needles) {
  try {
    f();
    FAIL("no error");
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    for (const std::string& n : needles) CHECK(std::string(e.what()).find(n) != std::string::npos);
  }
}

void expect_config_error(const json& j, StatusCode code, std::initializer_list<std::string> needles) {
  INFO(j.dump());
  expect_error([&] { ModelConfig::parse(j, "cfg.json"); }, code, needles);
}

json with(json j, const std::string& field, const json& value) {
  j[field] = value;
  return j;
}

json without(json j, const std::string& field) {
  j.erase(field);
  return j;
}

}  // namespace

TEST_CASE("config: the dev config.json", "[config]") {
  const ModelConfig c = ModelConfig::load(kDevDir + "/config.json");
  CHECK(c.model_type == "m2m_100");
  CHECK(c.vocab_size == 454);
  CHECK(c.d_model == 64);
  CHECK(c.encoder_layers == 2);
  CHECK(c.decoder_layers == 2);
  CHECK(c.encoder_attention_heads == 4);
  CHECK(c.decoder_attention_heads == 4);
  CHECK(c.encoder_head_dim() == 16);
  CHECK(c.encoder_ffn_dim == 128);
  CHECK(c.decoder_ffn_dim == 128);
  CHECK(c.max_position_embeddings == 256);
  CHECK(c.pad_token_id == 1);
  CHECK(c.bos_token_id == 0);
  CHECK(c.eos_token_id == 2);
  CHECK(c.decoder_start_token_id == 2);
  CHECK(c.scale_embedding);
  CHECK(c.tie_word_embeddings);  // absent from the file: HF default
  CHECK(c.activation == Activation::kRelu);
  CHECK(c.torch_dtype == "float32");
  CHECK(c.describe().find("d_model=64 layers=2/2") != std::string::npos);

  // to_json is itself a valid config that parses back to the same values.
  const ModelConfig again = ModelConfig::parse(c.to_json(), "to_json");
  CHECK(again.to_json() == c.to_json());
}

TEST_CASE("config: a heldout-shaped config and defaults", "[config]") {
  const ModelConfig c = ModelConfig::parse(heldout_config(), "heldout");
  CHECK(c.d_model == 96);
  CHECK(c.encoder_layers == 3);
  CHECK(c.decoder_layers == 1);
  CHECK(c.decoder_head_dim() == 16);
  CHECK(c.encoder_ffn_dim == 192);
  CHECK(c.decoder_ffn_dim == 224);
  CHECK(c.activation == Activation::kGelu);
  CHECK_FALSE(c.scale_embedding);
  CHECK(c.max_position_embeddings == 128);

  json minimal = heldout_config();
  for (const char* f : {"activation_function", "scale_embedding", "max_position_embeddings", "pad_token_id",
                        "bos_token_id", "eos_token_id", "decoder_start_token_id", "model_type"})
    minimal.erase(f);  // model_type falls back to architectures
  const ModelConfig d = ModelConfig::parse(minimal, "minimal");
  CHECK(d.activation == Activation::kRelu);
  CHECK(d.scale_embedding);
  CHECK(d.max_position_embeddings == 1024);
  CHECK(d.pad_token_id == 1);
  CHECK(d.bos_token_id == 0);
  CHECK(d.eos_token_id == 2);
  CHECK(d.decoder_start_token_id == 2);

  CHECK(ModelConfig::parse(with(heldout_config(), "activation_function", "gelu_new"), "x").activation ==
        Activation::kGeluTanh);
  CHECK(ModelConfig::parse(with(heldout_config(), "activation_function", "gelu_pytorch_tanh"), "x").activation ==
        Activation::kGeluTanh);
  CHECK(ModelConfig::parse(with(heldout_config(), "activation_function", "swish"), "x").activation ==
        Activation::kSilu);
  CHECK(ModelConfig::parse(with(heldout_config(), "tie_word_embeddings", false), "x").tie_word_embeddings == false);
  // Flags at their M2M100 values are accepted.
  json flags = heldout_config();
  flags["layernorm_embedding"] = false;
  flags["add_final_layer_norm"] = true;
  flags["is_encoder_decoder"] = true;
  flags["layer_norm_eps"] = 1e-5;
  CHECK_NOTHROW(ModelConfig::parse(flags, "x"));
}

TEST_CASE("config: missing required fields and wrong JSON types are kInvalidModel", "[config]") {
  for (const char* f : {"vocab_size", "d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
                        "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim"}) {
    expect_config_error(without(heldout_config(), f), StatusCode::kInvalidModel, {"cfg.json", f, "missing"});
    expect_config_error(with(heldout_config(), f, "96"), StatusCode::kInvalidModel, {f, "must be an integer"});
    expect_config_error(with(heldout_config(), f, 96.0), StatusCode::kInvalidModel, {f, "must be an integer"});
    expect_config_error(with(heldout_config(), f, nullptr), StatusCode::kInvalidModel, {f, "must be an integer"});
  }
  for (const char* f : {"pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id",
                        "max_position_embeddings"})
    expect_config_error(with(heldout_config(), f, true), StatusCode::kInvalidModel, {f, "must be an integer"});
  for (const char* f : {"scale_embedding", "tie_word_embeddings", "layernorm_embedding"})
    expect_config_error(with(heldout_config(), f, "true"), StatusCode::kInvalidModel, {f, "true or false"});
  expect_config_error(with(heldout_config(), "activation_function", 1), StatusCode::kInvalidModel,
                      {"activation_function", "must be a string"});
  expect_config_error(with(heldout_config(), "model_type", json::array()), StatusCode::kInvalidModel,
                      {"model_type", "must be a string"});
  expect_config_error(with(heldout_config(), "layer_norm_eps", "1e-5"), StatusCode::kInvalidModel,
                      {"layer_norm_eps"});
  expect_config_error(json::array({1, 2}), StatusCode::kInvalidModel, {"not a JSON object"});
}

TEST_CASE("config: out-of-range sizes and ids are kInvalidModel", "[config]") {
  const std::pair<const char*, json> bad[] = {
      {"d_model", -64},        {"d_model", 0},          {"d_model", 2},          {"d_model", 65537},
      {"vocab_size", 0},       {"vocab_size", 10000001}, {"encoder_layers", 0},  {"decoder_layers", 1025},
      {"encoder_layers", -1},  {"encoder_attention_heads", 0}, {"decoder_attention_heads", 192},
      {"encoder_ffn_dim", 0},  {"decoder_ffn_dim", 1000001},  {"max_position_embeddings", 0},
      {"max_position_embeddings", 1000001}, {"pad_token_id", 454}, {"eos_token_id", -1},
      {"bos_token_id", 1000},  {"decoder_start_token_id", 454},
  };
  for (const auto& [field, value] : bad)
    expect_config_error(with(heldout_config(), field, value), StatusCode::kInvalidModel, {field, "must be in ["});
  expect_config_error(with(heldout_config(), "d_model", 18446744073709551615ULL), StatusCode::kInvalidModel,
                      {"d_model", "too large"});
  expect_config_error(with(heldout_config(), "encoder_attention_heads", 5), StatusCode::kInvalidModel,
                      {"encoder_attention_heads", "does not divide d_model 96"});
  expect_config_error(with(heldout_config(), "decoder_attention_heads", 7), StatusCode::kInvalidModel,
                      {"decoder_attention_heads", "does not divide"});
}

TEST_CASE("config: other architectures and unimplemented math are kUnsupportedModel", "[config]") {
  expect_config_error(with(heldout_config(), "model_type", "bart"), StatusCode::kUnsupportedModel,
                      {"model_type", "'bart'"});
  expect_config_error(with(heldout_config(), "model_type", "nllb_moe"), StatusCode::kUnsupportedModel,
                      {"model_type"});
  expect_config_error(with(without(heldout_config(), "model_type"), "architectures", {"MBartForConditionalGeneration"}),
                      StatusCode::kUnsupportedModel, {"model_type", "architectures"});
  for (const char* act : {"gelu_fast", "tanh", "quick_gelu", ""})
    expect_config_error(with(heldout_config(), "activation_function", act), StatusCode::kUnsupportedModel,
                        {"activation_function", std::string("'") + act + "'"});
  const std::pair<const char*, bool> flags[] = {{"layernorm_embedding", true}, {"add_final_layer_norm", false},
                                                {"normalize_before", false},   {"normalize_embedding", true},
                                                {"is_encoder_decoder", false}, {"static_position_embeddings", false},
                                                {"add_bias_logits", true},     {"tie_encoder_decoder", true}};
  for (const auto& [field, value] : flags)
    expect_config_error(with(heldout_config(), field, value), StatusCode::kUnsupportedModel, {field});
  expect_config_error(with(heldout_config(), "layer_norm_eps", 1e-6), StatusCode::kUnsupportedModel,
                      {"layer_norm_eps"});
}

TEST_CASE("config: files", "[config]") {
  TempDir dir;
  expect_error([&] { ModelConfig::load((dir.path / "config.json").string()); }, StatusCode::kFileNotFound,
               {"config.json"});
  expect_error([&] { ModelConfig::load(dir.path.string()); }, StatusCode::kFileNotFound, {"regular file"});
  const std::string corrupt = dir.write("corrupt.json", "{\"d_model\": 64,");
  expect_error([&] { ModelConfig::load(corrupt); }, StatusCode::kInvalidModel, {"corrupt.json", "not valid JSON"});
  const std::string arr = dir.write("arr.json", "[1]");
  expect_error([&] { ModelConfig::load(arr); }, StatusCode::kInvalidModel, {"not a JSON object"});
  const std::string huge = dir.write("huge.json", std::string(2 << 20, '['));
  expect_error([&] { ModelConfig::load(huge); }, StatusCode::kInvalidModel, {"limit"});
  const std::string held = dir.write("held.json", heldout_config().dump());
  CHECK(ModelConfig::load(held).d_model == 96);
}

TEST_CASE("generation defaults", "[config]") {
  TempDir dir;
  SECTION("the dev generation_config.json") {
    const GenerationDefaults g = GenerationDefaults::load_optional(kDevDir + "/generation_config.json");
    CHECK(g.bos_token_id == 0);
    CHECK(g.decoder_start_token_id == 2);
    CHECK(g.eos_token_id == 2);
    CHECK(g.pad_token_id == 1);
    CHECK_FALSE(g.max_length);
    CHECK_FALSE(g.num_beams);
    CHECK_FALSE(g.length_penalty);
    CHECK_FALSE(g.do_sample);
    CHECK(g.to_json() == json{{"bos_token_id", 0}, {"decoder_start_token_id", 2}, {"eos_token_id", 2},
                              {"pad_token_id", 1}});
    CHECK_NOTHROW(g.check_against(ModelConfig::load(kDevDir + "/config.json"), "gen"));
  }
  SECTION("absent file: everything empty") {
    const GenerationDefaults g = GenerationDefaults::load_optional((dir.path / "generation_config.json").string());
    CHECK(g.to_json() == json::object());
  }
  SECTION("every field, nulls, and an eos list of one") {
    const json j = {{"max_length", 200}, {"max_new_tokens", 20},  {"min_length", 0},       {"min_new_tokens", 1},
                    {"num_beams", 4},     {"no_repeat_ngram_size", 3}, {"top_k", 50},      {"length_penalty", 1},
                    {"repetition_penalty", 1.2}, {"temperature", 0.7}, {"top_p", 0.9},     {"do_sample", true},
                    {"early_stopping", false}, {"eos_token_id", {2}},  {"forced_bos_token_id", 307},
                    {"forced_eos_token_id", nullptr}, {"transformers_version", "4.36.2"}};
    const GenerationDefaults g = GenerationDefaults::parse(j, "gen");
    CHECK(g.max_length == 200);
    CHECK(g.max_new_tokens == 20);
    CHECK(g.num_beams == 4);
    CHECK(g.no_repeat_ngram_size == 3);
    CHECK(g.length_penalty == 1.0);
    CHECK(g.repetition_penalty == 1.2);
    CHECK(g.top_p == 0.9);
    CHECK(g.do_sample == true);
    CHECK(g.early_stopping == false);
    CHECK(g.eos_token_id == 2);
    CHECK(g.forced_bos_token_id == 307);
    CHECK_FALSE(g.forced_eos_token_id);
    CHECK(GenerationDefaults::parse(g.to_json(), "again").to_json() == g.to_json());
  }
  SECTION("bad values") {
    auto bad = [](const json& j, StatusCode code, std::initializer_list<std::string> needles) {
      INFO(j.dump());
      expect_error([&] { GenerationDefaults::parse(j, "gen.json"); }, code, needles);
    };
    bad({{"num_beams", "4"}}, StatusCode::kInvalidModel, {"gen.json", "num_beams", "integer"});
    bad({{"num_beams", 0}}, StatusCode::kInvalidModel, {"num_beams"});
    bad({{"num_beams", 1LL << 40}}, StatusCode::kInvalidModel, {"num_beams"});
    bad({{"max_length", -1}}, StatusCode::kInvalidModel, {"max_length"});
    bad({{"max_new_tokens", 1.5}}, StatusCode::kInvalidModel, {"max_new_tokens"});
    bad({{"length_penalty", "1"}}, StatusCode::kInvalidModel, {"length_penalty", "number"});
    bad({{"top_p", 1.5}}, StatusCode::kInvalidModel, {"top_p"});
    bad({{"temperature", -1}}, StatusCode::kInvalidModel, {"temperature"});
    bad({{"do_sample", 1}}, StatusCode::kInvalidModel, {"do_sample"});
    bad({{"early_stopping", "never"}}, StatusCode::kUnsupportedModel, {"early_stopping"});
    bad({{"eos_token_id", {2, 3}}}, StatusCode::kUnsupportedModel, {"eos_token_id"});
    bad({{"eos_token_id", json::array()}}, StatusCode::kInvalidModel, {"eos_token_id"});
    bad({{"eos_token_id", {"2"}}}, StatusCode::kInvalidModel, {"eos_token_id"});
    bad(json::array(), StatusCode::kInvalidModel, {"not a JSON object"});
    const GenerationDefaults g = GenerationDefaults::parse({{"eos_token_id", 454}}, "gen");
    expect_error([&] { g.check_against(ModelConfig::parse(heldout_config(), "h"), "gen.json"); },
                 StatusCode::kInvalidModel, {"gen.json", "eos_token_id"});
  }
  SECTION("corrupt file") {
    const std::string p = dir.write("generation_config.json", "{\"num_beams\": ");
    expect_error([&] { GenerationDefaults::load_optional(p); }, StatusCode::kInvalidModel, {"not valid JSON"});
  }
}
