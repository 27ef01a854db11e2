// log.h — a minimal leveled logger to stderr, configured once by the engine.
#pragma once

#include <fmt/format.h>

#include <string>

namespace tolk::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_level(Level level) noexcept;
bool enabled(Level level) noexcept;
// Parses "debug" / "info" / "warn" / "error" / "off"; throws kInvalidArgument otherwise.
Level parse_level(const std::string& name);
void write(Level level, const std::string& message);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace tolk::log
