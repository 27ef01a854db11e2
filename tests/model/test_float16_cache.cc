// The float16 K/V cache of the reduced-precision compute types (model/float16_values.h,
// slot_cache_dtype): the conversion rounds as c10::Half does and saturates instead of
// overflowing, and cache writes land where the float32 ones do. (Attention over a float16
// cache: test_attention.cc.)
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/float16_values.h"
#include "model/slot_cache.h"

using namespace tolk;

TEST_CASE("to_float16 rounds as c10::Half and saturates out-of-range values", "[model][cache][float16]") {
  torch::manual_seed(21);
  // Every length up to 40 exercises the 16-wide body and the scalar tail.
  for (int64_t n = 1; n <= 40; ++n) {
    auto x = torch::randn({n}) * 1000;
    std::vector<c10::Half> got(static_cast<size_t>(n));
    model::to_float16(x.data_ptr<float>(), got.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const float want = static_cast<float>(c10::Half(x[i].item<float>()));
      INFO("n " << n << ", i " << i << ", x " << x[i].item<float>());
      CHECK(static_cast<float>(got[static_cast<size_t>(i)]) == want);
    }
  }
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> edge{1e6f, -1e6f, inf, -inf, nan, 65504.f, 65519.f, -65520.f, 1e-8f, -0.0f};
  while (edge.size() < 20) edge.push_back(edge[edge.size() % 10]);  // both code paths see them
  std::vector<c10::Half> out(edge.size());
  model::to_float16(edge.data(), out.data(), static_cast<int64_t>(edge.size()));
  for (size_t i = 0; i < edge.size(); ++i) {
    const float x = edge[i], y = static_cast<float>(out[i]);
    INFO("x " << x << " -> " << y);
    if (std::isnan(x)) {
      CHECK(std::isnan(y));
    } else if (std::abs(x) >= model::kFloat16Max) {
      CHECK(y == std::copysign(model::kFloat16Max, x));
    } else {
      CHECK(y == static_cast<float>(c10::Half(x)));
    }
  }
}

TEST_CASE("slot caches of reduced-precision types hold float16 K/V where the kernel reads it", "[model][cache][float16]") {
  CHECK(model::slot_cache_dtype(model::ComputeType::kFloat32) == torch::kFloat32);
  const bool avx512 = __builtin_cpu_supports("avx512f");
  for (auto t : {model::ComputeType::kBFloat16, model::ComputeType::kInt8})
    CHECK(model::slot_cache_dtype(t) == (avx512 ? torch::kHalf : torch::kFloat32));
}

TEST_CASE("write_step into a float16 cache stores each value rounded, at its row's position", "[model][cache][float16]") {
  torch::manual_seed(22);
  const int64_t n = 3, H = 2, L = 5, hd = 16;
  auto qkv = torch::randn({n, 3 * H * hd}) * 100;
  qkv[1][H * hd + 3] = 1e6f;  // out of float16's range: saturated, not inf
  auto values = qkv.narrow(1, H * hd, H * hd);
  const std::vector<int64_t> positions{0, 4, 2};
  auto cache = torch::randn({n + 1, H, L, hd}).to(torch::kHalf);
  auto want = cache.clone();
  for (int64_t r = 0; r < n; ++r)
    want[r].select(1, positions[static_cast<size_t>(r)])
        .copy_(values[r].clamp(-model::kFloat16Max, model::kFloat16Max).view({H, hd}));
  auto general = cache.clone();
  model::write_step(cache, values, positions);
  CHECK(torch::equal(cache, want));
  CHECK(cache.to(torch::kFloat32).isfinite().all().item<bool>());
  // Values whose features are not contiguous take the general (index_put_) path: the same
  // rounding and saturation.
  auto strided = values.t().contiguous().t();
  REQUIRE(strided.stride(1) != 1);
  model::write_step(general, strided, positions);
  CHECK(torch::equal(general, want));
}

TEST_CASE("source K/V stored by copy_ into a float16 cache are saturated first", "[model][cache][float16]") {
  auto values = torch::tensor({1e6f, -1e6f, 3.0f, 70000.0f});
  auto half = torch::empty({4}, torch::kHalf);
  half.copy_(model::saturated_for(half, values));
  CHECK(torch::equal(half.to(torch::kFloat32),
                     torch::tensor({model::kFloat16Max, -model::kFloat16Max, 3.0f, model::kFloat16Max})));
  auto single = torch::empty({4});
  CHECK(torch::equal(model::saturated_for(single, values), values));  // float32: unchanged
}
