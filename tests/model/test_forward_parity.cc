// Forward pass vs Hugging Face: encoder states and teacher-forced logits for every reference
// case (≤ 1e-5 abs), the padded batch, and the incremental (cached) decoder vs full recompute.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cstdio>

#include "../support/reference_data.h"
#include "model/transformer.h"

using namespace tolk;

namespace {

const model::Transformer& dev_model() {
  static auto m = model::Transformer::load(test::dev_dir());
  return *m;
}

torch::Tensor row(const std::vector<int64_t>& ids) {
  return torch::tensor(ids, torch::kInt64).unsqueeze(0);
}

}  // namespace

TEST_CASE("encoder states and teacher-forced logits match HF for every case", "[model][parity]") {
  c10::InferenceMode guard;
  const auto& m = dev_model();
  double worst_enc = 0, worst_logits = 0;
  for (const auto& name : test::case_names()) {
    INFO("case " << name);
    const auto& c = test::reference()["cases"][name];
    auto ids = row(test::ids_of(c["src_input_ids"]));
    auto mask = torch::ones_like(ids);
    auto enc = m.encode(ids, mask);
    auto ref_enc = test::reference_tensor(name + ".encoder_last_hidden_state");
    REQUIRE(enc.squeeze(0).sizes() == ref_enc.sizes());
    const double d_enc = test::max_abs_diff(enc.squeeze(0), ref_enc);
    CHECK(d_enc <= 1e-5);
    auto logits = m.decode_full(enc, mask, row(test::ids_of(c["decoder_input_ids"])));
    auto ref_logits = test::reference_tensor(name + ".teacher_forced_logits");
    REQUIRE(logits.squeeze(0).sizes() == ref_logits.sizes());
    const double d_logits = test::max_abs_diff(logits.squeeze(0), ref_logits);
    CHECK(d_logits <= 1e-5);
    // argmax per row, as HF recorded it
    auto argmax = logits.squeeze(0).argmax(-1);
    CHECK(std::vector<int64_t>(argmax.data_ptr<int64_t>(), argmax.data_ptr<int64_t>() + argmax.numel()) ==
          test::ids_of(c["teacher_forced_logits_argmax"]));
    worst_enc = std::max(worst_enc, d_enc);
    worst_logits = std::max(worst_logits, d_logits);
    std::printf("[parity] %-14s encoder max|diff| %.3g  logits max|diff| %.3g\n", name.c_str(),
                d_enc, d_logits);
  }
  std::printf("[parity] worst: encoder %.3g, logits %.3g\n", worst_enc, worst_logits);
}

TEST_CASE("padded batch: encoder and teacher forcing match HF on non-pad rows", "[model][parity]") {
  c10::InferenceMode guard;
  const auto& m = dev_model();
  const auto& pb = test::reference()["pad_batch"];
  auto ids = torch::tensor(pb["input_ids"].get<std::vector<std::vector<int64_t>>>()[0]).unsqueeze(0);
  std::vector<torch::Tensor> rows, masks, dec_rows, dec_masks;
  for (const auto& r : pb["input_ids"]) rows.push_back(torch::tensor(test::ids_of(r), torch::kInt64));
  for (const auto& r : pb["attention_mask"]) masks.push_back(torch::tensor(test::ids_of(r), torch::kInt64));
  for (const auto& r : pb["decoder_input_ids"]) dec_rows.push_back(torch::tensor(test::ids_of(r), torch::kInt64));
  for (const auto& r : pb["decoder_attention_mask"]) dec_masks.push_back(torch::tensor(test::ids_of(r), torch::kInt64));
  auto input = torch::stack(rows), mask = torch::stack(masks);
  auto enc = m.encode(input, mask);
  auto ref = test::reference_tensor("pad_batch.encoder_last_hidden_state");
  REQUIRE(enc.sizes() == ref.sizes());
  // Padded query rows are reproduced too, by the rule "mask keys only".
  const double d_all = test::max_abs_diff(enc, ref);
  auto keep = mask.to(torch::kBool);
  const double d_nonpad = test::max_abs_diff(enc.index({keep}), ref.index({keep}));
  CHECK(d_nonpad <= 1e-5);
  CHECK(d_all <= 1e-4);
  auto logits = m.decode_full(enc, mask, torch::stack(dec_rows), torch::stack(dec_masks));
  // Compare non-pad decoder positions with the single-case logits.
  const auto names = pb["cases"].get<std::vector<std::string>>();
  double worst = 0;
  for (size_t b = 0; b < names.size(); ++b) {
    auto single = test::reference_tensor(names[b] + ".teacher_forced_logits");
    worst = std::max(worst, test::max_abs_diff(logits[b].narrow(0, 0, single.size(0)), single));
  }
  CHECK(worst <= 1e-5);
  std::printf("[parity] pad_batch encoder non-pad %.3g (all rows %.3g), logits vs single %.3g\n",
              d_nonpad, d_all, worst);
}

TEST_CASE("incremental decoder steps equal the full decoder", "[model]") {
  c10::InferenceMode guard;
  const auto& m = dev_model();
  const auto& c = test::reference()["cases"]["sentence"];
  auto ids = row(test::ids_of(c["src_input_ids"]));
  auto mask = torch::ones_like(ids);
  auto enc = m.encode(ids, mask);
  auto dec_ids = test::ids_of(c["decoder_input_ids"]);
  auto full = m.decode_full(enc, mask, row(dec_ids)).squeeze(0);
  auto state = m.start_decoding(enc, mask, static_cast<int64_t>(dec_ids.size()));
  double worst = 0;
  for (size_t t = 0; t < dec_ids.size(); ++t) {
    auto step = m.decode_step(state, torch::tensor({dec_ids[t]}, torch::kInt64));
    worst = std::max(worst, test::max_abs_diff(step.squeeze(0), full[t]));
  }
  CHECK(worst <= 1e-5);
  CHECK_THROWS(m.decode_step(state, torch::tensor({dec_ids[0]}, torch::kInt64)));  // cache full
}

TEST_CASE("the same weights load from pytorch_model.bin and safetensors", "[model]") {
  c10::InferenceMode guard;
  auto bin = model::Transformer::load(test::dev_bin_dir());
  const auto& st = dev_model();
  CHECK(torch::equal(bin->weights().embed_tokens, st.weights().embed_tokens));
  CHECK(torch::equal(bin->weights().decoder_layers[1].fc2.weight, st.weights().decoder_layers[1].fc2.weight));
  CHECK(bin->weights().parameter_count() == st.weights().parameter_count());
  // the tied head is the embedding, not a copy
  CHECK(st.weights().lm_head.data_ptr() == st.weights().embed_tokens.data_ptr());
}
