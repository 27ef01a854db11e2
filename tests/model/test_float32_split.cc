// float32 products with few rows go to LibTorch's BLAS, which in an engine runs on the calling
// thread (util/blas_threads.h); tolk splits their output columns over the intra-op threads
// itself (model/linear.cc). The split may change a value only by float32 summation order: on
// one thread and on two the result is the product (checked against float64), and the two agree
// to that error. (Not bit for bit: with OPENBLAS_CORETYPE=SkylakeX, as scripts/cpu-env.sh sets
// it, OpenBLAS picks its small-matrix kernels by the product's size, so half a product may be
// summed in another order — 3 rows × 512 → 512 differed in the last bits.) Shapes cover
// products too small to split, an output size that does not divide evenly, and the output
// projection (model::project) with many rows.
#include <ATen/Parallel.h>
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "model/linear.h"
#include "model/weights.h"
#include "util/blas_threads.h"

using namespace tolk;

namespace {
// Restores the process's intra-op thread count when a test ends, however it ends.
struct ThreadCount {
  int saved = at::get_num_threads();
  ~ThreadCount() { at::set_num_threads(saved); }
};
}  // namespace

TEST_CASE("float32 products split over threads agree with the product on one thread", "[model][compute][threads]") {
  c10::InferenceMode guard;
  ThreadCount restore;
  INFO("OpenBLAS on the calling thread: " << util::keep_blas_on_calling_thread());
  torch::manual_seed(5);
  for (auto [out, in] : {std::pair<int64_t, int64_t>{512, 512}, {1001, 2048}, {37, 64}, {8204, 256}}) {
    model::Linear layer;
    layer.weight = torch::randn({out, in}) * 0.05;
    layer.bias = torch::randn({out});
    for (int64_t rows : {1, 3, 15, 64}) {
      INFO(rows << " rows × " << in << " → " << out);
      auto x = torch::randn({rows, 1, in});
      at::set_num_threads(1);
      auto one = model::linear(x, layer);
      auto one_projected = model::project(x.view({rows, in}), layer.weight);
      at::set_num_threads(2);
      auto two = model::linear(x, layer);
      auto two_projected = model::project(x.view({rows, in}), layer.weight);
      REQUIRE(two.sizes() == std::vector<int64_t>({rows, 1, out}));
      // Each is the product itself, up to float32 summation error (Σ|x·w| bounds it).
      auto xd = x.to(torch::kDouble), wd = layer.weight.to(torch::kDouble);
      auto want = torch::linear(xd, wd, layer.bias.to(torch::kDouble));
      auto want_projected = torch::linear(xd.view({rows, in}), wd);
      auto scale = torch::linear(xd.abs(), wd.abs());
      auto allowed = scale * 1e-5 + 1e-6;
      auto close = [](const torch::Tensor& got, const torch::Tensor& ref, const torch::Tensor& bound) {
        return ((got.to(torch::kDouble) - ref).abs() <= bound).all().item<bool>();
      };
      CHECK(close(one, want, allowed));
      CHECK(close(two, want, allowed));
      CHECK(close(one_projected, want_projected, allowed.view({rows, out})));
      CHECK(close(two_projected, want_projected, allowed.view({rows, out})));
      // And the two agree to that error.
      CHECK(close(two, one.to(torch::kDouble), allowed));
    }
  }
}

TEST_CASE("float32 output projection: whichever product is timed faster, and written into slices",
          "[model][float32]") {
  // project() times the BLAS against oneDNN once per row bucket and keeps the faster; both must
  // give the product, and project_into (the sliced projection of continuous steps) the same
  // values.
  torch::manual_seed(21);
  const auto w = torch::randn({3000, 96}) * 0.1;
  for (int64_t rows : {1, 15, 16, 64, 200, 256, 600}) {
    INFO(rows << " rows");
    const auto x = torch::randn({rows, 96});
    const auto want = torch::matmul(x.to(torch::kDouble), w.to(torch::kDouble).t());
    const auto got = model::project(x, w);
    CHECK(torch::allclose(got.to(torch::kDouble), want, 1e-5, 1e-4));
    auto sliced = torch::full({rows, 3000}, 5.0f);
    for (int64_t v = 0; v < 3000; v += 1024) {
      const int64_t len = std::min<int64_t>(1024, 3000 - v);
      auto part = sliced.narrow(1, v, len);
      model::project_into(x, w.narrow(0, v, len), part);
    }
    CHECK(torch::allclose(sliced.to(torch::kDouble), want, 1e-5, 1e-4));
  }
}
