// weights.cc — RawTensors → checked, float32 LibTorch tensors grouped by layer.
#include "model/weights.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "model/linear.h"
#include "model/safetensors_reader.h"
#include "model/torch_bin_reader.h"
#include "tolk/status.h"

namespace tolk::model {
namespace {

torch::ScalarType to_scalar_type(DType dtype) {
  switch (dtype) {
    case DType::kF32: return torch::kFloat32;
    case DType::kF16: return torch::kFloat16;
    case DType::kBF16: return torch::kBFloat16;
    case DType::kF64: return torch::kFloat64;
    default: return torch::kUInt8;  // rejected by the caller before use
  }
}

bool is_float_dtype(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16 ||
         dtype == DType::kF64;
}

// Wraps the raw memory without copying when it already is aligned float32; otherwise converts.
// The tensor keeps the file mapping alive through its deleter.
torch::Tensor to_float_tensor(const RawTensor& raw) {
  std::vector<int64_t> strides = raw.strides;
  if (strides.empty()) {
    strides.assign(raw.shape.size(), 1);
    for (int64_t i = static_cast<int64_t>(raw.shape.size()) - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * raw.shape[i + 1];
  }
  auto owner = raw.owner;
  auto view = torch::from_blob(
      const_cast<void*>(raw.data), raw.shape, strides, [owner](void*) mutable { owner.reset(); },
      torch::TensorOptions().dtype(to_scalar_type(raw.dtype)));
  const bool aligned = reinterpret_cast<uintptr_t>(raw.data) % alignof(float) == 0;
  if (raw.dtype == DType::kF32 && aligned && view.is_contiguous()) return view;
  return view.to(torch::kFloat32).contiguous();
}

class WeightPicker {
 public:
  WeightPicker(const RawTensorMap& tensors, std::string source)
      : tensors_(tensors), source_(std::move(source)) {}

  bool has(const std::string& name) const { return tensors_.count(name) != 0; }

  torch::Tensor take(const std::string& name, std::vector<int64_t> shape) {
    auto it = tensors_.find(name);
    if (it == tensors_.end())
      throw Error(StatusCode::kInvalidModel, fmt::format("{}: missing tensor '{}'", source_, name));
    const RawTensor& raw = it->second;
    if (!is_float_dtype(raw.dtype))
      throw Error(StatusCode::kInvalidModel, fmt::format("{}: tensor '{}' has dtype {}, expected "
                  "a floating-point type (F32, F16, BF16, F64)", source_, name, dtype_name(raw.dtype)));
    if (raw.shape != shape)
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("{}: tensor '{}' has shape [{}], the config implies [{}]", source_,
                              name, fmt::join(raw.shape, ","), fmt::join(shape, ",")));
    used_.insert(name);
    return to_float_tensor(raw);
  }

  Linear linear(const std::string& prefix, int64_t out, int64_t in) {
    return {take(prefix + ".weight", {out, in}), take(prefix + ".bias", {out}), nullptr};
  }
  LayerNorm layer_norm(const std::string& prefix, int64_t dim) {
    return {take(prefix + ".weight", {dim}), take(prefix + ".bias", {dim})};
  }

  // Anything left over means the file is not the model the config describes.
  void check_all_used(const std::set<std::string>& ignorable) const {
    for (const auto& [name, raw] : tensors_) {
      if (used_.count(name) || ignorable.count(name)) continue;
      throw Error(StatusCode::kInvalidModel,
                  fmt::format("{}: unexpected tensor '{}' (not part of an M2M100 model with this "
                              "config)", source_, name));
    }
  }

 private:
  const RawTensorMap& tensors_;
  std::string source_;
  std::set<std::string> used_;
};

Linear fuse(const std::vector<Linear>& parts) {
  std::vector<torch::Tensor> w, b;
  for (const auto& p : parts) { w.push_back(p.weight); b.push_back(p.bias); }
  return {torch::cat(w, 0).contiguous(), torch::cat(b, 0).contiguous(), nullptr};
}

}  // namespace

ModelWeights build_weights(const RawTensorMap& tensors, const ModelConfig& c,
                           const std::string& source) {
  c10::InferenceMode guard;
  WeightPicker pick(tensors, source);
  ModelWeights w;
  const int64_t D = c.d_model, V = c.vocab_size;

  // HF's save_pretrained keeps model.shared.weight and drops its tied aliases; hub files may
  // carry the aliases too. They are the same tensor, so any one of them serves.
  std::string embed_name = "model.shared.weight";
  for (const char* alias : {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"})
    if (!pick.has(embed_name) && pick.has(alias)) embed_name = alias;
  w.embed_tokens = pick.take(embed_name, {V, D});
  std::set<std::string> ignorable = {"model.encoder.embed_tokens.weight",
                                     "model.decoder.embed_tokens.weight",
                                     "model.encoder.embed_positions.weights",
                                     "model.decoder.embed_positions.weights"};
  if (pick.has("lm_head.weight")) {
    w.lm_head = pick.take("lm_head.weight", {V, D});
  } else if (c.tie_word_embeddings) {
    w.lm_head = w.embed_tokens;
  } else {
    throw Error(StatusCode::kInvalidModel,
                fmt::format("{}: missing tensor 'lm_head.weight' (tie_word_embeddings is false)",
                            source));
  }
  for (const auto& alias : ignorable)
    if (pick.has(alias) && alias.find("embed_tokens") != std::string::npos) pick.take(alias, {V, D});

  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    const std::string p = fmt::format("model.encoder.layers.{}.", i);
    EncoderLayerWeights l;
    l.self_attn_norm = pick.layer_norm(p + "self_attn_layer_norm", D);
    l.self_qkv = fuse({pick.linear(p + "self_attn.q_proj", D, D),
                       pick.linear(p + "self_attn.k_proj", D, D),
                       pick.linear(p + "self_attn.v_proj", D, D)});
    l.self_out = pick.linear(p + "self_attn.out_proj", D, D);
    l.ffn_norm = pick.layer_norm(p + "final_layer_norm", D);
    l.fc1 = pick.linear(p + "fc1", c.encoder_ffn_dim, D);
    l.fc2 = pick.linear(p + "fc2", D, c.encoder_ffn_dim);
    w.encoder_layers.push_back(std::move(l));
  }
  w.encoder_norm = pick.layer_norm("model.encoder.layer_norm", D);

  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    const std::string p = fmt::format("model.decoder.layers.{}.", i);
    DecoderLayerWeights l;
    l.self_attn_norm = pick.layer_norm(p + "self_attn_layer_norm", D);
    l.self_qkv = fuse({pick.linear(p + "self_attn.q_proj", D, D),
                       pick.linear(p + "self_attn.k_proj", D, D),
                       pick.linear(p + "self_attn.v_proj", D, D)});
    l.self_out = pick.linear(p + "self_attn.out_proj", D, D);
    l.cross_attn_norm = pick.layer_norm(p + "encoder_attn_layer_norm", D);
    l.cross_q = pick.linear(p + "encoder_attn.q_proj", D, D);
    l.cross_kv = fuse({pick.linear(p + "encoder_attn.k_proj", D, D),
                       pick.linear(p + "encoder_attn.v_proj", D, D)});
    l.cross_out = pick.linear(p + "encoder_attn.out_proj", D, D);
    l.ffn_norm = pick.layer_norm(p + "final_layer_norm", D);
    l.fc1 = pick.linear(p + "fc1", c.decoder_ffn_dim, D);
    l.fc2 = pick.linear(p + "fc2", D, c.decoder_ffn_dim);
    w.decoder_layers.push_back(std::move(l));
  }
  w.decoder_norm = pick.layer_norm("model.decoder.layer_norm", D);
  pick.check_all_used(ignorable);
  return w;
}

ModelWeights load_weights(const std::string& model_dir, const ModelConfig& config) {
  namespace fs = std::filesystem;
  const fs::path dir(model_dir);
  const fs::path st = dir / "model.safetensors";
  const fs::path bin = dir / "pytorch_model.bin";
  if (fs::exists(st)) return build_weights(read_safetensors(st.string()), config, st.string());
  if (fs::exists(bin)) return build_weights(read_torch_bin(bin.string()), config, bin.string());
  throw Error(StatusCode::kFileNotFound,
              fmt::format("{}: no model.safetensors or pytorch_model.bin", model_dir));
}

namespace {
void add_unique(const torch::Tensor& t, std::set<const void*>& seen, int64_t& count, int64_t& bytes) {
  if (!t.defined() || !seen.insert(t.data_ptr()).second) return;
  count += t.numel();
  bytes += t.numel() * static_cast<int64_t>(t.element_size());
}
template <typename F>
void for_each_tensor(const ModelWeights& w, F&& f) {
  f(w.embed_tokens); f(w.lm_head);
  auto lin = [&](const Linear& l) { f(l.weight); f(l.bias); };
  auto ln = [&](const LayerNorm& l) { f(l.weight); f(l.bias); };
  for (const auto& l : w.encoder_layers) {
    ln(l.self_attn_norm); lin(l.self_qkv); lin(l.self_out); ln(l.ffn_norm); lin(l.fc1); lin(l.fc2);
  }
  ln(w.encoder_norm);
  for (const auto& l : w.decoder_layers) {
    ln(l.self_attn_norm); lin(l.self_qkv); lin(l.self_out); ln(l.cross_attn_norm);
    lin(l.cross_q); lin(l.cross_kv); lin(l.cross_out); ln(l.ffn_norm); lin(l.fc1); lin(l.fc2);
  }
  ln(w.decoder_norm);
}

// int8 layers hold their weights in an opaque prepacked object instead of `weight`.
template <typename F>
void for_each_quantized(const ModelWeights& w, F&& f) {
  auto q = [&](const Linear& l) { if (l.int8) f(*l.int8); };
  for (const auto& l : w.encoder_layers) {
    q(l.self_qkv); q(l.self_out); q(l.fc1); q(l.fc2);
  }
  for (const auto& l : w.decoder_layers) {
    q(l.self_qkv); q(l.self_out); q(l.cross_q); q(l.cross_kv); q(l.cross_out); q(l.fc1); q(l.fc2);
  }
}
}  // namespace

int64_t ModelWeights::parameter_count() const {
  std::set<const void*> seen; int64_t count = 0, bytes = 0;
  for_each_tensor(*this, [&](const torch::Tensor& t) { add_unique(t, seen, count, bytes); });
  for_each_quantized(*this, [&](const QuantizedLinear& q) { count += q.in_features * q.out_features; });
  return count;
}

int64_t ModelWeights::byte_size() const {
  std::set<const void*> seen; int64_t count = 0, bytes = 0;
  for_each_tensor(*this, [&](const torch::Tensor& t) { add_unique(t, seen, count, bytes); });
  for_each_quantized(*this, [&](const QuantizedLinear& q) { bytes += q.bytes; });
  // A copy of lm_head in another format: memory, not parameters.
  if (lm_head_fast.defined()) bytes += lm_head_fast.numel() * static_cast<int64_t>(lm_head_fast.element_size());
  if (lm_head_int8) bytes += lm_head_int8->bytes;
  return bytes;
}

}  // namespace tolk::model
