// float32 products through one shared oneDNN primitive per shape (model/float32_matmul.h):
// the same values as LibTorch's linear for either weight layout, with and without a bias,
// for every row count, and from several threads at once.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <thread>
#include <vector>

#include "model/float32_matmul.h"

using namespace tolk;

TEST_CASE("float32 matmul: equal to torch::linear for both layouts, any row count", "[model][float32]") {
  torch::manual_seed(3);
  const int64_t in = 96, out = 80;
  auto w = torch::randn({out, in});
  auto b = torch::randn({out});
  const auto stored = model::float32_inference_layout(w);
  CHECK(torch::equal(stored, w));  // the same matrix, another layout
  CHECK_FALSE(stored.is_contiguous());
  for (const auto& weight : {w, stored}) {
    REQUIRE(model::float32_matmul_applies(weight));
    for (int64_t rows : {0, 1, 7, 16, 64, 130}) {
      INFO(rows << " rows, " << (weight.is_contiguous() ? "[out, in]" : "[in, out]") << " storage");
      auto x = torch::randn({rows, in});
      for (const auto& bias : {b, torch::Tensor()}) {
        auto got = model::float32_matmul(x, weight, bias);
        auto want = torch::linear(x, w, bias);
        REQUIRE(got.sizes() == want.sizes());
        if (rows > 0) CHECK((got - want).abs().max().item<float>() < 1e-4f);
      }
    }
  }
  CHECK_FALSE(model::float32_matmul_applies(w.to(torch::kBFloat16)));
  CHECK_FALSE(model::float32_matmul_applies(w.narrow(1, 0, 50)));  // neither layout
}

TEST_CASE("float32 matmul: concurrent calls on one shape give each caller its own result", "[model][float32]") {
  torch::manual_seed(4);
  const auto w = model::float32_inference_layout(torch::randn({256, 128}));
  std::vector<torch::Tensor> xs, want(4), got(4);
  for (int t = 0; t < 4; ++t) {
    xs.push_back(torch::randn({32 + t, 128}));
    want[t] = torch::linear(xs[t], w);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      c10::InferenceMode guard;
      for (int i = 0; i < 20; ++i) got[t] = model::float32_matmul(xs[t], w, torch::Tensor());
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK((got[t] - want[t]).abs().max().item<float>() < 1e-4f);
}
