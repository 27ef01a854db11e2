// status.cc — names of status codes (stable: the C ABI and the CLI print them).
#include "tolk/status.h"

namespace tolk {

const char* status_code_name(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kInvalidUtf8: return "INVALID_UTF8";
    case StatusCode::kUnknownModel: return "UNKNOWN_MODEL";
    case StatusCode::kUnknownLanguage: return "UNKNOWN_LANGUAGE";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kFileNotFound: return "FILE_NOT_FOUND";
    case StatusCode::kInvalidModel: return "INVALID_MODEL";
    case StatusCode::kUnsupportedModel: return "UNSUPPORTED_MODEL";
    case StatusCode::kInputTooLong: return "INPUT_TOO_LONG";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kTimeout: return "TIMEOUT";
    case StatusCode::kQueueFull: return "QUEUE_FULL";
    case StatusCode::kShutdown: return "SHUTDOWN";
    case StatusCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN_STATUS";
}

}  // namespace tolk
