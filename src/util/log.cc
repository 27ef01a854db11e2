// log.cc — see log.h. One line per call, written with a single fputs so lines never interleave.
#include "util/log.h"

#include <atomic>
#include <cstdio>

#include "tolk/status.h"

namespace tolk::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kWarn)};
const char* name(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    default: return "off";
  }
}
}  // namespace

void set_level(Level level) noexcept { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) noexcept { return static_cast<int>(level) >= g_level.load(); }

Level parse_level(const std::string& s) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff})
    if (s == name(l)) return l;
  throw Error(StatusCode::kInvalidArgument,
              fmt::format("log_level '{}' is not one of debug, info, warn, error, off", s));
}

void write(Level level, const std::string& message) {
  const std::string line = fmt::format("[tolk {}] {}\n", name(level), message);
  std::fputs(line.c_str(), stderr);
}

}  // namespace tolk::log
