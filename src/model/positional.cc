// positional.cc — see positional.h.
#include "model/positional.h"

#include <torch/torch.h>

#include <cmath>

namespace tolk::model {

torch::Tensor sinusoidal_table(int64_t num_positions, int64_t dim, int64_t padding_idx) {
  const int64_t half = dim / 2;
  // half == 1 would divide by zero in HF too; such a model is refused by the config check.
  const double step = std::log(10000.0) / static_cast<double>(half - 1);
  auto freq = torch::exp(torch::arange(half, torch::kInt64).to(torch::kFloat32) * (-step));
  auto angles = torch::arange(num_positions, torch::kInt64).to(torch::kFloat32).unsqueeze(1) *
                freq.unsqueeze(0);
  auto table = torch::cat({torch::sin(angles), torch::cos(angles)}, 1).view({num_positions, -1});
  if (dim % 2 == 1) table = torch::cat({table, torch::zeros({num_positions, 1})}, 1);
  if (padding_idx >= 0 && padding_idx < num_positions) table[padding_idx].zero_();
  return table.contiguous();
}

torch::Tensor position_ids(const torch::Tensor& ids, int64_t pad, int64_t past_length) {
  auto mask = ids.ne(pad).to(torch::kInt64);
  return (torch::cumsum(mask, 1) + past_length) * mask + pad;
}

}  // namespace tolk::model
