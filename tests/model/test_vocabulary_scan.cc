// The row scans of a search step (model/vocabulary_scan.h) give torch.argmax's,
// torch.logsumexp's and torch.topk's answers, with the AVX-512 loops and with the plain ones.
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "model/vocabulary_scan.h"

using namespace tolk;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// Rows that stress every branch: lengths around the 16- and 32-wide bodies, a vocabulary-sized
// row, ties, NaN, ±inf, and integer-valued rows where most entries tie.
std::vector<torch::Tensor> hostile_rows() {
  torch::manual_seed(31);
  std::vector<torch::Tensor> rows;
  for (int64_t n : {1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 257, 32000}) {
    rows.push_back(torch::randn({n}) * 5);
    rows.push_back(torch::randint(0, 4, {n}).to(torch::kFloat32));  // many ties
    auto with_nan = torch::randn({n});
    with_nan[n / 2] = kNaN;
    if (n > 3) with_nan[n - 1] = kNaN;
    rows.push_back(with_nan);
    auto with_inf = torch::randn({n});
    with_inf[n - 1] = -kInf;
    if (n > 2) with_inf[n / 3] = kInf;
    rows.push_back(with_inf);
    rows.push_back(torch::full({n}, -kInf));
    auto forced = torch::full({n}, -kInf);  // the forced-BOS step: one entry left, at 0
    forced[n - 1] = 0.0f;
    rows.push_back(forced);
  }
  return rows;
}

void check_scans(const torch::Tensor& row) {
  const int64_t n = row.numel();
  const float* p = row.data_ptr<float>();
  const auto best = model::first_argmax(p, n);
  CHECK(best.index == torch::argmax(row).item<int64_t>());
  const float at = row[best.index].item<float>();
  CHECK((best.value == at || (std::isnan(best.value) && std::isnan(at))));

  const float want = torch::logsumexp(row.to(torch::kFloat64), 0).item<double>();
  const float got = model::log_sum_exp(p, n, best.value);
  if (std::isfinite(want))
    CHECK(std::abs(got - want) <= 1e-6f * std::max(1.0f, std::abs(want)));
  else if (std::isnan(want))
    CHECK(std::isnan(got));
  else
    CHECK(got == want);

  for (int64_t k : {1, 4, 16}) {
    std::vector<float> val;
    std::vector<int64_t> idx;
    model::best_of_row(p, n, k, val, idx);
    // torch.topk on the row with NaN as −inf, ties by index: a stable descending sort.
    auto clean = row.masked_fill(row.isnan(), -kInf);
    auto order = std::get<1>(clean.sort(/*stable=*/true, 0, /*descending=*/true));
    const int64_t usable = n - row.isnan().sum().item<int64_t>();
    REQUIRE(static_cast<int64_t>(idx.size()) == std::min(k, usable));
    for (size_t i = 0; i < idx.size(); ++i) {
      CHECK(idx[i] == order[static_cast<int64_t>(i)].item<int64_t>());
      CHECK(val[i] == row[idx[i]].item<float>());
    }
  }
}

}  // namespace

TEST_CASE("vocabulary scans agree with torch.argmax, logsumexp and topk", "[model][search]") {
  const auto rows = hostile_rows();
  for (bool vectorized : {true, false}) {
    model::set_vectorized_vocabulary_scans(vectorized);
    for (size_t i = 0; i < rows.size(); ++i) {
      INFO("vectorized " << vectorized << ", row " << i << " of length " << rows[i].numel());
      check_scans(rows[i]);
    }
  }
  model::set_vectorized_vocabulary_scans(true);
}

TEST_CASE("a NaN anywhere makes the argmax the first NaN and the log-sum-exp NaN", "[model][search]") {
  for (bool vectorized : {true, false}) {
    model::set_vectorized_vocabulary_scans(vectorized);
    std::vector<float> row(40, 1.0f);
    row[3] = 9.0f;
    row[21] = kNaN;
    row[35] = kNaN;
    const auto best = model::first_argmax(row.data(), 40);
    CHECK(best.index == 21);
    CHECK(std::isnan(model::log_sum_exp(row.data(), 40, best.value)));
  }
  model::set_vectorized_vocabulary_scans(true);
}
