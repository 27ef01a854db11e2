// bench_util.h — what every tolk benchmark scenario needs: command-line flags, the machine's
// facts, process memory, statistics and a small JSON writer. No LibTorch, public API only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace tolk::bench {

// ---- flags --------------------------------------------------------------------------------
// "--name value" and "--name=value"; the names in `switches` take no value ("--quick").
// Every getter marks its flag as used; unused() lists the flags no scenario asked for.
class Flags {
 public:
  Flags(const std::vector<std::string>& argv, const std::set<std::string>& switches);

  bool has(const std::string& name) const;
  bool get_switch(const std::string& name);
  std::string get_string(const std::string& name, const std::string& fallback);
  std::optional<std::string> get_optional_string(const std::string& name);
  int64_t get_int(const std::string& name, int64_t fallback);
  std::optional<int64_t> get_optional_int(const std::string& name);
  double get_double(const std::string& name, double fallback);
  std::optional<double> get_optional_double(const std::string& name);
  std::vector<std::string> unused() const;

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

// "a,b,,c" → {"a", "b", "c"}
std::vector<std::string> split_list(const std::string& s);

// ---- machine ------------------------------------------------------------------------------
struct MachineInfo {
  std::string cpu_model;        // /proc/cpuinfo "model name"
  int logical_cpus = 0;         // online processors
  int physical_cores = 0;       // distinct (physical id, core id) pairs; 0 if unknown
  int affinity_cpus = 0;        // CPUs this process may run on (sched_getaffinity)
  std::map<std::string, bool> flags;  // avx2, avx512f, avx512_bf16, amx_bf16, ...
  std::string kernel;           // uname -sr
  int64_t mem_total_mb = 0;     // /proc/meminfo MemTotal
  // BLAS/LAPACK libraries mapped into this process (LibTorch's matrix products go through them
  // on Debian's build): the netlib reference libblas is many times slower than OpenBLAS/MKL.
  std::vector<std::string> blas_libraries;
  // Environment settings that change the numbers (scripts/cpu-env.sh): OPENBLAS_CORETYPE,
  // OPENBLAS_THREAD_TIMEOUT, GLIBC_TUNABLES, OMP_NUM_THREADS, OMP_WAIT_POLICY — "name=value"
  // for those set.
  std::vector<std::string> environment;
};
MachineInfo machine_info();
std::string describe(const MachineInfo& m);  // multi-line, for the report header
class Json;
Json machine_json(const MachineInfo& m);

// ---- process memory (/proc/self/status), MiB; -1 when unavailable ----------------------------
double vm_mib(const char* key);  // "VmRSS", "VmHWM", ...
// The first three fields of /proc/loadavg ("1.02 0.87 0.55"): other work on the machine skews
// every timing, so reports carry it.
std::string load_average();
// Resets the peak resident size (VmHWM) to the current RSS: "5" → /proc/self/clear_refs.
bool reset_peak_rss();

// ---- time ---------------------------------------------------------------------------------
using Clock = std::chrono::steady_clock;
inline double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
inline double ms_since(Clock::time_point a) { return ms_between(a, Clock::now()); }

// ---- statistics (NaN for an empty sample) -------------------------------------------------
double percentile(std::vector<double> values, double p);  // p in [0,100], linear interpolation
double median(const std::vector<double>& values);
double max_of(const std::vector<double>& values);
double min_of(const std::vector<double>& values);
double mean(const std::vector<double>& values);

// ---- JSON ---------------------------------------------------------------------------------
// A value that keeps object keys in insertion order. NaN and infinities are written as null.
class Json {
 public:
  Json() = default;  // null
  Json(bool v);
  Json(int v);
  Json(int64_t v);
  Json(double v);
  Json(const char* v);
  Json(std::string v);
  Json(const std::vector<double>& v);
  Json(const std::vector<std::string>& v);
  static Json object();
  static Json array();
  // Text that already is JSON (e.g. TranslatorEngine::stats()), written as is. The caller
  // vouches for it; use only for output of a JSON producer.
  static Json raw(std::string json_text);

  Json& set(const std::string& key, Json value);  // objects
  Json& push(Json value);                          // arrays
  std::string dump(int indent = 2) const;

 private:
  enum class Kind { kNull, kBool, kNumber, kInt, kString, kArray, kObject, kRaw };
  void write(std::string& out, int indent, int depth) const;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  int64_t int_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> fields_;
};
std::string json_escape(const std::string& s);

// ---- files --------------------------------------------------------------------------------
bool write_text_file(const std::string& path, const std::string& text, std::string* error);
std::optional<std::string> read_text_file(const std::string& path);

}  // namespace tolk::bench
