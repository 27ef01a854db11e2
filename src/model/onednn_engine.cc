// onednn_engine.cc — see onednn_engine.h.
#include "model/onednn_engine.h"

namespace tolk::model {

const dnnl::engine& onednn_cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

}  // namespace tolk::model
