// The int8 product (model/int8_matmul.h): for every row count, on one layer object, the result
// is the float64 product of the quantized operands (weights per output channel, input per row,
// both symmetric to ±127) times their scales, plus the bias — up to float32 rounding of that
// scaling. Different row counts, zero rows, all-zero rows, no bias, and calls from several
// threads at once (which must give exactly the single-threaded results) are covered.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <thread>
#include <vector>

#include "model/int8_matmul.h"

using namespace tolk;

namespace {
// The product as int8_matmul.h defines it: the quantization in float32 (as the library does it,
// so that values halfway between two steps round the same way), the products exact, their
// scaling and the bias in float64.
torch::Tensor reference(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  auto ws = w.abs().amax(1) / 127.0;
  ws = torch::where(ws > 0, ws, torch::ones_like(ws));
  auto wq = (w / ws.unsqueeze(1)).round().clamp(-127, 127);
  auto xa = x.abs().amax(1);
  auto inv = torch::where(xa > 0, torch::full_like(xa, 127.f) / xa, torch::zeros_like(xa));
  auto xq = (x * inv.unsqueeze(1)).clamp(-127, 127).round();
  auto xs = torch::where(xa > 0, xa / 127.0, torch::ones_like(xa));
  auto y = torch::matmul(xq.to(torch::kDouble), wq.to(torch::kDouble).t()) *
           xs.to(torch::kDouble).unsqueeze(1) * ws.to(torch::kDouble).unsqueeze(0);
  return b.defined() ? y + b.to(torch::kDouble) : y;
}

double max_rel_error(const torch::Tensor& y, const torch::Tensor& ref) {
  auto scale = ref.abs().max().item<double>() + 1e-12;
  return (y.to(torch::kDouble) - ref).abs().max().item<double>() / scale;
}
}  // namespace

TEST_CASE("int8 product: the quantized operands' product for every row count", "[model][compute][int8]") {
  torch::manual_seed(11);
  for (auto [out, in] : {std::pair<int64_t, int64_t>{96, 200}, {1536, 512}, {7, 33}}) {
    const auto w = torch::randn({out, in}) * 0.05;
    const auto b = torch::randn({out});
    model::Int8Matmul layer(w, b);
    CHECK(layer.in_features() == in);
    CHECK(layer.out_features() == out);
    CHECK(layer.bytes() >= out * in);
    for (int64_t rows : {1, 3, 64, 17, 1, 130}) {
      INFO(rows << " rows × " << in << " → " << out);
      const auto x = torch::randn({rows, in}) * (1 + rows % 5);  // a different scale per call
      const auto y = layer.apply(x);
      REQUIRE(y.sizes() == torch::IntArrayRef({rows, out}));
      CHECK(max_rel_error(y, reference(x, w, b)) < 1e-5);
      // And it is a fair approximation of the float product (the point of it).
      const auto exact = torch::matmul(x.to(torch::kDouble), w.to(torch::kDouble).t()) + b.to(torch::kDouble);
      CHECK(max_rel_error(y, exact) < 0.05);
    }
  }
}

TEST_CASE("int8 product: zero rows, all-zero rows and no bias", "[model][compute][int8]") {
  torch::manual_seed(12);
  const auto w = torch::randn({40, 64});
  const auto b = torch::randn({40});
  model::Int8Matmul with_bias(w, b), without_bias(w, torch::Tensor());
  CHECK(with_bias.apply(torch::zeros({0, 64})).sizes() == torch::IntArrayRef({0, 40}));
  auto x = torch::randn({3, 64});
  x[1].zero_();
  const auto y = with_bias.apply(x);
  CHECK(torch::equal(y[1], b));  // an all-zero row is exactly the bias
  const auto y0 = without_bias.apply(x);
  CHECK(max_rel_error(y0, reference(x, w, torch::Tensor())) < 1e-5);
  CHECK(torch::allclose(y - b, y0, 1e-5, 1e-5));
  // An all-zero weight row gives scale 1 and outputs the bias.
  auto wz = w.clone();
  wz[5].zero_();
  model::Int8Matmul zero_row(wz, b);
  CHECK(torch::allclose(zero_row.apply(x).select(1, 5), b[5].expand({3})));
}

TEST_CASE("int8 product: concurrent calls with different row counts equal the sequential ones",
          "[model][compute][int8][concurrency]") {
  torch::manual_seed(13);
  const auto w = torch::randn({256, 128}) * 0.1;
  const auto b = torch::randn({256});
  model::Int8Matmul layer(w, b);
  std::vector<torch::Tensor> inputs, expected;
  for (int i = 0; i < 8; ++i) {
    inputs.push_back(torch::randn({1 + 9 * i, 128}));
    expected.push_back(layer.apply(inputs.back()));
  }
  std::vector<torch::Tensor> got(inputs.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < inputs.size(); ++i)
    threads.emplace_back([&, i] {
      for (int rep = 0; rep < 20; ++rep) got[i] = layer.apply(inputs[i]);
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < inputs.size(); ++i) CHECK(torch::equal(got[i], expected[i]));
}
