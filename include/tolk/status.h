// tolk/status.h — status codes and the one exception type tolk throws.
//
// Every failure inside tolk is a tolk::Error carrying a StatusCode, so the C ABI can map it to
// a tolk_status without guessing from message text.
#pragma once

#include <stdexcept>
#include <string>

namespace tolk {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,   // a bad parameter value (option out of range, NULL, empty name…)
  kInvalidUtf8 = 2,       // input text is not valid UTF-8
  kUnknownModel = 3,      // no model loaded under that name
  kUnknownLanguage = 4,   // language code not known to the model's tokenizer
  kAlreadyExists = 5,     // a model is already loaded under that name
  kFileNotFound = 6,      // a required model file is missing or unreadable
  kInvalidModel = 7,      // a model file is corrupt, truncated, hostile or inconsistent
  kUnsupportedModel = 8,  // a well-formed model tolk does not support (architecture, activation…)
  kInputTooLong = 9,      // input exceeds a configured or model limit
  kCancelled = 10,        // the request was cancelled
  kTimeout = 11,          // the request's deadline passed
  kQueueFull = 12,        // admission refused: too many queued requests
  kShutdown = 13,         // the engine or model is shutting down
  kInternal = 14,         // a bug or an unexpected runtime failure
};

// Stable upper-snake name of a code ("INVALID_ARGUMENT"); "UNKNOWN_STATUS" for other values.
const char* status_code_name(StatusCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(StatusCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  StatusCode code() const noexcept { return code_; }

 private:
  StatusCode code_;
};

}  // namespace tolk
