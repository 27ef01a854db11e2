// The fused one-row decoder step (model/fused_row_step.h) against the LibTorch path it
// replaces, on the dev checkpoint converted to bfloat16: per step, the logits and the cache
// contents agree up to float32 summation order, and whole greedy and beam decodes give the
// same tokens. Also the pieces it relies on: the bias in the one-row kernel, the float32 cache
// write, and the re-scoring of the best bf16 candidates.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "../support/reference_data.h"
#include "decoding/generate.h"
#include "model/bf16_gemv.h"
#include "model/fused_row_step.h"
#include "model/slot_cache.h"
#include "model/transformer.h"
#include "model/vocabulary_rescoring.h"

using namespace tolk;

namespace {

const model::Transformer& bf16_model() {
  static auto m = model::Transformer::load(test::dev_dir(), model::ComputeType::kBFloat16);
  return *m;
}

struct FusedSwitch {  // restores the process-wide setting however a test ends
  explicit FusedSwitch(bool on) { model::set_fused_row_step_enabled(on); }
  ~FusedSwitch() { model::set_fused_row_step_enabled(true); }
};

// Encodes one reference case into a fresh one-row cache; returns the cache and the first token.
model::SlotCache start(const model::Transformer& m, const std::vector<int64_t>& ids) {
  auto input = torch::tensor(ids, torch::kInt64).view({1, -1});
  auto mask = torch::ones_like(input);
  auto enc = m.encode(input, mask);
  auto cache = m.allocate_slots({1, 16, input.size(1)});
  m.fill_slots(cache, enc, mask, {0}, {0});
  return cache;
}

}  // namespace

TEST_CASE("fused one-row step: same logits and cache as the LibTorch path, step by step", "[model][compute][fused]") {
  c10::InferenceMode guard;
  const auto& m = bf16_model();
  INFO("AVX512-BF16 kernel available: " << model::bf16_gemv_available());
  auto probe = start(m, test::ids_of(test::reference()["cases"][test::case_names().at(0)]["src_input_ids"]));
  if (!model::bf16_gemv_available()) {
    // Nothing to compare on this CPU: the fused path must then stay off.
    CHECK_FALSE(model::fused_row_step_applies(m.config(), m.weights(), probe));
    return;
  }
  REQUIRE(model::fused_row_step_applies(m.config(), m.weights(), probe));
  for (const auto& name : test::case_names()) {
    INFO("case " << name);
    const auto& c = test::reference()["cases"][name];
    const auto ids = test::ids_of(c["src_input_ids"]);
    auto fused = start(m, ids), plain = start(m, ids);
    int64_t token = m.config().decoder_start_token_id;
    for (int step = 0; step < 6; ++step) {
      auto t = torch::tensor(std::vector<int64_t>{token}, torch::kInt64);
      torch::Tensor a, b;
      {
        FusedSwitch on(true);
        a = m.decode_step_slots(fused, 1, t);
      }
      {
        FusedSwitch off(false);
        b = m.decode_step_slots(plain, 1, t);
      }
      const double scale = b.abs().max().item<double>();
      CHECK((a - b).abs().max().item<double>() <= 1e-4 * scale + 1e-5);
      for (size_t l = 0; l < fused.layers.size(); ++l) {
        auto ka = fused.layers[l].self_k[0].narrow(1, 0, step + 1);
        auto kb = plain.layers[l].self_k[0].narrow(1, 0, step + 1);
        CHECK((ka - kb).abs().max().item<double>() <= 1e-4 * kb.abs().max().item<double>() + 1e-6);
      }
      CHECK(fused.length == plain.length);
      token = b.argmax(-1).item<int64_t>();
    }
  }
}

TEST_CASE("fused one-row step: whole decodes give the same tokens", "[model][compute][fused]") {
  c10::InferenceMode guard;
  const auto& m = bf16_model();
  for (const auto& name : test::case_names()) {
    const auto& c = test::reference()["cases"][name];
    decoding::SequenceInput in{test::ids_of(c["src_input_ids"]), c["forced_bos_token_id"].get<int64_t>()};
    for (int beams : {1, 4}) {
      INFO("case " << name << ", beams " << beams);
      decoding::GenerationParams p;
      p.beam_size = beams;
      p.num_hypotheses = 1;
      p.max_length = 16;
      decoding::SequenceOutput a, b;
      {
        FusedSwitch on(true);
        a = decoding::generate(m, {in}, p)[0];
      }
      {
        FusedSwitch off(false);
        b = decoding::generate(m, {in}, p)[0];
      }
      REQUIRE(a.hypotheses.size() == b.hypotheses.size());
      CHECK(a.hypotheses[0].ids == b.hypotheses[0].ids);
      // Scores sum up to 15 steps' log-probabilities, each off by float32 summation order.
      CHECK(std::abs(a.hypotheses[0].score - b.hypotheses[0].score) <= 1e-3);
    }
  }
}

TEST_CASE("the one-row bf16 kernel adds the bias as a separate float32 add would", "[model][compute][gemv]") {
  if (!model::bf16_gemv_available()) {
    CHECK_FALSE(model::bf16_gemv_applies(torch::zeros({1, 64}), torch::zeros({8, 64}, torch::kBFloat16)));
    return;
  }
  torch::manual_seed(5);
  for (auto [out, in] : {std::pair<int64_t, int64_t>{37, 64}, {512, 256}}) {
    auto w = (torch::randn({out, in}) * 0.05).to(torch::kBFloat16);
    auto b = torch::randn({out});
    auto x = torch::randn({1, in});
    auto plain = model::bf16_gemv(x, w);
    auto with_bias = model::bf16_gemv(x, w, b);
    CHECK(torch::equal(with_bias, plain + b));
    auto row = torch::empty({out});
    model::bf16_gemv_row(x.data_ptr<float>(), w.data_ptr<at::BFloat16>(), b.data_ptr<float>(),
                         row.data_ptr<float>(), in, out);
    CHECK(torch::equal(row, with_bias.view({out})));
  }
}

TEST_CASE("write_step puts each row's new position where index_put_ would", "[model][cache]") {
  torch::manual_seed(6);
  const int64_t n = 3, H = 2, L = 5, hd = 4;
  auto qkv = torch::randn({n, 3 * H * hd});
  auto values = qkv.narrow(1, H * hd, H * hd);  // a strided view, as a step passes it
  const std::vector<int64_t> positions{0, 4, 2};
  auto cache = torch::randn({n + 1, H, L, hd});
  auto want = cache.clone();
  for (int64_t r = 0; r < n; ++r)
    want[r].select(1, positions[static_cast<size_t>(r)]).copy_(values[r].view({H, hd}));
  auto fast = cache.clone();
  model::write_step(fast, values, positions);
  CHECK(torch::equal(fast, want));
  auto fallback = cache.to(torch::kFloat64);  // another dtype takes the index_put_ path
  model::write_step(fallback, values, positions);
  CHECK(torch::equal(fallback, want.to(torch::kFloat64)));
  CHECK_THROWS(model::write_step(fast, values, {0, 5, 1}));
}

TEST_CASE("re-scoring replaces exactly each row's best bf16 candidates by float32 dot products", "[model][compute]") {
  torch::manual_seed(8);
  const int64_t n = 3, V = 50, D = 32, k = 4;
  auto head = torch::randn({V, D});
  auto x = torch::randn({n, D});
  auto logits = torch::randn({n, V});
  logits[0][7] = std::numeric_limits<float>::quiet_NaN();
  logits[1][3] = logits[1][9] = 10.0f;  // a tie at the top: both are taken
  auto before = logits.clone();
  model::rescore_best_candidates(logits, x, head, k);
  auto exact = torch::matmul(x.to(torch::kDouble), head.to(torch::kDouble).t()).to(torch::kFloat);
  for (int64_t r = 0; r < n; ++r) {
    auto row = before[r].clone();
    row.masked_fill_(row.isnan(), -std::numeric_limits<float>::infinity());
    auto top = std::get<1>(row.topk(k));
    auto changed = torch::zeros({V}, torch::kBool).index_fill_(0, top, true);
    for (int64_t j = 0; j < V; ++j) {
      INFO("row " << r << " column " << j);
      if (changed[j].item<bool>())
        CHECK(std::abs(logits[r][j].item<float>() - exact[r][j].item<float>()) <=
              1e-6f * std::abs(exact[r][j].item<float>()) + 1e-6f);
      else if (!std::isnan(before[r][j].item<float>()))
        CHECK(logits[r][j].item<float>() == before[r][j].item<float>());
    }
  }
  CHECK(std::isnan(logits[0][7].item<float>()));
  // A non-contiguous row block takes LibTorch's path: the same values.
  auto wide = torch::randn({n, 2 * V});
  auto view = wide.narrow(1, 0, V);
  view.copy_(before.nan_to_num(-1e9));
  auto packed = before.nan_to_num(-1e9).contiguous();
  model::rescore_best_candidates(view, x, head, k);
  model::rescore_best_candidates(packed, x, head, k);
  CHECK(torch::allclose(view, packed, 1e-6, 1e-6));
}
