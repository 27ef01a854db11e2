// The one-pass decoder attention (model/single_query_attention.h) against the plain tensor
// formula, on cache-like views (narrowed rows and positions), with per-row, shared and no masks.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "model/attention.h"
#include "model/decoder_state.h"
#include "model/single_query_attention.h"

using namespace tolk;

namespace {

torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask) {
  auto scores = torch::matmul(q, k.transpose(-1, -2));
  if (mask.defined()) scores = scores + mask;
  auto out = torch::matmul(torch::softmax(scores, -1), v);
  return out.transpose(1, 2).reshape({q.size(0), 1, -1});
}

}  // namespace

TEST_CASE("single-query attention equals softmax(q·kᵀ + mask)·v on cache views", "[model][attention]") {
  c10::InferenceMode guard;
  torch::manual_seed(7);
  const int64_t rows = 6, H = 4, L = 40, hd = 12;  // hd not a multiple of 8: the tail path
  auto cache_k = torch::randn({rows + 2, H, L, hd});
  auto cache_v = torch::randn({rows + 2, H, L, hd});
  for (int64_t keys : {1, 7, 33}) {
    INFO("keys " << keys);
    auto k = cache_k.narrow(0, 0, rows).narrow(2, 0, keys);
    auto v = cache_v.narrow(0, 0, rows).narrow(2, 0, keys);
    auto q = torch::randn({rows, 1, H * hd}).view({rows, 1, H, hd}).transpose(1, 2);
    auto per_row = torch::zeros({rows, 1, 1, keys});
    if (keys > 1) per_row.narrow(3, keys - 1, 1).narrow(0, 0, 2).fill_(model::mask_min_value());
    auto shared = torch::zeros({1, 1, 1, keys});
    for (const auto& mask : {torch::Tensor(), per_row, shared}) {
      REQUIRE(model::single_query_attention_applies(q, k, v, mask));
      auto got = model::attend_single_query(q, k, v, mask);
      auto want = reference(q, k, v, mask);
      REQUIRE(got.sizes() == want.sizes());
      CHECK((got - want).abs().max().item<double>() < 1e-5);
      // attend() takes this path for these operands.
      CHECK((model::attend(q, k, v, mask) - want).abs().max().item<double>() < 1e-5);
    }
  }
  // Not applicable: several queries, bf16, a mask over the query axis.
  auto k = cache_k.narrow(2, 0, 5), v = cache_v.narrow(2, 0, 5);
  CHECK_FALSE(model::single_query_attention_applies(torch::randn({rows + 2, H, 2, hd}), k, v, {}));
  CHECK_FALSE(model::single_query_attention_applies(torch::randn({rows + 2, H, 1, hd}).to(torch::kBFloat16),
                                                    k, v, {}));
  CHECK_FALSE(model::single_query_attention_applies(torch::randn({rows + 2, H, 1, hd}), k, v,
                                                    torch::zeros({rows + 2, 1, 2, 5})));
}
