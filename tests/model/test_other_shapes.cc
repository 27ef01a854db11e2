// Generality: a checkpoint with the held-out shapes of NOTES.md §1 (d_model 96, 3+1 layers,
// 6 heads, ffn 192/224, gelu, no embedding scale, 128 positions), random weights in BF16 and
// an untied head, loads and decodes through the same code, and its cached steps equal the full
// decoder. Nothing in tolk may depend on the dev checkpoint's sizes.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "../support/reference_data.h"
#include "decoding/generate.h"
#include "model/safetensors_reader.h"
#include "model/transformer.h"
#include "tolk/engine.h"

using namespace tolk;
namespace fs = std::filesystem;

namespace {

struct HeldoutLikeModel {
  fs::path dir;
  std::vector<torch::Tensor> keep;  // owns the bytes until the file is written

  HeldoutLikeModel() {
    dir = fs::temp_directory_path() / ("tolk_heldout_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* f : {"sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json"})
      fs::copy_file(fs::path(test::dev_dir()) / f, dir / f);
    std::ofstream(dir / "config.json") << R"({"model_type": "m2m_100", "vocab_size": 454, "d_model": 96,
      "encoder_layers": 3, "decoder_layers": 1, "encoder_attention_heads": 6,
      "decoder_attention_heads": 6, "encoder_ffn_dim": 192, "decoder_ffn_dim": 224,
      "activation_function": "gelu", "scale_embedding": false, "max_position_embeddings": 128,
      "tie_word_embeddings": false, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
      "decoder_start_token_id": 2})";
    torch::manual_seed(98765);
    std::vector<std::pair<std::string, model::RawTensor>> tensors;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
      auto t = (torch::randn(shape) * 0.2).to(torch::kBFloat16).contiguous();
      keep.push_back(t);
      model::RawTensor raw;
      raw.dtype = model::DType::kBF16;
      raw.shape = shape;
      raw.data = t.data_ptr();
      tensors.emplace_back(name, raw);
    };
    auto linear = [&](const std::string& p, int64_t out, int64_t in) {
      add(p + ".weight", {out, in});
      add(p + ".bias", {out});
    };
    add("model.shared.weight", {454, 96});
    add("lm_head.weight", {454, 96});
    for (int i = 0; i < 3; ++i) {
      const std::string p = "model.encoder.layers." + std::to_string(i) + ".";
      for (const char* q : {"q_proj", "k_proj", "v_proj", "out_proj"}) linear(p + "self_attn." + q, 96, 96);
      linear(p + "self_attn_layer_norm", 96, 1);
      linear(p + "final_layer_norm", 96, 1);
      linear(p + "fc1", 192, 96);
      linear(p + "fc2", 96, 192);
    }
    const std::string p = "model.decoder.layers.0.";
    for (const char* q : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      linear(p + "self_attn." + q, 96, 96);
      linear(p + "encoder_attn." + q, 96, 96);
    }
    for (const char* n : {"self_attn_layer_norm", "encoder_attn_layer_norm", "final_layer_norm"})
      linear(p + n, 96, 1);
    linear(p + "fc1", 224, 96);
    linear(p + "fc2", 96, 224);
    linear("model.encoder.layer_norm", 96, 1);
    linear("model.decoder.layer_norm", 96, 1);
    // LayerNorm parameters are vectors: fix the shapes written by linear(…, 96, 1) above.
    for (auto& [name, raw] : tensors)
      if (name.find("norm.weight") != std::string::npos) raw.shape = {96};
    model::write_safetensors((dir / "model.safetensors").string(), tensors, {{"format", "pt"}});
  }
  ~HeldoutLikeModel() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("a checkpoint with other shapes, gelu, no scaling and an untied BF16 head", "[model]") {
  HeldoutLikeModel files;
  c10::InferenceMode guard;
  auto m = model::Transformer::load(files.dir.string());
  CHECK(m->weights().lm_head.data_ptr() != m->weights().embed_tokens.data_ptr());
  auto ids = torch::tensor(std::vector<int64_t>{297, 150, 207, 151, 99, 158, 2}).unsqueeze(0);
  auto mask = torch::ones_like(ids);
  auto enc = m->encode(ids, mask);
  CHECK(enc.sizes() == torch::IntArrayRef({1, 7, 96}));
  std::vector<int64_t> dec = {2, 307, 150, 191, 151};
  auto full = m->decode_full(enc, mask, torch::tensor(dec).unsqueeze(0)).squeeze(0);
  auto state = m->start_decoding(enc, mask, 8);
  for (size_t t = 0; t < dec.size(); ++t)
    CHECK(test::max_abs_diff(m->decode_step(state, torch::tensor({dec[t]})).squeeze(0), full[t]) <= 1e-4);

  TranslatorEngine engine;
  engine.load_model("h", files.dir.string());
  TranslationOptions o;
  o.max_new_tokens = 300;  // capped by the 128 positions, not an error
  o.beam_size = 3;
  auto r = engine.translate_sync("h", "Hello world.", "eng_Latn", "deu_Latn", o);
  CHECK(r.ids.size() <= 129);
  CHECK(r.ids[1] == 292);
  auto g = engine.translate_batch("h", {"Hello world.", "The file does not exist."}, "eng_Latn", "spa_Latn");
  CHECK(g[0].ok());
  CHECK(g[1].ids[1] == 411);
}
