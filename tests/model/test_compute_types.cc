// Compute types (model/compute_type.h): names and fallbacks, conversion of the weights at load,
// and how far bf16 / int8 products move the numbers of the reference checkpoint from float32.
// The conversions are tested directly (bf16 runs, emulated, on any CPU), so no case here
// depends on the CPU; what `resolve_compute_type` picks does, and each branch is checked.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdio>

#include "../support/reference_data.h"
#include "model/compute_type.h"
#include "model/transformer.h"
#include "model/weight_conversion.h"
#include "tolk/engine.h"
#include "tolk/status.h"

using namespace tolk;

namespace {

std::shared_ptr<const model::Transformer> load_as(model::ComputeType t) {
  return model::Transformer::load(test::dev_dir(), t);
}

torch::Tensor row(const std::vector<int64_t>& ids) {
  return torch::tensor(ids, torch::kInt64).unsqueeze(0);
}

// Teacher-forced logits of one reference case.
torch::Tensor logits_of(const model::Transformer& m, const std::string& name) {
  const auto& c = test::reference()["cases"][name];
  auto ids = row(test::ids_of(c["src_input_ids"]));
  auto mask = torch::ones_like(ids);
  auto enc = m.encode(ids, mask);
  return m.decode_full(enc, mask, row(test::ids_of(c["decoder_input_ids"]))).squeeze(0);
}

}  // namespace

TEST_CASE("compute type names resolve, with a reason for every fallback", "[model][compute]") {
  CHECK(model::resolve_compute_type("float32").type == model::ComputeType::kFloat32);
  CHECK(model::resolve_compute_type("float32").reason.empty());
  const auto bf16 = model::resolve_compute_type("bfloat16");
  const auto automatic = model::resolve_compute_type("auto");
  if (model::cpu_has_native_bf16()) {
    CHECK(bf16.type == model::ComputeType::kBFloat16);
    CHECK(automatic.type == model::ComputeType::kBFloat16);
  } else {
    CHECK(bf16.type == model::ComputeType::kFloat32);
    CHECK(bf16.reason.find("float32") != std::string::npos);
    CHECK(automatic.type == model::ComputeType::kFloat32);
  }
  CHECK_FALSE(automatic.reason.empty());
  const auto int8 = model::resolve_compute_type("int8");
  CHECK(int8.type == (model::int8_engine_available() ? model::ComputeType::kInt8
                                                     : model::ComputeType::kFloat32));
  for (const char* bad : {"", "float16", "fp32", "BFLOAT16", "int4", "auto "}) {
    INFO(bad);
    try {
      model::resolve_compute_type(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == StatusCode::kInvalidArgument);
    }
  }
}

TEST_CASE("bf16 conversion halves the linear layers and stays close to float32", "[model][compute]") {
  c10::InferenceMode guard;
  auto fp32 = load_as(model::ComputeType::kFloat32);
  auto bf16 = load_as(model::ComputeType::kBFloat16);
  const auto& w = bf16->weights();
  CHECK(w.decoder_layers.at(0).fc1.weight.scalar_type() == torch::kBFloat16);
  CHECK(w.encoder_layers.at(0).self_qkv.weight.scalar_type() == torch::kBFloat16);
  CHECK(w.decoder_layers.at(0).fc1.bias.scalar_type() == torch::kFloat32);  // biases stay fp32
  CHECK(w.encoder_norm.weight.scalar_type() == torch::kFloat32);
  // Embeddings and output projection stay float32 (bf16 logits reorder close candidates): the
  // bf16 copy only ranks the vocabulary, the best candidates are re-scored in float32.
  CHECK(w.embed_tokens.scalar_type() == torch::kFloat32);
  CHECK(w.lm_head.scalar_type() == torch::kFloat32);
  if (fp32->config().tie_word_embeddings) CHECK(w.lm_head.data_ptr() == w.embed_tokens.data_ptr());
  CHECK(w.parameter_count() == fp32->weights().parameter_count());
  // Exactly the linear weights lose half their bytes; the bf16 copy of the head adds 2 per entry.
  REQUIRE(w.lm_head_fast.scalar_type() == torch::kBFloat16);
  int64_t linear_weights = 0;
  for (const auto& l : w.encoder_layers)
    for (const auto* x : {&l.self_qkv, &l.self_out, &l.fc1, &l.fc2}) linear_weights += x->weight.numel();
  for (const auto& l : w.decoder_layers)
    for (const auto* x : {&l.self_qkv, &l.self_out, &l.cross_q, &l.cross_kv, &l.cross_out, &l.fc1, &l.fc2})
      linear_weights += x->weight.numel();
  CHECK(w.byte_size() == fp32->weights().byte_size() - 2 * linear_weights + 2 * w.lm_head.numel());
  for (const auto& name : test::case_names()) {
    INFO("case " << name);
    auto a = logits_of(*fp32, name), b = logits_of(*bf16, name);
    REQUIRE(b.scalar_type() == torch::kFloat32);
    // bf16 keeps 8 significant bits: relative error of a product ≈ 2^-8 per operand.
    const double rel = (a - b).abs().max().item<double>() / a.abs().max().item<double>();
    std::printf("[compute] %-14s bf16 logits max|diff|/max|logit| %.4f\n", name.c_str(), rel);
    CHECK(rel < 0.05);
    CHECK(rel > 0.0);  // it really ran in bf16
  }
}

TEST_CASE("int8 conversion quantizes the linear layers and stays close to float32",
          "[model][compute]") {
  // Debian's oneDNN (the one tolk builds against) has an int8 product on every x86-64 CPU.
  REQUIRE(model::int8_engine_available());
  c10::InferenceMode guard;
  auto fp32 = load_as(model::ComputeType::kFloat32);
  auto int8 = load_as(model::ComputeType::kInt8);
  const auto& l = int8->weights().decoder_layers.at(0);
  CHECK(l.fc1.int8 != nullptr);
  CHECK_FALSE(l.fc1.weight.defined());  // the float32 copy is released
  CHECK(int8->weights().embed_tokens.scalar_type() == torch::kFloat32);
  // The output projection ranks the vocabulary in int8; the float32 head stays for re-scoring.
  REQUIRE(int8->weights().lm_head_int8 != nullptr);
  CHECK(int8->weights().lm_head.scalar_type() == torch::kFloat32);
  CHECK(int8->weights().parameter_count() == fp32->weights().parameter_count());
  CHECK(int8->weights().byte_size() < fp32->weights().byte_size());
  for (const auto& name : test::case_names()) {
    INFO("case " << name);
    auto a = logits_of(*fp32, name), b = logits_of(*int8, name);
    const double rel = (a - b).abs().max().item<double>() / a.abs().max().item<double>();
    std::printf("[compute] %-14s int8 logits max|diff|/max|logit| %.4f\n", name.c_str(), rel);
    CHECK(rel < 0.1);
    CHECK(rel > 0.0);
  }
}

TEST_CASE("the engine reports the compute type and shares weights only within one type",
          "[engine][compute]") {
  TranslatorEngine engine;
  ModelOptions f32, f32b, bf16;
  bf16.compute_type = "bfloat16";
  engine.load_model("a", test::dev_dir(), f32);
  engine.load_model("b", test::dev_dir(), f32b);
  engine.load_model("c", test::dev_dir(), bf16);
  CHECK(engine.model_info("a").compute_type == "float32");
  CHECK(engine.model_info("c").compute_type ==
        (model::cpu_has_native_bf16() ? "bfloat16" : "float32"));
  for (const auto& m : engine.models().memory_report()) {
    INFO(m.name);
    if (m.name == "a") CHECK(m.shared_with == std::vector<std::string>{"b"});
    if (m.name == "c" && model::cpu_has_native_bf16()) CHECK(m.shared_with.empty());
  }
  CHECK(engine.stats().find("\"compute_type\"") != std::string::npos);
  // Every type translates the reference case to well-formed output.
  const auto r = engine.translate_sync("c", "Hello world", "eng_Latn", "fra_Latn");
  CHECK(r.ok());
  ModelOptions bad_device;
  bad_device.device = "tpu";
  CHECK_THROWS_AS(engine.load_model("d", test::dev_dir(), bad_device), Error);
}
