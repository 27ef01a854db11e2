// reference_data.cc — see reference_data.h.
#include "reference_data.h"

#include <torch/torch.h>

#include <fstream>
#include <mutex>

#include "model/safetensors_reader.h"

namespace tolk::test {

std::string data_dir() { return TOLK_TEST_DATA_DIR; }
std::string dev_dir() { return data_dir() + "/dev"; }
std::string dev_bin_dir() { return data_dir() + "/dev-bin"; }

const nlohmann::json& reference() {
  static const nlohmann::json ref = [] {
    std::ifstream in(dev_dir() + "/reference.json");
    return nlohmann::json::parse(in);
  }();
  return ref;
}

torch::Tensor reference_tensor(const std::string& name) {
  static std::mutex mutex;
  static model::RawTensorMap tensors;
  std::lock_guard<std::mutex> guard(mutex);
  if (tensors.empty()) tensors = model::read_safetensors(dev_dir() + "/reference_tensors.safetensors");
  const auto& raw = tensors.at(name);
  return torch::from_blob(const_cast<void*>(raw.data), raw.shape, torch::kFloat32).clone();
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (auto it = reference()["cases"].begin(); it != reference()["cases"].end(); ++it)
    names.push_back(it.key());
  return names;
}

std::vector<int64_t> ids_of(const nlohmann::json& list) { return list.get<std::vector<int64_t>>(); }

std::vector<int64_t> strip_pads(std::vector<int64_t> ids, int64_t pad) {
  while (!ids.empty() && ids.back() == pad) ids.pop_back();
  return ids;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace tolk::test
