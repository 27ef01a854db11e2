// linear.cc — see linear.h.
#include "model/linear.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "model/bf16_gemv.h"
#include "model/onednn_matmul.h"
#include "tolk/status.h"
#include "util/log.h"

namespace tolk::model {

std::shared_ptr<const QuantizedLinear> quantize_linear(const Linear& layer) {
  auto ql = std::make_shared<QuantizedLinear>();
  ql->product = std::make_shared<const Int8Matmul>(layer.weight, layer.bias);
  ql->in_features = ql->product->in_features();
  ql->out_features = ql->product->out_features();
  ql->bytes = ql->product->bytes();
  return ql;
}

namespace {

// From this many rows on, float32 products go through oneDNN instead of the BLAS LibTorch was
// built with: Debian's OpenBLAS 0.3.21 takes AVX-512 CPUs for "Prescott" and reached 10–28
// GFLOP/s on 64–2560 rows here, oneDNN 70–155 on the same shapes. For one or a few rows (a
// decoder step of a lone sentence: memory-bound) OpenBLAS was the faster of the two.
constexpr int64_t kOneDnnMinRows = 16;

// Whether the BLAS in this process is OpenBLAS running its generic "Prescott" kernels (it does
// so on CPUs newer than it knows unless OPENBLAS_CORETYPE names one: scripts/cpu-env.sh).
// With its AVX-512 kernels OpenBLAS beat oneDNN here on vocabulary-sized products (32000×512
// at 64–256 rows: 85–149 vs 42–88 GFLOP/s); with the generic ones it lost (25 vs 42–88).
bool blas_is_generic() {
  static const bool generic = [] {
    using CoreName = char* (*)();
    auto f = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!f) return false;
    std::string name = f() ? f() : "";
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name == "prescott" || name == "core2" || name == "nehalem";
  }();
  return generic;
}

// Below this many multiply-adds a product stays on one thread: handing half of it to another
// thread costs more than it saves.
constexpr int64_t kMinSplitWork = int64_t{1} << 17;

// LibTorch's BLAS product with its output columns split over the intra-op (OpenMP) threads.
// In an engine OpenBLAS runs on the calling thread (util/blas_threads.h), so this split is what
// puts a large product on every core. Each part is the same product over a slice of the weight
// rows.
torch::Tensor blas_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                          int64_t rows) {
  const int64_t in = weight.size(1), out = weight.size(0);
  const int threads = at::get_num_threads();
  if (threads < 2 || at::in_parallel_region() || rows * out * in < kMinSplitWork)
    return torch::linear(x, weight, bias);
  auto x2 = x.reshape({rows, in});
  auto y = torch::empty({rows, out}, x.options());
  // Parts start at multiples of 64 columns (whole vector blocks). The values equal the unsplit
  // product's up to float32 summation order, not always bit for bit: OpenBLAS's SkylakeX build
  // picks its small-matrix kernels by the product's size (tests/model/test_float32_split.cc).
  constexpr int64_t kColumns = 64;
  at::parallel_for(0, (out + kColumns - 1) / kColumns, 1, [&](int64_t first, int64_t last) {
    c10::InferenceMode guard;  // thread-local, and parallel_for does not carry it
    const int64_t begin = first * kColumns, end = std::min(out, last * kColumns);
    auto w = weight.narrow(0, begin, end - begin);
    auto part = bias.defined() ? torch::addmm(bias.narrow(0, begin, end - begin), x2, w.t())
                               : torch::mm(x2, w.t());
    y.narrow(1, begin, end - begin).copy_(part);
  });
  auto sizes = x.sizes().vec();
  sizes.back() = out;
  return y.view(sizes);
}

torch::Tensor float32_linear(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias, bool prefer_blas) {
  const int64_t in = weight.size(1);
  const int64_t rows = x.numel() / std::max<int64_t>(in, 1);
  // Autograd (the trainer) needs LibTorch's own differentiable product.
  if (x.requires_grad() || weight.requires_grad()) return torch::linear(x, weight, bias);
  if (rows < kOneDnnMinRows || prefer_blas) return blas_linear(x, weight, bias, rows);
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  if (onednn_matmul_applies(weight))
    if (auto y = onednn_matmul(x.reshape({rows, in}), weight, bias); y.defined()) return y.view(sizes);
  // A narrowed weight (the sliced output projection) must be contiguous for oneDNN's view.
  auto y = at::mkldnn_linear(x.reshape({rows, in}).contiguous().to_mkldnn(), weight.contiguous(),
                             bias.defined() ? c10::optional<torch::Tensor>(bias)
                                            : c10::optional<torch::Tensor>());
  return y.to_dense().view(sizes);
}

// float32 input × bfloat16 weights → float32. One to a few rows (a decoder step of a lone
// sentence) through bf16_gemv.h's kernel where the CPU has one, else one oneDNN product with a
// float32 result (onednn_matmul.h), else LibTorch's.
torch::Tensor low_precision_product(const torch::Tensor& x, const torch::Tensor& weight,
                                    const torch::Tensor& bias) {
  const int64_t in = weight.size(1);
  const int64_t rows = x.numel() / std::max<int64_t>(in, 1);
  if (rows <= kBf16GemvMaxRows && !x.requires_grad() && !weight.requires_grad()) {
    auto x2 = x.reshape({rows, in}).contiguous();
    if (bf16_gemv_applies(x2, weight, bias)) {
      auto sizes = x.sizes().vec();
      sizes.back() = weight.size(0);
      return bf16_gemv(x2, weight, bias).view(sizes);
    }
  }
  if (!x.requires_grad() && onednn_matmul_applies(weight)) {
    if (auto y = onednn_matmul(x.reshape({rows, in}), weight, bias); y.defined()) {
      auto sizes = x.sizes().vec();
      sizes.back() = weight.size(0);
      return y.view(sizes);
    }
  }
  // LibTorch's product returns bf16 (rounded), converted back and the bias added after.
  auto y = torch::linear(x.to(weight.scalar_type()), weight).to(x.scalar_type());
  return bias.defined() ? y.add_(bias) : y;
}

// An int8 layer over x [..., in] → [..., out], the relu (if asked) in its row-scaling pass.
torch::Tensor int8_linear(const torch::Tensor& x, const QuantizedLinear& q, bool relu) {
  auto sizes = x.sizes().vec();
  auto y = q.product->apply(x.reshape({-1, q.in_features}), relu);
  sizes.back() = q.out_features;
  return y.view(sizes);
}

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const Linear& layer) {
  if (layer.int8) return int8_linear(x, *layer.int8, false);
  if (layer.weight.scalar_type() == x.scalar_type())
    return float32_linear(x, layer.weight, layer.bias, false);
  return low_precision_product(x, layer.weight, layer.bias);
}

torch::Tensor linear_relu(const torch::Tensor& x, const Linear& layer) {
  if (layer.int8) return int8_linear(x, *layer.int8, true);
  auto y = linear(x, layer);
  return y.requires_grad() ? torch::relu(y) : y.relu_();
}

namespace {

// Whether float32 vocabulary-sized products of `rows` rows are faster through the BLAS than
// through oneDNN, timed once per row bucket, input size and thread count: which one wins
// depends on the machine and on the row count. With OpenBLAS's AVX-512 kernels the BLAS won on
// a Xeon (32000×512 at 64–256 rows: 85–149 vs 42–88 GFLOP/s); on an AMD EPYC VM the two tied
// at 64 rows (3.2 ms each for 8192 weight rows) while at 256 oneDNN ran at 264 against 137.
// So the verdict is taken at the bucket's own row count (a verdict taken at 64 rows and used at
// 256 flipped between runs and cost a whole batch ~20 %), on a synthetic weight of a fixed
// size: every slice of a sliced projection (project_into) gets the verdict the whole one gets,
// so continuous and static steps run the same kernel (slices had been timed, and decided,
// apart from the whole: 8192 and 7424 weight rows against 32000). A generic BLAS
// ("Prescott") always loses, so it is not timed.
bool blas_wins(const torch::Tensor& weight, int64_t rows) {
  if (blas_is_generic() || !onednn_matmul_applies(weight)) return false;
  int64_t bucket = kOneDnnMinRows;
  while (bucket < rows && bucket < 512) bucket *= 2;
  const int64_t in = weight.size(1);
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, int>, bool> verdicts;
  const auto key = std::make_tuple(bucket, in, at::get_num_threads());
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = verdicts.find(key); it != verdicts.end()) return it->second;
  // About 2^19 rows × weight rows (0.5 GFLOP at 512 inputs): a few milliseconds a product.
  c10::InferenceMode guard;
  const int64_t weight_rows = std::clamp<int64_t>((int64_t{1} << 19) / bucket, 2048, 8192);
  // In the weight's own layout ([out, in] or the [in, out] storage of
  // float32_inference_layout); full, not randn: the host's generator stays as it was.
  const auto w = weight.is_contiguous() ? torch::full({weight_rows, in}, 0.01f)
                                        : torch::full({in, weight_rows}, 0.01f).t();
  const auto x = torch::full({bucket, in}, 0.01f);
  const auto time = [](auto&& product) {
    const auto t0 = std::chrono::steady_clock::now();
    product();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const auto blas = [&] { blas_linear(x, w, {}, bucket); };
  const auto onednn = [&] { onednn_matmul(x, w, {}); };
  blas();    // warm-up: first touch, OpenBLAS buffers
  onednn();  // warm-up: primitive creation
  // Alternating, best of three each: a slow spell of the machine hits both.
  double best_blas = 1e30, best_onednn = 1e30;
  for (int i = 0; i < 3; ++i) {
    best_blas = std::min(best_blas, time(blas));
    best_onednn = std::min(best_onednn, time(onednn));
  }
  log::debug("float32 output projection, {} rows × {} inputs, {} threads: BLAS {:.3f} ms, "
             "oneDNN {:.3f} ms", bucket, in, at::get_num_threads(), best_blas * 1e3,
             best_onednn * 1e3);
  return verdicts[key] = best_blas < best_onednn;
}

}  // namespace

torch::Tensor project(const torch::Tensor& x, const torch::Tensor& weight) {
  if (weight.scalar_type() == x.scalar_type()) {
    const int64_t rows = x.numel() / std::max<int64_t>(weight.size(1), 1);
    return float32_linear(x, weight, {},
                          /*prefer_blas=*/rows >= kOneDnnMinRows && blas_wins(weight, rows));
  }
  return low_precision_product(x, weight, {});
}

void project_into(const torch::Tensor& x, const torch::Tensor& weight, torch::Tensor& out) {
  // The kernel project() picks for the whole weight at this row count (blas_wins decides per
  // row count, not per slice). Values agree with project()'s to float32 rounding: a BLAS may
  // sum a slice in another order than the whole product.
  const int64_t rows = x.size(0);
  const bool onednn = weight.scalar_type() == x.scalar_type()
                          ? rows >= kOneDnnMinRows && !blas_wins(weight, rows)  // float32_linear's
                          : rows > kBf16GemvMaxRows;  // low_precision_product's
  if (onednn && x.dim() == 2 && !x.requires_grad() && !weight.requires_grad() &&
      onednn_matmul_applies(weight) && onednn_matmul_into(x, weight, {}, out))
    return;
  out.copy_(project(x, weight));
}

}  // namespace tolk::model
