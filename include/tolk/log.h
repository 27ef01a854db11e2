// tolk/log.h — where tolk's log lines go.
//
// Lines are written to stderr by default. A host application that has its own logging installs
// a sink; the level filter is EngineOptions::log_level (process-wide, like the sink).
#pragma once

#include <functional>
#include <string>

namespace tolk {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Receives one line (no trailing newline) on the thread that logged it: an engine thread or a
// caller's. Calls are serialised, so a sink needs no lock of its own; it must return quickly and
// must not call set_log_sink.
using LogSink = std::function<void(LogLevel level, const std::string& message)>;

// Replaces the process-wide sink; an empty function restores stderr. Thread-safe. Once it
// returns, the previous sink is never called again.
void set_log_sink(LogSink sink);

}  // namespace tolk
