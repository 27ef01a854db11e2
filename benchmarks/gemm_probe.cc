// gemm_probe.cc — see gemm_probe.h.
#include "gemm_probe.h"

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <stdexcept>

#include "bench_util.h"
#include "model/onednn_matmul.h"
#include "model/linear.h"
#include "model/weights.h"
#include "util/blas_threads.h"

namespace tolk::bench {

ModelShape read_model_shape(const std::string& model_dir) {
  std::ifstream in(model_dir + "/config.json");
  if (!in) throw std::runtime_error(model_dir + "/config.json: cannot read");
  const auto j = nlohmann::json::parse(in);
  ModelShape m;
  m.d_model = j.value("d_model", m.d_model);
  m.encoder_ffn = j.value("encoder_ffn_dim", m.encoder_ffn);
  m.decoder_ffn = j.value("decoder_ffn_dim", m.decoder_ffn);
  m.vocab = j.value("vocab_size", m.vocab);
  m.encoder_layers = j.value("encoder_layers", m.encoder_layers);
  m.decoder_layers = j.value("decoder_layers", m.decoder_layers);
  return m;
}

std::vector<GemmShape> model_gemm_shapes(const ModelShape& m) {
  const int64_t d = m.d_model;
  return {{"qkv", 3 * d, d},           {"attn_out", d, d},
          {"cross_kv", 2 * d, d},      {"fc1", m.decoder_ffn, d},
          {"fc2", d, m.decoder_ffn},   {"lm_head", m.vocab, d}};
}

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double seconds_per_call(F&& f, double min_seconds) {
  f();  // warm-up: oneDNN builds its kernel on first use
  int64_t calls = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  do {
    f();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < min_seconds);
  return elapsed / static_cast<double>(calls);
}


}  // namespace

namespace {

// One product [x] · [w]ᵀ + b through tolk's own linear layer (model/linear.h) in
// `compute_type`: float32 through LibTorch's BLAS below 16 rows (split over the intra-op
// threads) and oneDNN from 16 on; bfloat16 through oneDNN, or for one row the AVX512-BF16
// kernel where the CPU has it; int8 through tolk's oneDNN int8 product (model/int8_matmul.h).
// Float32 layers keep their weights in the engine's inference layout (model/onednn_matmul.h);
// the float32 output projection runs as the engine runs it (model::project, no bias).
std::function<void()> product(const std::string& compute_type, const torch::Tensor& x,
                              const torch::Tensor& w, const torch::Tensor& b,
                              bool output_projection) {
  model::Linear layer;
  layer.bias = b;
  if (compute_type == "float32" && output_projection) {
    return [x, w] { model::project(x, w); };
  } else if (compute_type == "float32") {
    layer.weight = model::float32_inference_layout(w);
  } else if (compute_type == "bfloat16") {
    layer.weight = w.to(torch::kBFloat16);
  } else if (compute_type == "int8") {
    layer.weight = w;
    layer.int8 = model::quantize_linear(layer);
  } else {
    throw std::invalid_argument("unknown compute type '" + compute_type + "'");
  }
  return [x, layer] { model::linear(x, layer); };
}

}  // namespace

double gemm_gflops(const std::string& compute_type, int64_t rows, const GemmShape& shape,
                   int threads, int repeats, double min_seconds) {
  c10::InferenceMode guard;
  at::set_num_threads(threads);
  util::keep_blas_on_calling_thread();  // as a TranslatorEngine does
  torch::manual_seed(1);
  const auto call = product(compute_type, torch::randn({rows, shape.in}),
                            torch::randn({shape.out, shape.in}) * 0.02, torch::zeros({shape.out}),
                            shape.name == "lm_head");
  std::vector<double> rates;
  const double flops = 2.0 * static_cast<double>(rows * shape.out * shape.in);
  for (int r = 0; r < repeats; ++r) rates.push_back(flops / seconds_per_call(call, min_seconds) / 1e9);
  return median(rates);
}

double decoder_step_products_ms(const std::string& compute_type, const ModelShape& m, int threads,
                                int repeats, double min_seconds) {
  c10::InferenceMode guard;
  at::set_num_threads(threads);
  util::keep_blas_on_calling_thread();  // as a TranslatorEngine does
  torch::manual_seed(1);
  const int64_t d = m.d_model;
  // Per layer: fused self-attention QKV, its output, the cross-attention query and output, the
  // feed-forward pair; then the output projection. Every matrix distinct, as in the model.
  std::vector<GemmShape> shapes;
  for (int64_t l = 0; l < m.decoder_layers; ++l)
    for (const GemmShape& s : {GemmShape{"qkv", 3 * d, d}, GemmShape{"out", d, d},
                               GemmShape{"cross_q", d, d}, GemmShape{"cross_out", d, d},
                               GemmShape{"fc1", m.decoder_ffn, d}, GemmShape{"fc2", d, m.decoder_ffn}})
      shapes.push_back(s);
  shapes.push_back({"lm_head", m.vocab, d});
  std::vector<std::function<void()>> calls;
  for (const auto& s : shapes)
    calls.push_back(product(compute_type, torch::randn({1, s.in}), torch::randn({s.out, s.in}) * 0.02,
                            torch::zeros({s.out}), s.name == "lm_head"));
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r)
    ms.push_back(1e3 * seconds_per_call([&] { for (const auto& c : calls) c(); }, min_seconds));
  return median(ms);
}

double memory_read_gbps(int threads, int repeats) {
  c10::InferenceMode guard;
  at::set_num_threads(threads);
  auto big = torch::ones({64 * 1024 * 1024});  // 256 MiB, far beyond any cache
  std::vector<double> rates;
  for (int r = 0; r < repeats; ++r)
    rates.push_back(static_cast<double>(big.numel() * 4) /
                    seconds_per_call([&] { big.sum(); }, 0.2) / 1e9);
  return median(rates);
}

double translation_flops(const ModelShape& m, int64_t source, int64_t generated, int64_t beams) {
  const double d = static_cast<double>(m.d_model), S = static_cast<double>(source);
  const double T = static_cast<double>(generated), B = static_cast<double>(beams);
  // Encoder: per token, QKV + out (4d²) + FFN (2·d·ffn); attention S² · d twice (scores, mix).
  const double enc_layer = S * (4 * d * d + 2 * d * m.encoder_ffn) * 2 + 2 * 2 * S * S * d;
  // Cross-attention K/V of the source, once per sequence (beams share it in HF's layout only
  // after expansion; tolk computes it per row, so count it per beam).
  const double cross_kv = B * S * 2 * d * d * 2;
  // Decoder step per row: QKV + out + cross Q + cross out (6d²) + FFN; attention over t past
  // tokens and S source tokens; plus the output projection.
  double dec = 0;
  for (int64_t t = 1; t <= generated; ++t)
    dec += B * ((6 * d * d + 2 * d * m.decoder_ffn) * 2 + 2 * 2 * (static_cast<double>(t) + S) * d);
  const double head = B * T * 2 * d * static_cast<double>(m.vocab);
  return static_cast<double>(m.encoder_layers) * enc_layer +
         static_cast<double>(m.decoder_layers) * (dec + cross_kv) + head;
}

}  // namespace tolk::bench
