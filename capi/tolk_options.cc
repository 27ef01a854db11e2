// tolk_options.cc — the typed key/value options of the C ABI and their mapping onto
// tolk::TranslationOptions, tolk::ModelOptions and tolk::EngineOptions.
//
// One table lists every key with its type, the kinds of call it belongs to and the range a
// setter can check on its own. Limits that depend on other values or on the model (beam_size
// <= 64, num_hypotheses <= beam_size, …) are left to the C++ engine, which checks them at the
// call, so there is one source of truth for them.
#include <climits>
#include <cmath>
#include <initializer_list>

#include "capi_internal.h"

namespace tolk_capi {
namespace {

using tolk::Error;
using tolk::StatusCode;

enum class Type { kInt, kFloat, kString };
enum Scope : unsigned { kTranslation = 1u, kModel = 2u, kEngine = 4u };

struct KeySpec {
  const char* name;
  Type type;
  unsigned scopes;
  int64_t min;  // integer keys: the accepted range
  int64_t max;
  bool supported = true;  // false: accepted by the setter, refused by the call (no C++ field yet)
};

constexpr int64_t kI64Max = INT64_MAX;
constexpr int64_t kIntMax = INT_MAX;

const KeySpec kKeys[] = {
    // translation
    {"beam_size", Type::kInt, kTranslation, 1, kIntMax},
    {"num_hypotheses", Type::kInt, kTranslation, 1, kIntMax},
    {"max_new_tokens", Type::kInt, kTranslation, 1, kI64Max},
    {"min_new_tokens", Type::kInt, kTranslation, 0, kI64Max},
    {"length_penalty", Type::kFloat, kTranslation, 0, 0},
    {"repetition_penalty", Type::kFloat, kTranslation, 0, 0},
    {"no_repeat_ngram_size", Type::kInt, kTranslation, 0, kI64Max},
    {"sampling", Type::kInt, kTranslation, 0, 1},
    {"sampling_topk", Type::kInt, kTranslation, 0, kI64Max},
    {"sampling_topp", Type::kFloat, kTranslation, 0, 0},
    {"temperature", Type::kFloat, kTranslation, 0, 0},
    {"seed", Type::kInt, kTranslation, 0, kI64Max},
    {"priority", Type::kString, kTranslation, 0, 0},
    {"timeout_ms", Type::kInt, kTranslation, 0, kI64Max},
    {"cleanup_tokenization_spaces", Type::kInt, kTranslation, 0, 1},
    // model
    {"mode", Type::kString, kModel, 0, 0},
    {"workers", Type::kInt, kModel, 1, kIntMax},
    {"threads_per_worker", Type::kInt, kModel, 0, kIntMax},
    {"compute_type", Type::kString, kModel, 0, 0},
    {"device", Type::kString, kModel, 0, 0},
    {"max_batch_sequences", Type::kInt, kModel, 1, kI64Max},
    {"max_batch_tokens", Type::kInt, kModel, 1, kI64Max},
    {"encode_chunk_tokens", Type::kInt, kModel, 1, kI64Max},
    {"batch_window_ms", Type::kInt, kModel, 0, 60000},
    {"bulk_min_share", Type::kFloat, kModel, 0, 0},
    {"aging_ms", Type::kInt, kModel, 0, kI64Max},
    {"bulk_grace_ms", Type::kInt, kModel, 0, kI64Max},
    {"max_queued_sentences", Type::kInt, kModel, 1, kI64Max},
    {"sentence_splitting", Type::kString, kModel, 0, 0},
    {"long_sentences", Type::kString, kModel, 0, 0},
    {"max_sentences_per_request", Type::kInt, kModel, 1, kI64Max},
    {"max_input_tokens", Type::kInt, kModel, 0, kI64Max},
    {"max_input_bytes", Type::kInt, kModel, 1, kI64Max},
    {"legacy_behaviour", Type::kInt, kModel, 0, 1},
    // engine (max_queued_requests is a model key too: a per-model limit)
    {"intra_threads", Type::kInt, kEngine, 0, kIntMax},
    {"async_threads", Type::kInt, kEngine, 1, kIntMax},
    {"max_queued_requests", Type::kInt, kEngine | kModel, 1, kI64Max},
    {"log_level", Type::kString, kEngine, 0, 0},
};

const KeySpec* find_key(const std::string& key) {
  for (const auto& k : kKeys)
    if (key == k.name) return &k;
  return nullptr;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kInt: return "an integer option (tolk_options_set_int)";
    case Type::kFloat: return "a float option (tolk_options_set_float)";
    case Type::kString: return "a string option (tolk_options_set_string)";
  }
  return "?";
}

const char* scope_name(unsigned scopes) {
  if (scopes & kTranslation) return "a translation option";
  if (scopes & kModel) return "a model option (tolk_engine_load_model)";
  return "an engine option (tolk_engine_create)";
}

const char* call_name(Scope s) {
  switch (s) {
    case kTranslation: return "a translation call";
    case kModel: return "tolk_engine_load_model";
    case kEngine: return "tolk_engine_create";
  }
  return "?";
}

bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (v == a) return true;
  return false;
}

// Floats have no uniform [min, max]: these are the ranges whose violation is obvious alone.
bool float_in_range(const std::string& key, double v) {
  if (!std::isfinite(v)) return false;
  if (key == "repetition_penalty" || key == "temperature") return v > 0;
  if (key == "sampling_topp") return v > 0 && v <= 1;
  if (key == "bulk_min_share") return v >= 0 && v <= 1;
  return true;  // length_penalty: any finite value here; the engine bounds it
}

bool string_in_range(const std::string& key, const std::string& v) {
  if (key == "priority") return one_of(v, {"interactive", "normal", "bulk"});
  if (key == "mode") return one_of(v, {"exclusive", "pool", "continuous"});
  if (key == "sentence_splitting") return one_of(v, {"off", "punctuation"});
  if (key == "long_sentences") return one_of(v, {"reject", "split"});
  if (key == "log_level") return one_of(v, {"debug", "info", "warn", "error", "off"});
  return !v.empty();  // compute_type, device: the engine decides which it supports
}

// Validates the key for a setter of type `t`; returns its spec.
const KeySpec& check_key(tolk_options* o, const char* key, Type t) {
  require_non_null(o, "options");
  require_string(key, "key");
  const KeySpec* spec = find_key(key);
  if (!spec) throw Error(StatusCode::kInvalidArgument, std::string("unknown option key '") + key + "'");
  if (spec->type != t)
    throw Error(StatusCode::kInvalidArgument,
                std::string("option '") + key + "' is " + type_name(spec->type));
  return *spec;
}

// Refuses keys of other kinds of call and keys without a C++ field yet.
void check_scope(const tolk_options* o, Scope scope) {
  if (!o) return;
  for (const auto& [key, value] : o->values) {
    const KeySpec* spec = find_key(key);
    if (!(spec->scopes & scope))
      throw Error(StatusCode::kInvalidArgument, "option '" + key + "' is " + scope_name(spec->scopes) +
                                                    "; it does not apply to " + call_name(scope));
    if (scope == kModel && !spec->supported)
      throw Error(StatusCode::kInvalidArgument,
                  "model option '" + key + "' is not supported yet by this version of tolk");
  }
}

const OptionValue* get(const tolk_options* o, const char* key) {
  if (!o) return nullptr;
  auto it = o->values.find(key);
  return it == o->values.end() ? nullptr : &it->second;
}

}  // namespace

tolk::TranslationOptions translation_options(const tolk_options* o) {
  check_scope(o, kTranslation);
  tolk::TranslationOptions t;
  // Setter ranges make the narrowing casts below exact.
  if (auto v = get(o, "beam_size")) t.beam_size = static_cast<int>(std::get<int64_t>(*v));
  if (auto v = get(o, "num_hypotheses")) t.num_hypotheses = static_cast<int>(std::get<int64_t>(*v));
  if (auto v = get(o, "max_new_tokens")) t.max_new_tokens = std::get<int64_t>(*v);
  if (auto v = get(o, "min_new_tokens")) t.min_new_tokens = std::get<int64_t>(*v);
  if (auto v = get(o, "length_penalty")) t.length_penalty = std::get<double>(*v);
  if (auto v = get(o, "repetition_penalty")) t.repetition_penalty = std::get<double>(*v);
  if (auto v = get(o, "no_repeat_ngram_size")) t.no_repeat_ngram_size = std::get<int64_t>(*v);
  if (auto v = get(o, "sampling")) t.sampling = std::get<int64_t>(*v) != 0;
  if (auto v = get(o, "sampling_topk")) t.sampling_topk = std::get<int64_t>(*v);
  if (auto v = get(o, "sampling_topp")) t.sampling_topp = std::get<double>(*v);
  if (auto v = get(o, "temperature")) t.temperature = std::get<double>(*v);
  if (auto v = get(o, "seed")) t.seed = static_cast<uint64_t>(std::get<int64_t>(*v));
  if (auto v = get(o, "timeout_ms")) t.timeout_ms = std::get<int64_t>(*v);
  if (auto v = get(o, "cleanup_tokenization_spaces"))
    t.cleanup_tokenization_spaces = std::get<int64_t>(*v) != 0;
  if (auto v = get(o, "priority")) {
    const std::string& p = std::get<std::string>(*v);
    t.priority = p == "interactive" ? tolk::Priority::kInteractive
                 : p == "bulk"      ? tolk::Priority::kBulk
                                    : tolk::Priority::kNormal;
  }
  return t;
}

tolk::ModelOptions model_options(const tolk_options* o) {
  check_scope(o, kModel);
  tolk::ModelOptions m;
  if (auto v = get(o, "mode")) {
    const std::string& s = std::get<std::string>(*v);
    m.mode = s == "pool"         ? tolk::ExecutionMode::kPool
             : s == "continuous" ? tolk::ExecutionMode::kContinuous
                                 : tolk::ExecutionMode::kExclusive;
  }
  if (auto v = get(o, "workers")) m.workers = static_cast<int>(std::get<int64_t>(*v));
  if (auto v = get(o, "threads_per_worker"))
    m.threads_per_worker = static_cast<int>(std::get<int64_t>(*v));
  if (auto v = get(o, "compute_type")) m.compute_type = std::get<std::string>(*v);
  if (auto v = get(o, "device")) m.device = std::get<std::string>(*v);
  if (auto v = get(o, "max_input_tokens")) m.max_input_tokens = std::get<int64_t>(*v);
  if (auto v = get(o, "max_input_bytes")) m.max_input_bytes = std::get<int64_t>(*v);
  if (auto v = get(o, "legacy_behaviour")) m.legacy_behaviour = std::get<int64_t>(*v) != 0;
  if (auto v = get(o, "max_batch_sequences")) m.max_batch_sequences = std::get<int64_t>(*v);
  if (auto v = get(o, "max_batch_tokens")) m.max_batch_tokens = std::get<int64_t>(*v);
  if (auto v = get(o, "encode_chunk_tokens")) m.encode_chunk_tokens = std::get<int64_t>(*v);
  if (auto v = get(o, "batch_window_ms")) m.batch_window_ms = std::get<int64_t>(*v);
  if (auto v = get(o, "bulk_min_share")) m.bulk_min_share = std::get<double>(*v);
  if (auto v = get(o, "aging_ms")) m.aging_ms = std::get<int64_t>(*v);
  if (auto v = get(o, "bulk_grace_ms")) m.bulk_grace_ms = std::get<int64_t>(*v);
  if (auto v = get(o, "max_queued_sentences")) m.max_queued_sentences = std::get<int64_t>(*v);
  if (auto v = get(o, "max_sentences_per_request"))
    m.max_sentences_per_request = std::get<int64_t>(*v);
  if (auto v = get(o, "max_queued_requests")) m.max_queued_requests = std::get<int64_t>(*v);
  if (auto v = get(o, "sentence_splitting"))
    m.sentence_splitting = std::get<std::string>(*v) == "off" ? tolk::SentenceSplitting::kOff
                                                              : tolk::SentenceSplitting::kPunctuation;
  if (auto v = get(o, "long_sentences"))
    m.long_sentences = std::get<std::string>(*v) == "split" ? tolk::LongSentencePolicy::kSplit
                                                            : tolk::LongSentencePolicy::kReject;
  return m;
}

tolk::EngineOptions engine_options(const tolk_options* o) {
  check_scope(o, kEngine);
  tolk::EngineOptions e;
  if (auto v = get(o, "intra_threads")) e.intra_threads = static_cast<int>(std::get<int64_t>(*v));
  if (auto v = get(o, "async_threads")) e.async_threads = static_cast<int>(std::get<int64_t>(*v));
  if (auto v = get(o, "max_queued_requests")) e.max_queued_requests = std::get<int64_t>(*v);
  if (auto v = get(o, "log_level")) e.log_level = std::get<std::string>(*v);
  return e;
}

}  // namespace tolk_capi

using namespace tolk_capi;

extern "C" {

TOLK_API tolk_options* tolk_options_create(void) {
  try {
    return new tolk_options();
  } catch (...) {
    fail(TOLK_ERR_OUT_OF_MEMORY, "out of memory creating an options object");
    return nullptr;
  }
}

TOLK_API void tolk_options_free(tolk_options* options) { delete options; }

TOLK_API tolk_status tolk_options_set_int(tolk_options* o, const char* key, int64_t value) {
  return guarded([&] {
    const KeySpec& spec = check_key(o, key, Type::kInt);
    if (value < spec.min || value > spec.max)
      return fail(TOLK_ERR_INVALID_ARGUMENT, "option '" + std::string(key) + "' = " +
                                                 std::to_string(value) + " is outside [" +
                                                 std::to_string(spec.min) + ", " +
                                                 std::to_string(spec.max) + "]");
    o->values[key] = value;
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_options_set_float(tolk_options* o, const char* key, double value) {
  return guarded([&] {
    check_key(o, key, Type::kFloat);
    if (!float_in_range(key, value))
      return fail(TOLK_ERR_INVALID_ARGUMENT,
                  "option '" + std::string(key) + "' = " + std::to_string(value) + " is out of range");
    o->values[key] = value;
    return TOLK_OK;
  });
}

TOLK_API tolk_status tolk_options_set_string(tolk_options* o, const char* key, const char* value) {
  return guarded([&] {
    check_key(o, key, Type::kString);
    require_string(value, "value");
    if (!string_in_range(key, value))
      return fail(TOLK_ERR_INVALID_ARGUMENT,
                  "option '" + std::string(key) + "' = '" + value + "' is not an accepted value");
    o->values[key] = std::string(value);
    return TOLK_OK;
  });
}

}  // extern "C"
