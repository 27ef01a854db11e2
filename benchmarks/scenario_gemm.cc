// scenario_gemm.cc — `tolk_bench --scenario gemm`: the machine's matrix-product rate for the
// model's shapes, per compute type and thread count (the roofline of the other scenarios).
#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

#include "gemm_probe.h"
#include "scenarios.h"

namespace tolk::bench {

const char* const kGemmSummary = "matrix-product GFLOP/s for the model's shapes, per compute type";
const char* const kGemmFlags =
    "      --model DIR             shapes from its config.json (default the 60M benchmark model)\n"
    "      --compute-types LIST    float32,bfloat16,int8 (default all three)\n"
    "      --threads LIST          intra-op threads (default 1,2)\n"
    "      --rows LIST             rows per product (default 1,8,64,256)\n"
    "      --repeats N             timings per point, median reported (default 3)\n";

std::vector<int64_t> int_list(Flags& f, const std::string& name, const std::string& fallback) {
  std::vector<int64_t> out;
  for (const auto& item : split_list(f.get_string(name, fallback))) {
    size_t used = 0;
    const long long v = std::stoll(item, &used);
    if (used != item.size() || v < 1)
      throw std::invalid_argument(fmt::format("--{}: '{}' is not a positive integer", name, item));
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--" + name + " is empty");
  return out;
}

std::vector<std::string> compute_type_list(Flags& f, const std::string& fallback) {
  auto types = split_list(f.get_string("compute-types", fallback));
  for (const auto& t : types)
    if (t != "float32" && t != "bfloat16" && t != "int8")
      throw std::invalid_argument("unknown compute type '" + t + "' (float32, bfloat16, int8)");
  if (types.empty()) throw std::invalid_argument("--compute-types is empty");
  return types;
}

std::string default_bench_model() { return "build/bench-models/nllb-60m-random"; }

int run_gemm(Flags& flags, const Context& ctx) {
  const std::string model = flags.get_string("model", default_bench_model());
  const auto types = compute_type_list(flags);
  const auto threads = int_list(flags, "threads", "1,2");
  const auto rows = int_list(flags, "rows", "1,8,64,256");
  const int repeats = static_cast<int>(int_list(flags, "repeats", "3").at(0));
  require_all_flags_used(flags);
  const ModelShape shape = read_model_shape(model);
  const auto shapes = model_gemm_shapes(shape);

  Json report = Json::object();
  report.set("model", model).set("repeats", repeats);
  Json points = Json::array(), peaks = Json::array(), bandwidth = Json::object();
  std::string header = fmt::format("{:<9} {:>3} {:>5}", "type", "thr", "rows");
  for (const auto& s : shapes)
    header += fmt::format(" {:>16}", fmt::format("{} {}x{}", s.name, s.out, s.in));
  fmt::print("GFLOP/s of [rows, in] x [out, in]^T (median of {})\n{}\n", repeats, header);
  std::string summary;
  for (const int64_t t : threads) {
    const double gbps = memory_read_gbps(static_cast<int>(t), repeats);
    bandwidth.set(std::to_string(t), gbps);
    summary += fmt::format("  threads {}: memory read {:.1f} GB/s\n", t, gbps);
    for (const auto& type : types) {
      double peak = 0;
      std::string peak_at;
      for (const int64_t m : rows) {
        std::string line = fmt::format("{:<9} {:>3} {:>5}", type, t, m);
        for (const auto& s : shapes) {
          const double g = gemm_gflops(type, m, s, static_cast<int>(t), repeats);
          line += fmt::format(" {:>16.1f}", g);
          points.push(Json::object().set("compute_type", type).set("threads", t).set("rows", m)
                          .set("shape", s.name).set("out", s.out).set("in", s.in).set("gflops", g));
          if (g > peak) {
            peak = g;
            peak_at = fmt::format("{} rows {}", s.name, m);
          }
        }
        fmt::print("{}\n", line);
        std::fflush(stdout);
      }
      peaks.push(Json::object().set("compute_type", type).set("threads", t).set("gflops", peak)
                     .set("at", peak_at));
      summary += fmt::format("  threads {}: {:<9} peak {:7.1f} GFLOP/s ({})\n", t, type, peak, peak_at);
    }
  }
  fmt::print("\n{}", summary);
  report.set("points", points).set("peaks", peaks).set("memory_read_gbps", bandwidth);
  return write_json_report(ctx, "gemm", report);
}

}  // namespace tolk::bench
