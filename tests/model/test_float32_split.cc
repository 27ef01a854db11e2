// float32 products with few rows go to LibTorch's BLAS, which in an engine runs on the calling
// thread (util/blas_threads.h); tolk splits their output columns over the intra-op threads
// itself (model/linear.cc). The split must not change a single value: each part is the same
// product over a slice of the weight rows. Shapes cover products too small to split, an output
// size that does not divide evenly, and the output projection (model::project) with many rows.
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

TEST_CASE("float32 products split over threads equal the product on one thread", "[model][compute][threads]") {
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
      CHECK(torch::equal(one, two));
      CHECK(torch::equal(one_projected, two_projected));
      // And both are the product itself (float32 summation error only).
      auto want = torch::linear(x.to(torch::kDouble), layer.weight.to(torch::kDouble),
                                layer.bias.to(torch::kDouble));
      auto scale = torch::linear(x.abs().to(torch::kDouble), layer.weight.abs().to(torch::kDouble));
      CHECK(((two.to(torch::kDouble) - want).abs() <= scale * 1e-5 + 1e-6).all().item<bool>());
    }
  }
}
