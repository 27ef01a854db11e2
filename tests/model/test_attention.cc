// Single-query attention (every incremental decoder step) runs in one piece for small caches
// and in blocks of rows for long ones. Both must give softmax(q·Kᵀ + mask)·V, on the strided
// cache views the decoder passes them, whatever the size of the last block.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "model/attention.h"
#include "model/decoder_state.h"

using namespace tolk;

namespace {
// The definition, in float64, on contiguous copies.
torch::Tensor reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask) {
  auto scores = torch::matmul(q.to(torch::kDouble), k.to(torch::kDouble).transpose(-1, -2)) +
                mask.to(torch::kDouble);
  auto out = torch::matmul(torch::softmax(scores, -1), v.to(torch::kDouble));  // [B, H, 1, hd]
  return out.transpose(1, 2).reshape({q.size(0), 1, -1}).to(torch::kFloat32);
}
}  // namespace

TEST_CASE("single-query attention: in one piece and in blocks, equal to the definition on cache views", "[model][attention]") {
  torch::manual_seed(7);
  const int64_t slots = 70, H = 8, hd = 64, max_len = 256;
  auto cache_k = torch::randn({slots, H, max_len, hd});
  auto cache_v = torch::randn({slots, H, max_len, hd});
  // (rows, keys): the first two fit in one block; the others take blocks of 5 and 4 rows,
  // 37 rows ending with a block of 2.
  for (auto [rows, keys] : {std::pair<int64_t, int64_t>{1, 16}, {8, 64}, {35, 200}, {37, 200}, {64, 256}}) {
    INFO(rows << " rows, " << keys << " keys");
    auto q = torch::randn({rows, 1, H, hd}).transpose(1, 2);  // as split_heads leaves it
    auto k = cache_k.narrow(0, 0, rows).narrow(2, 0, keys);
    auto v = cache_v.narrow(0, 0, rows).narrow(2, 0, keys);
    // Each row owns a different number of keys; the rest are masked.
    auto owned = torch::randint(1, keys + 1, {rows, 1});
    auto mask = torch::zeros({rows, keys})
                    .masked_fill_(torch::arange(keys).view({1, keys}) >= owned, model::mask_min_value())
                    .view({rows, 1, 1, keys});
    auto got = model::attend(q, k, v, mask);
    auto want = reference(q, k, v, mask);
    REQUIRE(got.sizes() == want.sizes());
    CHECK((got - want).abs().max().item<float>() < 1e-5f);
  }
}
