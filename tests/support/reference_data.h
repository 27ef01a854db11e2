// reference_data.h — access to tests/data/dev (what HF transformers computed) for the tests.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <string>
#include <vector>

namespace tolk::test {

std::string data_dir();                 // TOLK_TEST_DATA_DIR
std::string dev_dir();                  // the tiny NLLB checkpoint, safetensors
std::string dev_bin_dir();              // the same weights as pytorch_model.bin
const nlohmann::json& reference();      // dev/reference.json, parsed once
// A float32 tensor from dev/reference_tensors.safetensors (copied, so it outlives the file).
torch::Tensor reference_tensor(const std::string& name);
// The case names of reference.json → cases, in file order.
std::vector<std::string> case_names();
std::vector<int64_t> ids_of(const nlohmann::json& list);
// A padded HF sequence with its trailing pads (id 1) removed.
std::vector<int64_t> strip_pads(std::vector<int64_t> ids, int64_t pad = 1);
// Max |a − b| over all elements.
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace tolk::test
