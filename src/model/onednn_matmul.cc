// onednn_matmul.cc — see onednn_matmul.h.
#include "model/onednn_matmul.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "model/onednn_engine.h"

namespace tolk::model {
namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

struct Primitive {
  bool made = false;  // false: oneDNN has no implementation of it on this CPU
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul matmul;
};

// (operand type, in, out, weights stored [in, out], has bias, result row stride) → its
// primitive. A model has a handful of shapes; entries are never removed, so references stay
// valid.
const Primitive& primitive_for(dt type, int64_t in, int64_t out, bool in_out_layout, bool bias,
                               int64_t dst_row_stride) {
  static std::mutex mutex;
  static std::map<std::tuple<dt, int64_t, int64_t, bool, bool, int64_t>, std::unique_ptr<Primitive>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = cache[{type, in, out, in_out_layout, bias, dst_row_stride}];
  if (!slot) try {
    const dnnl::memory::dim K = in, N = out, M = DNNL_RUNTIME_DIM_VAL;
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    // The weights as the {in, out} matrix: [in, out] row-major is "ab", [out, in] is "ba".
    const dnnl::memory::desc wei({K, N}, type, in_out_layout ? tag::ab : tag::ba);
    const dnnl::memory::desc src({M, K}, type, tag::ab), dst({M, N}, dt::f32, {dst_row_stride, 1});
    auto p = std::make_unique<Primitive>();
    p->pd = bias ? dnnl::matmul::primitive_desc(
                       dnnl::matmul::desc(src, wei, dnnl::memory::desc({1, N}, dt::f32, tag::ab), dst),
                       attr, onednn_cpu_engine())
                 : dnnl::matmul::primitive_desc(dnnl::matmul::desc(src, wei, dst), attr, onednn_cpu_engine());
    p->matmul = dnnl::matmul(p->pd);
    p->made = true;
    slot = std::move(p);
  } catch (const dnnl::error&) {
    slot = std::make_unique<Primitive>();  // bf16 on a CPU without AVX-512: remembered as absent
  }
  return *slot;
}

bool in_out_layout(const torch::Tensor& w) {
  return w.stride(0) == 1 && w.stride(1) == w.size(0);
}

}  // namespace

torch::Tensor float32_inference_layout(const torch::Tensor& weight) {
  return weight.t().contiguous().t();
}

bool onednn_matmul_applies(const torch::Tensor& w) {
  return w.defined() && (w.scalar_type() == torch::kFloat32 || w.scalar_type() == torch::kBFloat16) &&
         w.dim() == 2 && !w.requires_grad() &&
         w.size(0) > 0 && w.size(1) > 0 && (w.is_contiguous() || in_out_layout(w));
}

torch::Tensor onednn_matmul(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias) {
  auto y = torch::empty({x.size(0), weight.size(0)}, x.options().dtype(torch::kFloat32));
  return onednn_matmul_into(x, weight, bias, y) ? y : torch::Tensor();
}

bool onednn_matmul_into(const torch::Tensor& x_in, const torch::Tensor& weight,
                        const torch::Tensor& bias, torch::Tensor& y) {
  const bool bf16 = weight.scalar_type() == torch::kBFloat16;
  const auto x = bf16 ? x_in.to(torch::kBFloat16).contiguous() : x_in.contiguous();
  const dt type = bf16 ? dt::bf16 : dt::f32;
  const int64_t rows = x.size(0), in = weight.size(1), out = weight.size(0);
  TORCH_CHECK(y.scalar_type() == torch::kFloat32 && y.dim() == 2 && y.size(0) == rows &&
                  y.size(1) == out && y.stride(1) == 1 && y.stride(0) >= out,
              "onednn_matmul_into: the result must be a [rows, out] float32 view with unit column stride");
  if (rows == 0) return true;
  const bool transposed = !weight.is_contiguous();
  const auto b = bias.defined() ? bias.to(torch::kFloat32).contiguous() : bias;
  const int64_t ld = rows == 1 ? out : y.stride(0);  // one row: any stride is the dense layout
  const Primitive& p = primitive_for(type, in, out, transposed, b.defined(), ld);
  if (!p.made) return false;
  const auto& engine = onednn_cpu_engine();
  dnnl::memory src(dnnl::memory::desc({rows, in}, type, tag::ab), engine, x.data_ptr());
  dnnl::memory wei(p.pd.weights_desc(), engine, weight.data_ptr());
  dnnl::memory dst(dnnl::memory::desc({rows, out}, dt::f32, {ld, 1}), engine, y.data_ptr());
  const auto scratch_bytes = static_cast<int64_t>(p.pd.scratchpad_desc().get_size());
  auto scratch = torch::empty({std::max<int64_t>(1, scratch_bytes)}, torch::kUInt8);
  dnnl::memory scratchpad(p.pd.scratchpad_desc(), engine, scratch.data_ptr());
  std::unordered_map<int, dnnl::memory> args = {{DNNL_ARG_SRC, src},
                                                {DNNL_ARG_WEIGHTS, wei},
                                                {DNNL_ARG_DST, dst},
                                                {DNNL_ARG_SCRATCHPAD, scratchpad}};
  if (b.defined())
    args.emplace(DNNL_ARG_BIAS, dnnl::memory(dnnl::memory::desc({1, out}, dt::f32, tag::ab), engine,
                                             b.data_ptr()));
  dnnl::stream stream(engine);
  p.matmul.execute(stream, args);
  stream.wait();
  return true;
}

}  // namespace tolk::model
