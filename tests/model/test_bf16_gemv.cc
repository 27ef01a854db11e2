// bfloat16 layers with few rows (model/bf16_gemv.h): whichever path runs — the AVX512-BF16
// kernel for one row where the CPU has it, oneDNN otherwise — the result is x·Wᵀ + b computed
// from the bfloat16-rounded input and weights, up to float32 summation error (the kernel) or
// the rounding of the product to bfloat16 (oneDNN returns bfloat16). Shapes cover output sizes
// that do not fill the kernel's blocks of 4 and inputs it refuses (not a multiple of 32, more
// rows), which must fall back, not fail.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>

#include "model/bf16_gemv.h"
#include "model/linear.h"
#include "model/weights.h"

using namespace tolk;

namespace {
// In float64, from the bfloat16-rounded operands; also the scale Σ|x·w| per output, which
// bounds float32 summation error.
std::pair<torch::Tensor, torch::Tensor> reference(const torch::Tensor& x, const torch::Tensor& w,
                                                  const torch::Tensor& b) {
  auto xd = x.to(torch::kBFloat16).to(torch::kDouble);
  auto wd = w.to(torch::kDouble);
  auto y = torch::matmul(xd, wd.t()) + b.to(torch::kDouble);
  auto scale = torch::matmul(xd.abs(), wd.abs().t());
  return {y, scale};
}
}  // namespace

TEST_CASE("bfloat16 layers with few rows equal x·Wᵀ + b of the rounded operands", "[model][compute][gemv]") {
  torch::manual_seed(3);
  INFO("AVX512-BF16 kernel available: " << model::bf16_gemv_available());
  for (auto [out, in] : {std::pair<int64_t, int64_t>{512, 512}, {37, 64}, {1000, 2048}, {6, 48}}) {
    model::Linear layer;
    layer.weight = (torch::randn({out, in}) * 0.05).to(torch::kBFloat16);
    layer.bias = torch::randn({out});
    for (int64_t rows : {1, 2, 3, 4, 5, 9}) {
      INFO(rows << " rows × " << in << " → " << out);
      auto x = torch::randn({rows, 1, in});  // [B, 1, d] as a decoder step passes it
      auto got = model::linear(x, layer);
      REQUIRE(got.sizes() == std::vector<int64_t>({rows, 1, out}));
      REQUIRE(got.scalar_type() == torch::kFloat32);
      auto [want, scale] = reference(x.view({rows, in}), layer.weight, layer.bias);
      auto err = (got.view({rows, out}).to(torch::kDouble) - want).abs();
      const bool kernel = model::bf16_gemv_applies(x.view({rows, in}), layer.weight);
      // bfloat16 keeps 8 significant bits: a product rounded to it moves by up to 2^-8 of itself.
      auto allowed = scale * 1e-5 + 1e-6;
      if (!kernel) allowed = allowed + (want - layer.bias.to(torch::kDouble)).abs() * std::ldexp(1.0, -8);
      CHECK((err <= allowed).all().item<bool>());
    }
  }
}

TEST_CASE("the bfloat16 kernel takes exactly the operands it can handle", "[model][compute][gemv]") {
  auto w = torch::zeros({8, 64}, torch::kBFloat16);
  const bool able = model::bf16_gemv_available();
  CHECK(model::bf16_gemv_applies(torch::zeros({1, 64}), w) == able);
  CHECK(model::bf16_gemv_applies(torch::zeros({model::kBf16GemvMaxRows, 64}), w) == able);
  CHECK_FALSE(model::bf16_gemv_applies(torch::zeros({model::kBf16GemvMaxRows + 1, 64}), w));
  CHECK_FALSE(model::bf16_gemv_applies(torch::zeros({1, 48}), torch::zeros({8, 48}, torch::kBFloat16)));
  CHECK_FALSE(model::bf16_gemv_applies(torch::zeros({1, 64}), torch::zeros({8, 64})));  // float32 weights
  CHECK_FALSE(model::bf16_gemv_applies(torch::zeros({64, 2}).t(), w));                  // not contiguous
  if (able) {
    // The kernel itself, on a case with exact answers: integers times powers of two.
    auto x = torch::arange(64, torch::kFloat32).view({1, 64});
    auto wi = torch::ones({8, 64}).mul_(0.5).to(torch::kBFloat16);
    auto y = model::bf16_gemv(x, wi);
    CHECK(y.allclose(torch::full({1, 8}, 0.5 * 63 * 64 / 2)));
  }
}
