// gemm_probe.h — the machine's matrix-product rate for the shapes a model uses, per compute
// type: the roofline the speed scenarios are judged against. The only benchmark code that uses
// LibTorch directly (the rest goes through tolk's public API).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tolk::bench {

// One linear layer's product: [rows, in] · [out, in]ᵀ.
struct GemmShape {
  std::string name;  // "qkv", "fc1", "lm_head", ...
  int64_t out = 0, in = 0;
};

// The linear layers of an NLLB-shaped model (config.json's d_model, ffn dims, vocab_size).
struct ModelShape {
  int64_t d_model = 512, encoder_ffn = 2048, decoder_ffn = 2048, vocab = 32000;
  int64_t encoder_layers = 6, decoder_layers = 6;
};
ModelShape read_model_shape(const std::string& model_dir);  // throws on a missing config
std::vector<GemmShape> model_gemm_shapes(const ModelShape& m);

// GFLOP/s of `rows` × shape in compute type "float32", "bfloat16" or "int8" through tolk's own
// linear layer (model/linear.h: the kernels tolk picks for that row count and CPU), with
// `threads` intra-op threads: the median of `repeats` timings of a loop of at least
// `min_seconds`.
double gemm_gflops(const std::string& compute_type, int64_t rows, const GemmShape& shape,
                   int threads, int repeats, double min_seconds = 0.1);

// Milliseconds of one decoder step's one-row products for model shape `m` (every layer's
// matrices and the output projection, each a distinct matrix as in the model, called in order):
// what the GEMM rate is for one generated token when the weights do not stay in cache between
// uses, as they do not in a real step. The median of `repeats` timings.
double decoder_step_products_ms(const std::string& compute_type, const ModelShape& m, int threads,
                                int repeats, double min_seconds = 0.2);

// Reading a large float32 buffer: GB/s, the bound for one-row products.
double memory_read_gbps(int threads, int repeats);

// Floating-point operations of translating one sentence of `source` tokens into `generated`
// tokens with `beams` beams (linear layers, attention products and the output projection; the
// cross-attention K/V once per sequence). The model's cost as the efficiency figures count it.
double translation_flops(const ModelShape& m, int64_t source, int64_t generated, int64_t beams);

}  // namespace tolk::bench
