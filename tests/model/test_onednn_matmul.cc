// Products through one shared oneDNN primitive per shape (model/onednn_matmul.h): float32 gives
// the same values as LibTorch's linear for either weight layout, with and without a bias, for
// every row count, and from several threads at once; bfloat16 weights give the float32 product
// of the bf16-rounded operands, not rounded again.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <thread>
#include <vector>

#include "model/compute_type.h"
#include "model/onednn_matmul.h"

using namespace tolk;

TEST_CASE("onednn matmul: float32 equal to torch::linear for both layouts, any row count", "[model][float32]") {
  torch::manual_seed(3);
  const int64_t in = 96, out = 80;
  auto w = torch::randn({out, in});
  auto b = torch::randn({out});
  const auto stored = model::float32_inference_layout(w);
  CHECK(torch::equal(stored, w));  // the same matrix, another layout
  CHECK_FALSE(stored.is_contiguous());
  for (const auto& weight : {w, stored}) {
    REQUIRE(model::onednn_matmul_applies(weight));
    for (int64_t rows : {0, 1, 7, 16, 64, 130}) {
      INFO(rows << " rows, " << (weight.is_contiguous() ? "[out, in]" : "[in, out]") << " storage");
      auto x = torch::randn({rows, in});
      for (const auto& bias : {b, torch::Tensor()}) {
        auto got = model::onednn_matmul(x, weight, bias);
        auto want = torch::linear(x, w, bias);
        REQUIRE(got.sizes() == want.sizes());
        if (rows > 0) CHECK((got - want).abs().max().item<float>() < 1e-4f);
      }
    }
  }
  CHECK_FALSE(model::onednn_matmul_applies(w.to(torch::kFloat16)));
  CHECK_FALSE(model::onednn_matmul_applies(w.narrow(1, 0, 50)));  // neither layout
}

TEST_CASE("onednn matmul: concurrent calls on one shape give each caller its own result", "[model][float32]") {
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
      for (int i = 0; i < 20; ++i) got[t] = model::onednn_matmul(xs[t], w, torch::Tensor());
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK((got[t] - want[t]).abs().max().item<float>() < 1e-4f);
}

TEST_CASE("onednn matmul: bf16 weights give the float32 product of the rounded operands", "[model][bfloat16]") {
  torch::manual_seed(5);
  const int64_t in = 160, out = 72;
  const auto w = torch::randn({out, in}).to(torch::kBFloat16);
  const auto b = torch::randn({out});
  REQUIRE(model::onednn_matmul_applies(w));
  for (int64_t rows : {0, 1, 5, 64, 129}) {
    INFO(rows << " rows");
    auto x = torch::randn({rows, in}) * 3;
    auto got = model::onednn_matmul(x, w, b);
    // Only a CPU without native bf16 may lack oneDNN's bf16 product (linear.cc then falls back
    // to LibTorch's); on every other one the check below must run.
    if (!model::cpu_has_native_bf16() && !got.defined()) continue;
    REQUIRE(got.defined());
    REQUIRE(got.scalar_type() == torch::kFloat32);
    REQUIRE(got.sizes() == torch::IntArrayRef({rows, out}));
    if (rows == 0) continue;
    auto exact = torch::linear(x.to(torch::kBFloat16).to(torch::kFloat64), w.to(torch::kFloat64),
                               b.to(torch::kFloat64));
    const double err = (got.to(torch::kFloat64) - exact).abs().max().item<double>();
    // float32 accumulation of 160 products of size ~3: ~1e-5. A bf16-rounded result (what
    // torch::linear on bf16 operands returns) is off by up to 2^-9 of values around 40.
    CHECK(err < 1e-3);
    auto rounded = exact.to(torch::kBFloat16).to(torch::kFloat64);
    CHECK((rounded - exact).abs().max().item<double>() > 10 * err);  // the check above could fail
  }
}

TEST_CASE("onednn matmul: written into column slices of a wider result", "[model][bfloat16][float32]") {
  torch::manual_seed(6);
  const int64_t in = 64, out = 200, slice = 72;  // slices of 72, 72 and 56 columns
  for (const auto type : {torch::kFloat32, torch::kBFloat16}) {
    const auto w = (torch::randn({out, in}) * 0.1).to(type);
    for (int64_t rows : {0, 1, 3, 40, 129}) {
      INFO(rows << " rows, " << (type == torch::kFloat32 ? "float32" : "bfloat16"));
      const auto x = torch::randn({rows, in});
      auto whole = torch::full({rows, out}, 7.0f);
      bool written = true;
      for (int64_t v = 0; v < out; v += slice) {
        const int64_t len = std::min(slice, out - v);
        auto part = whole.narrow(1, v, len);
        written = model::onednn_matmul_into(x, w.narrow(0, v, len), torch::Tensor(), part) && written;
      }
      if (!written) {  // only bf16 on a CPU without oneDNN's bf16 product
        CHECK(type == torch::kBFloat16);
        CHECK_FALSE(model::cpu_has_native_bf16());
        continue;
      }
      const auto want = model::onednn_matmul(x, w, torch::Tensor());
      // Each slice is its own product over the same rows, so equal to the whole one to rounding.
      CHECK(torch::allclose(whole, want, 1e-5, 1e-5));
      CHECK(torch::equal(whole.narrow(1, 0, slice), model::onednn_matmul(x, w.narrow(0, 0, slice), torch::Tensor())));
    }
  }
  // A destination of the wrong shape is refused, not written past.
  auto small = torch::zeros({4, 10});
  CHECK_THROWS(model::onednn_matmul_into(torch::randn({4, 8}), torch::randn({12, 8}), torch::Tensor(), small));
}
