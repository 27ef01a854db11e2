// Weight files that parse but are not the model their config describes (a missing tensor, a
// non-float dtype, an unexpected extra tensor, tie_word_embeddings false without lm_head.weight),
// a tokenizer with more ids than the config's vocab_size, and hostile pytorch_model.bin files.
// Each model directory is built in a temp dir from tests/data/dev (or dev-bin) and loaded
// through TranslatorEngine::load_model (kInvalidModel) and tolk_engine_load_model
// (TOLK_ERR_INVALID_MODEL); nothing stays half-loaded, and both engines still serve afterwards.
#include <caffe2/serialize/inline_container.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../support/reference_data.h"
#include "model/raw_tensor.h"
#include "model/safetensors_reader.h"
#include "tolk.h"
#include "tolk/engine.h"
#include "../support/pickle_builder.h"

using namespace tolk;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

using tolk::test::Pickle;

namespace {

using TensorList = std::vector<std::pair<std::string, model::RawTensor>>;

// A scratch copy of a model directory (without the reference files and `skip`), removed at
// scope exit.
struct ScratchModel {
  fs::path dir;
  ScratchModel(const std::string& tag, const std::string& from, const std::string& skip = "") {
    static std::atomic<int> counter{0};
    dir = fs::temp_directory_path() / ("tolk_hostile_" + tag + "_" + std::to_string(::getpid()) + "_" +
                                       std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(from)) {
      const std::string name = e.path().filename().string();
      if (name == "reference.json" || name == "reference_tensors.safetensors" || name == skip) continue;
      fs::copy_file(e.path(), dir / name);
    }
  }
  ~ScratchModel() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  ScratchModel(const ScratchModel&) = delete;
  ScratchModel& operator=(const ScratchModel&) = delete;

  std::string path() const { return dir.string(); }
  std::string read(const std::string& file) const {
    std::ifstream in(dir / file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  nlohmann::json read_json(const std::string& file) const { return nlohmann::json::parse(read(file)); }
  void write(const std::string& file, const std::string& bytes) const {
    std::ofstream(dir / file, std::ios::binary | std::ios::trunc) << bytes;
  }
  void write_weights(const TensorList& tensors) const {
    model::write_safetensors((dir / "model.safetensors").string(), tensors, {{"format", "pt"}});
  }
};

// The dev weights in file order; each RawTensor's `owner` keeps the file mapping alive.
TensorList dev_tensors() {
  const model::RawTensorMap m = model::read_safetensors(test::dev_dir() + "/model.safetensors");
  return TensorList(m.begin(), m.end());
}

TensorList::iterator find_tensor(TensorList& tensors, const std::string& name) {
  auto it = std::find_if(tensors.begin(), tensors.end(), [&](const auto& t) { return t.first == name; });
  REQUIRE(it != tensors.end());
  return it;
}

std::string short_text() { return test::reference()["cases"]["short"]["src_text"].get<std::string>(); }
std::string short_greedy() { return test::reference()["cases"]["short"]["greedy"]["text"].get<std::string>(); }

TranslationOptions greedy20() {
  TranslationOptions o;
  o.max_new_tokens = 20;
  return o;
}

// A C++ engine and a C engine, side by side.
struct Engines {
  TranslatorEngine cpp;
  tolk_engine* capi = nullptr;

  Engines() { REQUIRE(tolk_engine_create(nullptr, &capi) == TOLK_OK); }
  ~Engines() { tolk_engine_free(capi); }
  Engines(const Engines&) = delete;
  Engines& operator=(const Engines&) = delete;

  // Both interfaces refuse `dir` as an invalid model, with `needle` in the message, and leave
  // nothing loaded.
  void expect_invalid_model(const std::string& dir, const std::string& needle) {
    INFO(dir << ": expecting '" << needle << "'");
    StatusCode code = StatusCode::kOk;
    std::string message;
    try {
      cpp.load_model("m", dir);
    } catch (const Error& e) {
      code = e.code();
      message = e.what();
    }
    CHECK(code == StatusCode::kInvalidModel);
    CHECK_THAT(message, Contains(needle));
    if (code == StatusCode::kOk) cpp.unload_model("m");
    CHECK(cpp.list_models().empty());

    const tolk_status s = tolk_engine_load_model(capi, "m", dir.c_str(), nullptr);
    CHECK(std::string(tolk_status_name(s)) == "TOLK_ERR_INVALID_MODEL");
    if (s != TOLK_OK) {
      CHECK_THAT(std::string(tolk_last_error_message()), Contains(needle));
    }
    CHECK(tolk_engine_unload_model(capi, "m") == (s == TOLK_OK ? TOLK_OK : TOLK_ERR_UNKNOWN_MODEL));
  }

  // Both still load the dev model and translate as HF did.
  void expect_still_serving() {
    cpp.load_model("dev", test::dev_dir());
    CHECK(cpp.translate_sync("dev", short_text(), "eng_Latn", "fra_Latn", greedy20()).text == short_greedy());
    cpp.unload_model("dev");

    REQUIRE(tolk_engine_load_model(capi, "dev", test::dev_dir().c_str(), nullptr) == TOLK_OK);
    tolk_options* o = tolk_options_create();
    REQUIRE(tolk_options_set_int(o, "max_new_tokens", 20) == TOLK_OK);
    tolk_result* r = nullptr;
    const std::string text = short_text();
    REQUIRE(tolk_translate_sync(capi, "dev", text.c_str(), "eng_Latn", "fra_Latn", o, &r) == TOLK_OK);
    CHECK(std::string(tolk_result_text(r)) == short_greedy());
    tolk_result_free(r);
    tolk_options_free(o);
    REQUIRE(tolk_engine_unload_model(capi, "dev") == TOLK_OK);
  }
};


// One F32 storage "0" of four floats.
std::map<std::string, std::string> four_floats() {
  const float v[4] = {1, 2, 3, 4};
  return {{"data/0", std::string(reinterpret_cast<const char*>(v), sizeof v)}};
}

// Writes a torch zip holding data.pkl and `records` as `dir`/pytorch_model.bin.
void write_torch_bin(const ScratchModel& m, const std::string& pkl,
                     const std::map<std::string, std::string>& records) {
  caffe2::serialize::PyTorchStreamWriter writer((m.dir / "pytorch_model.bin").string());
  writer.writeRecord("data.pkl", pkl.data(), pkl.size());
  for (const auto& [rec, bytes] : records) writer.writeRecord(rec, bytes.data(), bytes.size());
  writer.writeEndOfFile();
}

}  // namespace

TEST_CASE("safetensors weights that parse but do not fit the config are kInvalidModel", "[model][engine][capi][hostile]") {
  Engines engines;
  {  // Control: the dev tensors written back unchanged load and translate as HF did.
    ScratchModel m("control", test::dev_dir());
    m.write_weights(dev_tensors());
    engines.cpp.load_model("control", m.path());
    CHECK(engines.cpp.translate_sync("control", short_text(), "eng_Latn", "fra_Latn", greedy20()).text ==
          short_greedy());
    engines.cpp.unload_model("control");
  }
  for (const std::string name : {"model.decoder.layers.1.fc2.weight", "model.shared.weight"}) {
    ScratchModel m("missing", test::dev_dir());
    auto t = dev_tensors();
    t.erase(find_tensor(t, name));
    m.write_weights(t);
    engines.expect_invalid_model(m.path(), "missing tensor '" + name + "'");
  }
  // Integer dtypes where a float one is expected. The shape stays [64]: I32 spans the same 256
  // bytes, I16 and U8 the first 128 and 64.
  for (const model::DType dtype : {model::DType::kI32, model::DType::kI16, model::DType::kU8}) {
    ScratchModel m("dtype", test::dev_dir());
    auto t = dev_tensors();
    auto it = find_tensor(t, "model.encoder.layer_norm.weight");
    REQUIRE(it->second.shape == std::vector<int64_t>{64});
    it->second.dtype = dtype;
    m.write_weights(t);
    engines.expect_invalid_model(m.path(), "tensor 'model.encoder.layer_norm.weight' has dtype " +
                                               std::string(model::dtype_name(dtype)));
  }
  {  // An extra tensor: a third encoder layer that the 2-layer config does not have.
    ScratchModel m("extra", test::dev_dir());
    auto t = dev_tensors();
    std::vector<float> bias(128, 0.5f);
    model::RawTensor raw;
    raw.dtype = model::DType::kF32;
    raw.shape = {128};
    raw.data = bias.data();
    t.emplace_back("model.encoder.layers.2.fc1.bias", raw);
    m.write_weights(t);
    engines.expect_invalid_model(m.path(), "unexpected tensor 'model.encoder.layers.2.fc1.bias'");
  }
  {  // tie_word_embeddings false, and no lm_head.weight in the file.
    ScratchModel m("untied", test::dev_dir());
    auto config = m.read_json("config.json");
    config["tie_word_embeddings"] = false;
    m.write("config.json", config.dump(2));
    engines.expect_invalid_model(m.path(), "missing tensor 'lm_head.weight' (tie_word_embeddings is false)");
    // With its own lm_head.weight (a copy of the embeddings) the same config loads and
    // translates as dev does: the refusal was about the missing head only.
    auto t = dev_tensors();
    const model::RawTensor shared = find_tensor(t, "model.shared.weight")->second;
    t.emplace_back("lm_head.weight", shared);
    m.write_weights(t);
    engines.cpp.load_model("untied", m.path());
    CHECK(engines.cpp.translate_sync("untied", short_text(), "eng_Latn", "fra_Latn", greedy20()).text ==
          short_greedy());
    engines.cpp.unload_model("untied");
  }
  engines.expect_still_serving();
}

TEST_CASE("a tokenizer with more ids than vocab_size in config.json is kInvalidModel", "[model][engine][capi][hostile]") {
  Engines engines;
  ScratchModel m("vocab", test::dev_dir());
  auto tok = m.read_json("tokenizer_config.json");
  REQUIRE(tok["added_tokens_decoder"].contains("453"));  // <mask>, the last of dev's 454 ids
  tok["added_tokens_decoder"]["454"] = {{"content", "<extra_0>"}, {"lstrip", false},      {"normalized", false},
                                        {"rstrip", false},         {"single_word", false}, {"special", true}};
  m.write("tokenizer_config.json", tok.dump(2));
  engines.expect_invalid_model(m.path(), "the tokenizer has 455 ids but the model's vocab_size is 454");
  engines.expect_still_serving();
}

TEST_CASE("a hostile pytorch_model.bin is kInvalidModel through load_model and tolk_engine_load_model", "[model][engine][capi][hostile][torch_bin]") {
  Engines engines;
  const fs::path marker = fs::temp_directory_path() / ("tolk_hostile_pwned_" + std::to_string(::getpid()));
  fs::remove(marker);
  {  // os.system through GLOBAL + REDUCE: refused at GLOBAL, so never run.
    ScratchModel m("bin_os_system", test::dev_bin_dir(), "pytorch_model.bin");
    Pickle p;
    p.proto().global("os", "system").str("touch " + marker.string()).op('\x85').op('R').op('.');
    write_torch_bin(m, p.b, four_floats());
    engines.expect_invalid_model(m.path(), "pickle global 'os.system' is not allowed");
  }
  {  // subprocess.Popen hidden after a valid tensor.
    ScratchModel m("bin_popen", test::dev_bin_dir(), "pytorch_model.bin");
    Pickle p;
    p.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).str("v");
    p.global("subprocess", "Popen").str("touch " + marker.string()).op('\x85').op('R').end_dict();
    write_torch_bin(m, p.b, four_floats());
    engines.expect_invalid_model(m.path(), "'subprocess.Popen' is not allowed");
  }
  {  // A storage claiming more elements than its record holds.
    ScratchModel m("bin_numel", test::dev_bin_dir(), "pytorch_model.bin");
    Pickle p;
    p.begin_dict().tensor("w", "0", 1000, 0, {1000}, {1}).end_dict();
    write_torch_bin(m, p.b, four_floats());
    engines.expect_invalid_model(m.path(), "but its record holds 16 bytes");
  }
  {  // A well-formed state dict that is not this model: it parses, then does not fit.
    ScratchModel m("bin_wrong_dict", test::dev_bin_dir(), "pytorch_model.bin");
    Pickle p;
    p.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).end_dict();
    write_torch_bin(m, p.b, four_floats());
    engines.expect_invalid_model(m.path(), "missing tensor 'model.shared.weight'");
  }
  {  // The real file cut in half.
    ScratchModel m("bin_half", test::dev_bin_dir());
    const std::string bytes = m.read("pytorch_model.bin");
    REQUIRE(bytes.size() > 1000);
    m.write("pytorch_model.bin", bytes.substr(0, bytes.size() / 2));
    engines.expect_invalid_model(m.path(), "pytorch_model.bin");
  }
  CHECK_FALSE(fs::exists(marker));
  // The untouched dev-bin directory still loads, and so does dev.
  engines.cpp.load_model("bin", test::dev_bin_dir());
  CHECK(engines.cpp.translate_sync("bin", short_text(), "eng_Latn", "fra_Latn", greedy20()).text == short_greedy());
  engines.cpp.unload_model("bin");
  engines.expect_still_serving();
}
