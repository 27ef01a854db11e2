// onednn_engine.h — the one oneDNN CPU engine tolk's own primitives run on (int8_matmul.h,
// onednn_matmul.h): created once, shared by every primitive and call.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace tolk::model {

const dnnl::engine& onednn_cpu_engine();

}  // namespace tolk::model
