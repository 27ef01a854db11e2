// tolk_result.cc — read-only accessors of tolk_result and tolk_batch_result.
//
// Accessors cannot return a status, so a NULL handle or a bad index yields a value that cannot
// be mistaken for data ("" / NULL / NaN / 0, as tolk.h documents) and sets the thread's last
// error. Strings are never NULL, so a careless printf cannot crash.
#include <cmath>
#include <limits>

#include "capi_internal.h"

using namespace tolk_capi;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool check_result(const tolk_result* r) noexcept {
  if (r) return true;
  fail(TOLK_ERR_INVALID_ARGUMENT, "result is NULL");
  return false;
}

const tolk::Hypothesis* hypothesis(const tolk_result* r, size_t i) noexcept {
  if (!check_result(r)) return nullptr;
  if (i >= r->r.hypotheses.size()) {
    fail(TOLK_ERR_INVALID_ARGUMENT, "hypothesis index out of range");
    return nullptr;
  }
  return &r->r.hypotheses[i];
}

const int64_t* ids_of(const std::vector<int64_t>* ids, size_t* count) noexcept {
  if (count) *count = ids ? ids->size() : 0;
  if (!ids || ids->empty()) return nullptr;
  return ids->data();
}

}  // namespace

extern "C" {

TOLK_API tolk_status tolk_result_status(const tolk_result* r) {
  if (!check_result(r)) return TOLK_ERR_INVALID_ARGUMENT;
  return from_code(r->r.status);
}

TOLK_API const char* tolk_result_text(const tolk_result* r) {
  return check_result(r) ? r->r.text.c_str() : "";
}

TOLK_API const char* tolk_result_error_message(const tolk_result* r) {
  if (!check_result(r)) return "";
  // A failed result always explains itself, even if the engine left the message empty.
  if (!r->r.ok() && r->r.error.empty()) return tolk_status_name(from_code(r->r.status));
  return r->r.error.c_str();
}

TOLK_API double tolk_result_score(const tolk_result* r) {
  return check_result(r) ? r->r.score : kNaN;
}

TOLK_API const int64_t* tolk_result_token_ids(const tolk_result* r, size_t* count) {
  if (!count) {
    fail(TOLK_ERR_INVALID_ARGUMENT, "count is NULL");
    return nullptr;
  }
  return ids_of(check_result(r) ? &r->r.ids : nullptr, count);
}

TOLK_API size_t tolk_result_num_hypotheses(const tolk_result* r) {
  return check_result(r) ? r->r.hypotheses.size() : 0;
}

TOLK_API const char* tolk_result_hypothesis_text(const tolk_result* r, size_t i) {
  const tolk::Hypothesis* h = hypothesis(r, i);
  return h ? h->text.c_str() : "";
}

TOLK_API double tolk_result_hypothesis_score(const tolk_result* r, size_t i) {
  const tolk::Hypothesis* h = hypothesis(r, i);
  return h ? h->score : kNaN;
}

TOLK_API const int64_t* tolk_result_hypothesis_token_ids(const tolk_result* r, size_t i,
                                                         size_t* count) {
  if (!count) {
    fail(TOLK_ERR_INVALID_ARGUMENT, "count is NULL");
    return nullptr;
  }
  const tolk::Hypothesis* h = hypothesis(r, i);
  return ids_of(h ? &h->ids : nullptr, count);
}

TOLK_API double tolk_result_queue_ms(const tolk_result* r) {
  return check_result(r) ? r->r.timings.queue_ms : kNaN;
}

TOLK_API double tolk_result_encode_ms(const tolk_result* r) {
  return check_result(r) ? r->r.timings.encode_ms : kNaN;
}

TOLK_API double tolk_result_decode_ms(const tolk_result* r) {
  return check_result(r) ? r->r.timings.decode_ms : kNaN;
}

TOLK_API double tolk_result_total_ms(const tolk_result* r) {
  return check_result(r) ? r->r.timings.total_ms : kNaN;
}

TOLK_API void tolk_result_free(tolk_result* r) { delete r; }

TOLK_API size_t tolk_batch_result_size(const tolk_batch_result* b) {
  if (!b) {
    fail(TOLK_ERR_INVALID_ARGUMENT, "batch result is NULL");
    return 0;
  }
  return b->items.size();
}

TOLK_API const tolk_result* tolk_batch_result_get(const tolk_batch_result* b, size_t i) {
  if (!b || i >= b->items.size()) {
    fail(TOLK_ERR_INVALID_ARGUMENT, b ? "batch index out of range" : "batch result is NULL");
    return nullptr;
  }
  return &b->items[i];
}

TOLK_API void tolk_batch_result_free(tolk_batch_result* b) { delete b; }

}  // extern "C"
