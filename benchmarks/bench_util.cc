// bench_util.cc — see bench_util.h.
#include "bench_util.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

namespace tolk::bench {

// ---- flags --------------------------------------------------------------------------------

Flags::Flags(const std::vector<std::string>& argv, const std::set<std::string>& switches) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() < 3)
      throw std::invalid_argument("unexpected argument '" + arg + "' (flags start with --)");
    std::string name = arg.substr(2), value;
    const auto eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (switches.count(name)) {
      value = "1";
    } else {
      if (i + 1 >= argv.size()) throw std::invalid_argument("--" + name + " expects a value");
      value = argv[++i];
    }
    values_[name] = value;  // a later occurrence wins
  }
}

bool Flags::has(const std::string& name) const { return values_.count(name) != 0; }

bool Flags::get_switch(const std::string& name) {
  used_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return false;
  if (it->second == "1" || it->second == "true" || it->second == "yes") return true;
  if (it->second == "0" || it->second == "false" || it->second == "no") return false;
  throw std::invalid_argument("--" + name + " takes no value (or =true/=false)");
}

std::optional<std::string> Flags::get_optional_string(const std::string& name) {
  used_.insert(name);
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Flags::get_string(const std::string& name, const std::string& fallback) {
  return get_optional_string(name).value_or(fallback);
}

std::optional<int64_t> Flags::get_optional_int(const std::string& name) {
  auto s = get_optional_string(name);
  if (!s) return std::nullopt;
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(*s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s->size())
    throw std::invalid_argument("--" + name + " expects an integer, got '" + *s + "'");
  return v;
}

int64_t Flags::get_int(const std::string& name, int64_t fallback) {
  return get_optional_int(name).value_or(fallback);
}

std::optional<double> Flags::get_optional_double(const std::string& name) {
  auto s = get_optional_string(name);
  if (!s) return std::nullopt;
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(*s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s->size())
    throw std::invalid_argument("--" + name + " expects a number, got '" + *s + "'");
  return v;
}

double Flags::get_double(const std::string& name, double fallback) {
  return get_optional_double(name).value_or(fallback);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<std::string> Flags::unused() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : values_)
    if (!used_.count(name)) out.push_back("--" + name);
  return out;
}

// ---- machine ------------------------------------------------------------------------------

MachineInfo machine_info() {
  MachineInfo m;
  const char* kFlags[] = {"avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile",
                          "amx_bf16", "amx_int8"};
  for (const char* f : kFlags) m.flags[f] = false;
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical_id, core_id;
  bool flags_read = false;
  auto value_of = [](const std::string& l) {
    const auto colon = l.find(':');
    if (colon == std::string::npos) return std::string();
    auto v = l.substr(colon + 1);
    const auto start = v.find_first_not_of(" \t");
    return start == std::string::npos ? std::string() : v.substr(start);
  };
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!core_id.empty()) cores.insert({physical_id, core_id});
      physical_id.clear();
      core_id.clear();
      continue;
    }
    const std::string key = line.substr(0, line.find_first_of("\t:"));
    if (key == "model name" && m.cpu_model.empty()) m.cpu_model = value_of(line);
    else if (key == "physical id") physical_id = value_of(line);
    else if (key == "core id") core_id = value_of(line);
    else if (key == "flags" && !flags_read) {
      flags_read = true;
      std::istringstream words(value_of(line));
      std::string w;
      while (words >> w)
        if (m.flags.count(w)) m.flags[w] = true;
    }
  }
  if (!core_id.empty()) cores.insert({physical_id, core_id});
  m.physical_cores = static_cast<int>(cores.size());
  m.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) m.affinity_cpus = CPU_COUNT(&set);
  struct utsname u;
  if (uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  std::ifstream meminfo("/proc/meminfo");
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      m.mem_total_mb = std::stoll(value_of(line)) / 1024;
      break;
    }
  }
  if (m.cpu_model.empty()) m.cpu_model = "unknown";
  std::ifstream maps("/proc/self/maps");
  std::set<std::string> libs;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string file = path.substr(path.rfind('/') + 1);
    if (file.find("blas") == std::string::npos && file.find("mkl") == std::string::npos &&
        file.find("blis") == std::string::npos)
      continue;
    char resolved[PATH_MAX];
    libs.insert(realpath(path.c_str(), resolved) ? std::string(resolved) : path);
  }
  m.blas_libraries.assign(libs.begin(), libs.end());
  for (const char* name : {"OPENBLAS_CORETYPE", "OPENBLAS_THREAD_TIMEOUT", "GLIBC_TUNABLES",
                           "OMP_NUM_THREADS", "OMP_WAIT_POLICY"})
    if (const char* v = std::getenv(name)) m.environment.push_back(fmt::format("{}={}", name, v));
  return m;
}

std::string describe(const MachineInfo& m) {
  std::string flags;
  for (const auto& [name, on] : m.flags) flags += fmt::format(" {}={}", name, on ? "yes" : "no");
  return fmt::format(
      "cpu:     {}\n"
      "cores:   {} logical, {} physical, {} usable by this process; {} MiB memory; {}\n"
      "flags:  {}\n"
      "blas:    {}\n"
      "env:     {}\n",
      m.cpu_model, m.logical_cpus,
      m.physical_cores > 0 ? std::to_string(m.physical_cores) : std::string("?"), m.affinity_cpus,
      m.mem_total_mb, m.kernel, flags,
      m.blas_libraries.empty() ? std::string("none mapped") : fmt::format("{}", fmt::join(m.blas_libraries, ", ")),
      m.environment.empty() ? std::string("(none of the settings that matter)")
                            : fmt::format("{}", fmt::join(m.environment, " ")));
}

// ---- memory -------------------------------------------------------------------------------

Json machine_json(const MachineInfo& m) {
  Json j = Json::object();
  j.set("cpu_model", m.cpu_model);
  j.set("logical_cpus", m.logical_cpus);
  j.set("physical_cores", m.physical_cores);
  j.set("affinity_cpus", m.affinity_cpus);
  j.set("mem_total_mib", m.mem_total_mb);
  j.set("kernel", m.kernel);
  j.set("blas_libraries", m.blas_libraries);
  j.set("environment", m.environment);
  Json flags = Json::object();
  for (const auto& [name, on] : m.flags) flags.set(name, on);
  j.set("flags", flags);
  return j;
}

double vm_mib(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream rest(line.substr(prefix.size()));
    double kb = 0;
    if (rest >> kb) return kb / 1024.0;
  }
  return -1.0;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "?";
  return a + " " + b + " " + c;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// ---- statistics ---------------------------------------------------------------------------

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

double median(const std::vector<double>& v) { return percentile(v, 50.0); }

double max_of(const std::vector<double>& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : *std::max_element(v.begin(), v.end());
}

double min_of(const std::vector<double>& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : *std::min_element(v.begin(), v.end());
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// ---- JSON ---------------------------------------------------------------------------------

Json::Json(bool v) : kind_(Kind::kBool), bool_(v) {}
Json::Json(int v) : kind_(Kind::kInt), int_(v) {}
Json::Json(int64_t v) : kind_(Kind::kInt), int_(v) {}
Json::Json(double v) : kind_(Kind::kNumber), number_(v) {}
Json::Json(const char* v) : kind_(Kind::kString), string_(v) {}
Json::Json(std::string v) : kind_(Kind::kString), string_(std::move(v)) {}
Json::Json(const std::vector<double>& v) : kind_(Kind::kArray) {
  for (double x : v) items_.emplace_back(x);
}
Json::Json(const std::vector<std::string>& v) : kind_(Kind::kArray) {
  for (const auto& x : v) items_.emplace_back(x);
}

Json Json::object() {
  Json j;
  j.kind_ = Kind::kObject;
  return j;
}

Json Json::array() {
  Json j;
  j.kind_ = Kind::kArray;
  return j;
}

Json Json::raw(std::string json_text) {
  Json j;
  j.kind_ = Kind::kRaw;
  j.string_ = std::move(json_text);
  return j;
}

Json& Json::set(const std::string& key, Json value) {
  if (kind_ != Kind::kObject) throw std::logic_error("Json::set on a non-object");
  for (auto& f : fields_)
    if (f.first == key) {
      f.second = std::move(value);
      return *this;
    }
  fields_.emplace_back(key, std::move(value));
  return *this;
}

Json& Json::push(Json value) {
  if (kind_ != Kind::kArray) throw std::logic_error("Json::push on a non-array");
  items_.push_back(std::move(value));
  return *this;
}

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

void Json::write(std::string& out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent <= 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * d), ' ');
  };
  switch (kind_) {
    case Kind::kNull: out += "null"; break;
    case Kind::kBool: out += bool_ ? "true" : "false"; break;
    case Kind::kInt: out += std::to_string(int_); break;
    case Kind::kNumber:
      if (std::isfinite(number_)) out += fmt::format("{}", number_);
      else out += "null";
      break;
    case Kind::kString: out += json_escape(string_); break;
    case Kind::kRaw: out += string_; break;
    case Kind::kArray: {
      // Arrays of scalars stay on one line; they are mostly samples.
      bool scalars = true;
      for (const auto& i : items_) scalars = scalars && i.kind_ != Kind::kArray && i.kind_ != Kind::kObject;
      out += '[';
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out += scalars ? ", " : ",";
        if (!scalars) newline(depth + 1);
        items_[i].write(out, indent, depth + 1);
      }
      if (!scalars && !items_.empty()) newline(depth);
      out += ']';
      break;
    }
    case Kind::kObject: {
      out += '{';
      for (size_t i = 0; i < fields_.size(); ++i) {
        if (i) out += ',';
        newline(depth + 1);
        out += json_escape(fields_[i].first);
        out += indent > 0 ? ": " : ":";
        fields_[i].second.write(out, indent, depth + 1);
      }
      if (!fields_.empty()) newline(depth);
      out += '}';
      break;
    }
  }
}

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

// ---- files --------------------------------------------------------------------------------

bool write_text_file(const std::string& path, const std::string& text, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (out) out.flush();
  if (!out) {
    if (error) *error = "cannot write " + path;
    return false;
  }
  return true;
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace tolk::bench
