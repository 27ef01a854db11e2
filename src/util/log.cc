// log.cc — see log.h. One line per call, written with a single fputs so lines never interleave.
#include "util/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "tolk/log.h"
#include "tolk/status.h"

namespace tolk::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kWarn)};
// Held while a line is written: it serialises the sink's calls, and set_log_sink() waits for
// the call in progress, so a replaced sink is never called after set_log_sink returns.
std::mutex g_sink_mutex;
LogSink g_sink;
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
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  if (g_sink) {
    try {
      g_sink(static_cast<LogLevel>(level), message);
    } catch (...) {
      // A throwing sink must not turn a log line into a failed request.
    }
    return;
  }
  const std::string line = fmt::format("[tolk {}] {}\n", name(level), message);
  std::fputs(line.c_str(), stderr);
}

}  // namespace tolk::log

namespace tolk {

void set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(log::g_sink_mutex);
  log::g_sink = std::move(sink);
}

}  // namespace tolk
