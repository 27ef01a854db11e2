// positional.h — M2M100's sinusoidal position table and position ids.
#pragma once

#include <torch/types.h>

namespace tolk::model {

// [num_positions, dim] float32: row p = [sin(p·f) | cos(p·f)], f_i = exp(-i·ln(10000)/(half-1)),
// a zero column appended when dim is odd, and row `padding_idx` all zeros — computed with the
// same float32 operations as HF so the rows match bit for bit.
torch::Tensor sinusoidal_table(int64_t num_positions, int64_t dim, int64_t padding_idx);

// HF's create_position_ids_from_input_ids: (cumsum(ids != pad) + past) * (ids != pad) + pad.
// Pads get position `pad` (the zero row); the first real token gets pad + 1 + past.
torch::Tensor position_ids(const torch::Tensor& ids, int64_t pad, int64_t past_length);

}  // namespace tolk::model
