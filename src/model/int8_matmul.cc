// int8_matmul.cc — see int8_matmul.h.
#include "model/int8_matmul.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "model/int8_rows.h"
#include "model/onednn_engine.h"

namespace tolk::model {

namespace {

using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

// Rows per task of the per-row loops: enough work to be worth a thread.
int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, width)); }

}  // namespace

struct Int8Matmul::Primitive {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul matmul;
  torch::Tensor packed;  // the int8 weights in pd.weights_desc()'s layout (a byte buffer)
  dnnl::memory weights;
  int64_t scratchpad_bytes = 0;
};

Int8Matmul::Int8Matmul(const torch::Tensor& weight, const torch::Tensor& bias)
    : in_(weight.size(1)), out_(weight.size(0)) {
  torch::NoGradGuard no_grad;
  const auto w = weight.to(torch::kFloat32).contiguous();
  auto scales = (w.abs().amax(1) / 127.0).contiguous();
  scales = torch::where(scales > 0, scales, torch::ones_like(scales));
  const auto q = (w / scales.unsqueeze(1)).round().clamp(-127, 127).to(torch::kChar).contiguous();
  if (bias.defined()) bias_ = bias.to(torch::kFloat32).contiguous().clone();

  const auto& engine = onednn_cpu_engine();
  const dnnl::memory::dim K = in_, N = out_, M = DNNL_RUNTIME_DIM_VAL;
  dnnl::primitive_attr attr;
  // Column n of the int32 product times scale[n] is x_q·W_nᵀ in float; the row's input scale
  // is applied afterwards (apply), so the primitive serves every input.
  const float* s = scales.data_ptr<float>();
  attr.set_output_scales(1 << 1, std::vector<float>(s, s + out_));
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  const dnnl::memory::desc src_md({M, K}, dt::s8, tag::ab);
  const dnnl::memory::desc dst_md({M, N}, dt::f32, tag::ab);
  auto make = [&](tag weight_tag) {
    const dnnl::memory::desc wei_md({K, N}, dt::s8, weight_tag);
    return dnnl::matmul::primitive_desc(dnnl::matmul::desc(src_md, wei_md, dst_md), attr, engine);
  };
  prim_ = std::make_unique<Primitive>();
  try {
    prim_->pd = make(tag::any);  // the layout the implementation prefers
  } catch (const dnnl::error&) {
    try {
      prim_->pd = make(tag::ba);  // W [out, in] as it is: the [in, out] matrix, column-major
    } catch (const dnnl::error& e) {
      throw std::runtime_error(std::string("oneDNN has no int8 matrix product here: ") + e.what());
    }
  }
  prim_->matmul = dnnl::matmul(prim_->pd);
  prim_->scratchpad_bytes = static_cast<int64_t>(prim_->pd.scratchpad_desc().get_size());

  // Pack the weights once: [out, in] row-major is the {in, out} matrix in layout "ba".
  const auto packed_md = prim_->pd.weights_desc();
  prim_->packed = torch::empty({static_cast<int64_t>(packed_md.get_size())}, torch::kUInt8);
  prim_->weights = dnnl::memory(packed_md, engine, prim_->packed.data_ptr());
  dnnl::memory plain(dnnl::memory::desc({K, N}, dt::s8, tag::ba), engine, q.data_ptr());
  dnnl::stream stream(engine);
  dnnl::reorder(plain, prim_->weights).execute(stream, plain, prim_->weights);
  stream.wait();
}

Int8Matmul::~Int8Matmul() = default;

int64_t Int8Matmul::bytes() const {
  return prim_->packed.numel() + out_ * 4 + (bias_.defined() ? out_ * 4 : 0);
}

torch::Tensor Int8Matmul::apply(const torch::Tensor& x_in, bool relu) const {
  const auto x = x_in.to(torch::kFloat32).contiguous();
  const int64_t rows = x.size(0), in = in_, out = out_;
  auto y = torch::empty({rows, out}, x.options());
  if (rows == 0) return y;
  auto xq = torch::empty({rows, in}, torch::kChar);
  std::vector<float> row_scale(static_cast<size_t>(rows));

  // Per-row symmetric quantization: the row's largest magnitude maps to 127.
  const float* xp = x.data_ptr<float>();
  int8_t* qp = xq.data_ptr<int8_t>();
  at::parallel_for(0, rows, row_grain(in), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      row_scale[static_cast<size_t>(r)] = quantize_row_int8(xp + r * in, in, qp + r * in);
  });

  const auto& engine = onednn_cpu_engine();
  dnnl::memory src(dnnl::memory::desc({rows, in}, dt::s8, tag::ab), engine, xq.data_ptr());
  dnnl::memory dst(dnnl::memory::desc({rows, out}, dt::f32, tag::ab), engine, y.data_ptr());
  // Each call brings its own scratchpad, so concurrent calls share nothing but the weights.
  auto scratch = torch::empty({std::max<int64_t>(1, prim_->scratchpad_bytes)}, torch::kUInt8);
  dnnl::memory scratchpad(prim_->pd.scratchpad_desc(), engine, scratch.data_ptr());
  dnnl::stream stream(engine);
  prim_->matmul.execute(stream, {{DNNL_ARG_SRC, src},
                                 {DNNL_ARG_WEIGHTS, prim_->weights},
                                 {DNNL_ARG_DST, dst},
                                 {DNNL_ARG_SCRATCHPAD, scratchpad}});
  stream.wait();

  // Each row times its input scale, plus the bias (and the activation).
  float* yp = y.data_ptr<float>();
  const float* bp = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
  at::parallel_for(0, rows, row_grain(out), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      scale_row_add_bias(yp + r * out, out, row_scale[static_cast<size_t>(r)], bp, relu);
  });
  return y;
}

}  // namespace tolk::model
