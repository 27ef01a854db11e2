// gemm_probe.cc — see gemm_probe.h.
#include "gemm_probe.h"

#include <ATen/Parallel.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <stdexcept>

#include "bench_util.h"
#include "model/linear.h"
#include "model/weights.h"

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

torch::IValue prepack_int8(const torch::Tensor& w, const torch::Tensor& b) {
  auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-8).to(torch::kDouble);
  auto q = torch::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong), 0,
                                       torch::kQInt8);
  static const auto prepack =
      c10::Dispatcher::singleton().findSchemaOrThrow("quantized::linear_prepack", "");
  at::globalContext().setQEngine(at::QEngine::ONEDNN);
  torch::jit::Stack stack{q, c10::optional<torch::Tensor>(b)};
  prepack.callBoxed(&stack);
  return stack.at(0);
}

}  // namespace

double gemm_gflops(const std::string& compute_type, int64_t rows, const GemmShape& shape,
                   int threads, int repeats, double min_seconds) {
  c10::InferenceMode guard;
  at::set_num_threads(threads);
  torch::manual_seed(1);
  auto w = torch::randn({shape.out, shape.in}) * 0.02;
  auto b = torch::zeros({shape.out});
  auto x = torch::randn({rows, shape.in});
  std::function<void()> call;
  if (compute_type == "float32") {
    // As tolk's float32 layers do it (src/model/linear.cc): oneDNN from 16 rows on, LibTorch's
    // BLAS below.
    if (rows >= 16)
      call = [&] { at::mkldnn_linear(x.to_mkldnn(), w, b).to_dense(); };
    else
      call = [&] { torch::linear(x, w, b); };
  } else if (compute_type == "bfloat16") {
    // Through tolk's own bf16 layer (model/linear.h): oneDNN, or for one row the AVX512-BF16
    // kernel where the CPU has it (model/bf16_gemv.h), whichever tolk would use.
    model::Linear layer;
    layer.weight = w.to(torch::kBFloat16);
    layer.bias = b;
    call = [&, layer] { model::linear(x, layer); };
  } else if (compute_type == "int8") {
    auto packed = prepack_int8(w, b).toCustomClass<LinearPackedParamsBase>();
    call = [&, packed] { packed->apply_dynamic(x, false); };
  } else {
    throw std::invalid_argument("unknown compute type '" + compute_type + "'");
  }
  std::vector<double> rates;
  const double flops = 2.0 * static_cast<double>(rows * shape.out * shape.in);
  for (int r = 0; r < repeats; ++r) rates.push_back(flops / seconds_per_call(call, min_seconds) / 1e9);
  return median(rates);
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
