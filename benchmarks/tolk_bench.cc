// tolk_bench.cc — tolk's benchmarks (scheduling and speed), one program, scenarios by flag.
//
//   tolk_bench --list
//   tolk_bench --scenario incident [--quick] [--json out.json] [scenario flags]
//
// Every run prints the machine first (CPU, cores, the instruction-set flags that decide
// LibTorch's kernels, tolk's version), then the scenario's table; --json writes the same
// numbers, with every raw sample, for later comparison.
#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "bench_util.h"
#include "scenarios.h"
#include "tolk/engine.h"

namespace tolk::bench {

void require_all_flags_used(const Flags& flags) {
  const auto unused = flags.unused();
  if (unused.empty()) return;
  std::string names;
  for (const auto& n : unused) names += (names.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown flag(s) for this scenario: " + names);
}

int write_json_report(const Context& ctx, const std::string& scenario, const Json& body) {
  if (!ctx.json_path) return 0;
  Json j = Json::object();
  j.set("benchmark", "tolk_bench");
  j.set("scenario", scenario);
  j.set("tolk_version", tolk::version());
  j.set("machine", machine_json(ctx.machine));
  j.set("results", body);
  std::string error;
  if (!write_text_file(*ctx.json_path, j.dump() + "\n", &error)) {
    fmt::print(stderr, "tolk_bench: {}\n", error);
    return 1;
  }
  fmt::print("\nwrote {}\n", *ctx.json_path);
  return 0;
}

namespace {

const Scenario kScenarios[] = {
    {"incident", kIncidentSummary, kIncidentFlags, &run_incident},
    {"gemm", kGemmSummary, kGemmFlags, &run_gemm},
    {"throughput", kThroughputSummary, kThroughputFlags, &run_throughput},
    {"latency", kLatencySummary, kLatencyFlags, &run_latency},
    {"scaling", kScalingSummary, kScalingFlags, &run_scaling},
    {"efficiency", kEfficiencySummary, kEfficiencyFlags, &run_efficiency},
};

const Scenario* find_scenario(const std::string& name) {
  for (const auto& s : kScenarios)
    if (name == s.name) return &s;
  return nullptr;
}

std::string self_exe(const char* argv0) {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0) return std::string(buf, static_cast<size_t>(n));
  return argv0;
}

void usage(std::FILE* out) {
  std::string text =
      "usage: tolk_bench --scenario NAME [--json PATH] [scenario flags]\n"
      "       tolk_bench --list | --help\n\nscenarios:\n";
  for (const auto& s : kScenarios)
    text += fmt::format("  {:<10} {}\n{}\n", s.name, s.summary, s.flags_help);
  std::fputs(text.c_str(), out);
}

}  // namespace
}  // namespace tolk::bench

int main(int argc, char** argv) {
  using namespace tolk::bench;
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    Flags flags(args, {"list", "help", "quick", "in-process"});
    if (flags.get_switch("help")) {
      usage(stdout);
      return 0;
    }
    if (flags.get_switch("list")) {
      for (const auto& s : kScenarios) fmt::print("{:<10} {}\n", s.name, s.summary);
      return 0;
    }
    const auto name = flags.get_optional_string("scenario");
    if (!name) {
      usage(stderr);
      return 2;
    }
    const Scenario* scenario = find_scenario(*name);
    if (!scenario) {
      fmt::print(stderr, "unknown scenario '{}' (see --list)\n", *name);
      return 2;
    }
    Context ctx;
    ctx.self_exe = self_exe(argv[0]);
    ctx.args = args;
    ctx.json_path = flags.get_optional_string("json");
    ctx.row_out = flags.get_optional_string("row-out");
    ctx.machine = machine_info();
    if (!ctx.row_out) {
      fmt::print("tolk_bench: scenario {}\n{}tolk:    {}\nload:    {} (1, 5, 15 min; other work "
                 "on the machine skews every timing)\n\n",
                 scenario->name, describe(ctx.machine), tolk::version(), load_average());
      std::fflush(stdout);
    }
    return scenario->run(flags, ctx);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "tolk_bench: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "tolk_bench: {}\n", e.what());
    return 1;
  }
}
