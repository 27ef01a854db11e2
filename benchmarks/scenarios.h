// scenarios.h — the table of tolk_bench scenarios. A scenario is one function; add a row to
// kScenarios in tolk_bench.cc to add one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"

namespace tolk::bench {

struct Context {
  std::string self_exe;                 // this program, to re-run itself (per-mode isolation)
  std::vector<std::string> args;        // the command line after the program name
  std::optional<std::string> json_path; // --json PATH: where the scenario writes its report
  // --row-out PATH (internal): this process is a child run by the scenario itself; it writes
  // its one result row there and prints no header, table or JSON.
  std::optional<std::string> row_out;
  MachineInfo machine;
};

// Throws std::invalid_argument naming any flag the scenario did not read.
void require_all_flags_used(const Flags& flags);

// Writes {benchmark, scenario, tolk_version, machine, ...body's fields} to --json PATH when it
// was given. Returns 0, or 1 (with a message) when the file cannot be written.
int write_json_report(const Context& ctx, const std::string& scenario, const Json& body);

// Returns the process exit status: 0 when every configuration ran (a configuration that fails
// to load is still reported, with its error, and makes the status 1).
using ScenarioFn = int (*)(Flags& flags, const Context& ctx);

struct Scenario {
  const char* name;
  const char* summary;
  const char* flags_help;
  ScenarioFn run;
};

int run_incident(Flags& flags, const Context& ctx);
int run_gemm(Flags& flags, const Context& ctx);
int run_throughput(Flags& flags, const Context& ctx);
int run_latency(Flags& flags, const Context& ctx);
int run_scaling(Flags& flags, const Context& ctx);
int run_efficiency(Flags& flags, const Context& ctx);
extern const char* const kGemmSummary;
extern const char* const kGemmFlags;
extern const char* const kThroughputSummary;
extern const char* const kThroughputFlags;
extern const char* const kLatencySummary;
extern const char* const kLatencyFlags;
extern const char* const kScalingSummary;
extern const char* const kScalingFlags;
extern const char* const kEfficiencySummary;
extern const char* const kEfficiencyFlags;

// Flag helpers shared by the speed scenarios (scenario_gemm.cc).
std::vector<int64_t> int_list(Flags& f, const std::string& name, const std::string& fallback);
std::vector<std::string> compute_type_list(Flags& f, const std::string& fallback = "float32,bfloat16,int8");  // --compute-types, checked
std::string default_bench_model();                     // the 60M random model's directory
extern const char* const kIncidentSummary;
extern const char* const kIncidentFlags;

}  // namespace tolk::bench
