// Single-query attention (every incremental decoder step) runs as one pass per (row, head),
// split over the intra-op threads (model/query_attention.h), for one row and short caches as
// for many rows and long ones. It must give softmax(q·Kᵀ + mask)·V on the strided cache views
// the decoder passes it, however the rows are split and whatever the mask's broadcast shape.
#include <ATen/Parallel.h>
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

// Row r owns its first own[r] keys (1..keys, spread): an additive mask [rows, 1, 1, keys] hides
// the rest from it.
std::vector<int64_t> own_key_counts(int64_t rows, int64_t keys) {
  std::vector<int64_t> own;
  for (int64_t r = 0; r < rows; ++r) own.push_back(1 + (r * 37) % keys);
  return own;
}
torch::Tensor own_keys_mask(const std::vector<int64_t>& own, int64_t keys) {
  const auto rows = static_cast<int64_t>(own.size());
  return torch::zeros({rows, keys})
      .masked_fill_(torch::arange(keys).view({1, keys}) >= torch::tensor(own).view({rows, 1}),
                    model::mask_min_value())
      .view({rows, 1, 1, keys});
}
}  // namespace

TEST_CASE("single-query attention: small and large, equal to the definition on cache views", "[model][attention]") {
  torch::manual_seed(7);
  const int64_t slots = 70, H = 8, hd = 64, max_len = 256;
  auto cache_k = torch::randn({slots, H, max_len, hd});
  auto cache_v = torch::randn({slots, H, max_len, hd});
  // (rows, keys): from one row (no split) to 64 rows of 256 keys (split over the threads).
  for (auto [rows, keys] : {std::pair<int64_t, int64_t>{1, 16}, {2, 30}, {1, 100}, {8, 64}, {35, 200}, {37, 200}, {64, 256}}) {
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

TEST_CASE("single-query attention: broadcast masks, no mask and a fully masked row", "[model][attention]") {
  torch::manual_seed(11);
  const int64_t H = 4;
  // hd 32 takes the AVX-512 kernel where the CPU has one; 24 (not a multiple of 16) the plain loop.
  for (auto [rows, hd] : {std::pair<int64_t, int64_t>{1, 32}, {3, 32}, {40, 32}, {1, 24}, {40, 24}}) {
    const int64_t keys = 24;
    INFO(rows << " rows, head size " << hd);
    auto q = torch::randn({rows, 1, H, hd}).transpose(1, 2);
    auto k = torch::randn({rows, H, 64, hd}).narrow(2, 0, keys);
    auto v = torch::randn({rows, H, 64, hd}).narrow(2, 0, keys);
    auto shared = torch::zeros({1, 1, 1, keys});
    shared.narrow(3, 20, 4).fill_(model::mask_min_value());  // one mask for every row
    auto per_head = torch::zeros({1, H, 1, keys});
    per_head.narrow(1, 1, 1).narrow(3, 0, 5).fill_(model::mask_min_value());
    auto all_masked = torch::zeros({rows, 1, 1, keys});
    all_masked.narrow(0, 0, 1).fill_(model::mask_min_value());  // row 0 sees nothing: uniform
    for (const auto& mask : {shared, per_head, all_masked}) {
      auto got = model::attend(q, k, v, mask);
      CHECK((got - reference(q, k, v, mask)).abs().max().item<float>() < 1e-5f);
    }
    auto got = model::attend(q, k, v, torch::Tensor());
    CHECK((got - reference(q, k, v, torch::zeros({1, 1, 1, keys}))).abs().max().item<float>() < 1e-5f);
  }
}

TEST_CASE("single-query attention: reading only each row's own keys gives the masked result exactly", "[model][attention]") {
  torch::manual_seed(13);
  const int64_t rows = 20, H = 8, hd = 64, keys = 90;
  auto q = torch::randn({rows, 1, H, hd}).transpose(1, 2);
  auto k = torch::randn({rows, H, 128, hd}).narrow(2, 0, keys);
  auto v = torch::randn({rows, H, 128, hd}).narrow(2, 0, keys);
  const auto own = own_key_counts(rows, keys);
  const auto mask = own_keys_mask(own, keys);
  auto all_keys = model::attend(q, k, v, mask);
  auto own_keys = model::attend_rows(q, k, v, mask, own);
  CHECK(torch::equal(all_keys, own_keys));
  CHECK((own_keys - reference(q, k, v, mask)).abs().max().item<float>() < 1e-5f);
}

TEST_CASE("attention over a float16 cache equals the definition on the rounded keys and values", "[model][attention][float16]") {
  // The slot cache of the reduced-precision compute types holds float16 K/V (slot_cache.h).
  torch::manual_seed(23);
  const int64_t rows = 20, H = 8, hd = 64, keys = 90;
  auto q = torch::randn({rows, 1, H, hd}).transpose(1, 2);
  auto k = torch::randn({rows, H, 128, hd}).to(torch::kHalf).narrow(2, 0, keys);
  auto v = torch::randn({rows, H, 128, hd}).to(torch::kHalf).narrow(2, 0, keys);
  const auto own = own_key_counts(rows, keys);
  const auto mask = own_keys_mask(own, keys);
  auto got = model::attend_rows(q, k, v, mask, own);
  REQUIRE(got.scalar_type() == torch::kFloat32);
  CHECK((got - reference(q, k, v, mask)).abs().max().item<float>() < 1e-5f);
  // The kernel widens each value exactly and then does the float32 path's arithmetic: the same
  // keys and values held as float32 give the same bits.
  auto k32 = k.to(torch::kFloat32), v32 = v.to(torch::kFloat32);
  CHECK(torch::equal(model::attend_rows(q, k32, v32, mask, own), got));
}

TEST_CASE("many-query attention split over threads equals the definition", "[model][attention][threads]") {
  // Under inference mode with several intra-op threads the (row, query, head) items are split
  // over the threads (query_attention.h's attend_query_blocks); every mask layout the encoder
  // and the full decoder pass use, queries over their own keys (self-attention) and over
  // another sequence's (cross-attention), head sizes of the AVX-512 kernel and of the plain loop.
  torch::manual_seed(9);
  const int previous = at::get_num_threads();
  at::set_num_threads(2);
  c10::InferenceMode guard;
  const int64_t H = 4, T = 11;
  for (auto [Tq, hd] : {std::pair<int64_t, int64_t>{T, 16}, {7, 16}, {T, 24}, {1, 16}}) {
    for (int64_t B : {1, 2, 5}) {
      // q as split_heads leaves it ([B, Tq, H, hd] in memory), k/v contiguous.
      const auto q = torch::randn({B, Tq, H, hd}).transpose(1, 2), k = torch::randn({B, H, T, hd}),
                 v = torch::randn({B, H, T, hd});
      const auto keys = own_keys_mask(own_key_counts(B, T), T);  // [B, 1, 1, T]
      const auto causal =
          torch::full({Tq, T}, model::mask_min_value()).triu(1).view({1, 1, Tq, T});
      const auto per_head = torch::randn({B, H, 1, T});  // [B, H, 1, T]
      for (const auto& mask : {keys, causal, per_head, torch::Tensor()}) {
        INFO(B << " rows, " << Tq << " queries, head size " << hd << ", mask "
               << (mask.defined() ? mask.sizes() : c10::IntArrayRef{}));
        auto scores = torch::matmul(q.to(torch::kDouble), k.to(torch::kDouble).transpose(-1, -2));
        if (mask.defined()) scores = scores + mask.to(torch::kDouble);
        const auto want = torch::matmul(torch::softmax(scores, -1), v.to(torch::kDouble))
                              .transpose(1, 2).reshape({B, Tq, -1});
        const auto got = model::attend(q, k, v, mask);
        REQUIRE(got.sizes() == want.sizes());
        CHECK(torch::allclose(got.to(torch::kDouble), want, 1e-5, 1e-5));
      }
    }
  }
  at::set_num_threads(previous);
}
