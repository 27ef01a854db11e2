// The per-row loops of the int8 product (model/int8_rows.h): the AVX-512 quantization gives
// exactly the plain loop's bytes and scale, both match a torch reference of the documented rule,
// and the output scaling agrees with the plain loop to rounding.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "model/int8_rows.h"

using namespace tolk;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Lengths around the 16-wide body and its masked tail; halfway values, zeros, NaN, ±inf.
std::vector<torch::Tensor> hostile_rows() {
  torch::manual_seed(41);
  std::vector<torch::Tensor> rows;
  for (int64_t n : {1, 2, 15, 16, 17, 31, 33, 100, 512, 2051}) {
    rows.push_back(torch::randn({n}) * 3);
    rows.push_back(torch::zeros({n}));
    // Entries exactly halfway between two steps once scaled: 127·(k + ½)/127 with amax 127.
    auto halves = torch::arange(n).to(torch::kFloat32).remainder(254) - 127.0f + 0.5f;
    halves[0] = 127.0f;
    rows.push_back(halves);
    auto with_nan = torch::randn({n});
    with_nan[n / 2] = kNaN;
    rows.push_back(with_nan);
    auto with_inf = torch::randn({n});
    with_inf[n - 1] = -kInf;
    rows.push_back(with_inf);
    auto tiny = torch::randn({n}) * 1e-38f;  // subnormal scales
    rows.push_back(tiny);
  }
  return rows;
}

// int8_rows.h's rule, in torch.
std::pair<torch::Tensor, float> reference(const torch::Tensor& x) {
  const auto a = x.abs();
  const float amax = torch::where(torch::isnan(a), torch::zeros_like(a), a).max().item<float>();
  const bool usable = amax > 0.f && std::isfinite(amax);
  const float inv = usable ? 127.f / amax : 0.f;
  auto v = x * inv;
  v = torch::where(torch::isnan(v), torch::full_like(v, -127.f), v).clamp(-127, 127).round();
  return {v.to(torch::kChar), usable ? amax / 127.f : 1.f};
}

}  // namespace

TEST_CASE("int8 rows: quantization, vectorized and plain, follows the documented rule", "[model][compute][int8]") {
  for (const auto& row : hostile_rows()) {
    const int64_t n = row.numel();
    INFO(n << " entries, first " << row[0].item<float>());
    const auto [want, want_scale] = reference(row);
    std::vector<int8_t> fast(n + 16, 99), plain(n + 16, 99);
    const float fast_scale = model::quantize_row_int8(row.data_ptr<float>(), n, fast.data());
    const float plain_scale = model::quantize_row_int8_plain(row.data_ptr<float>(), n, plain.data());
    CHECK(fast_scale == want_scale);
    CHECK(plain_scale == want_scale);
    CHECK(std::memcmp(fast.data(), want.data_ptr<int8_t>(), n) == 0);
    CHECK(std::memcmp(plain.data(), want.data_ptr<int8_t>(), n) == 0);
    CHECK(fast[n] == 99);  // nothing written past the row
  }
}

TEST_CASE("int8 rows: output scaling with and without a bias", "[model][compute][int8]") {
  torch::manual_seed(42);
  for (int64_t n : {1, 7, 16, 17, 512, 1001}) {
    const auto y = torch::randn({n + 16}) * 100;
    const auto bias = torch::randn({n});
    for (bool with_bias : {true, false}) {
      for (bool relu : {false, true}) {
        auto fast = y.clone(), plain = y.clone();
        const float* b = with_bias ? bias.data_ptr<float>() : nullptr;
        model::scale_row_add_bias(fast.data_ptr<float>(), n, 0.037f, b, relu);
        model::scale_row_add_bias_plain(plain.data_ptr<float>(), n, 0.037f, b, relu);
        auto want = y.narrow(0, 0, n).to(torch::kDouble) * 0.037f;
        if (with_bias) want = want + bias.to(torch::kDouble);
        if (relu) want = torch::relu(want);
        INFO(n << (with_bias ? " with bias" : " without bias") << (relu ? ", relu" : ""));
        CHECK(torch::allclose(fast.narrow(0, 0, n).to(torch::kDouble), want, 1e-6, 1e-5));
        CHECK(torch::allclose(plain.narrow(0, 0, n).to(torch::kDouble), want, 1e-6, 1e-5));
        CHECK(torch::equal(fast.narrow(0, n, 16), y.narrow(0, n, 16)));  // the rest untouched
      }
    }
  }
}

TEST_CASE("int8 rows: the fused relu keeps NaN and zeroes negatives, as torch.relu", "[model][int8]") {
  std::vector<float> y = {-2.f, -0.5f, 0.f, 3.f, std::nanf(""), -1e30f, 7.f, -3.f, 1.f, -1.f,
                          2.f, -2.f, 4.f, -4.f, 5.f, -5.f, 6.f, -6.f};  // 18: one full block and a tail
  const auto n = static_cast<int64_t>(y.size());
  auto fast = y, plain = y;
  model::scale_row_add_bias(fast.data(), n, 2.f, nullptr, true);
  model::scale_row_add_bias_plain(plain.data(), n, 2.f, nullptr, true);
  for (int64_t j = 0; j < n; ++j) {
    INFO("entry " << j);
    const float want = std::isnan(y[j]) ? y[j] : std::max(0.f, 2.f * y[j]);
    if (std::isnan(want)) {
      CHECK(std::isnan(fast[j]));
      CHECK(std::isnan(plain[j]));
    } else {
      CHECK(fast[j] == want);
      CHECK(plain[j] == want);
    }
  }
}
