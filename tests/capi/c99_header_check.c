/* c99_header_check.c — tolk.h must compile as strict C99 (-std=c99 -Wall -Wextra -Werror
 * -pedantic) and its declarations must link. Built and run by capi/CMakeLists.txt. It needs no
 * model: it exercises only calls that work without one. */
#include <stdio.h>
#include <string.h>

#include "tolk.h"

/* A log callback with exactly the tolk_log_callback signature. */
static void on_log(void* user_data, tolk_log_level level, const char* message) {
  (void)user_data;
  (void)level;
  (void)message;
}

/* A callback with exactly the tolk_callback signature. */
static void on_done(void* user_data, tolk_result* result) {
  (void)user_data;
  tolk_result_free(result);
}

int main(void) {
  tolk_callback cb = on_done;
  tolk_status status = TOLK_OK;
  tolk_options* options;
  tolk_engine* engine = NULL;
  tolk_result* result = NULL;
  tolk_request* request = NULL;
  int failures = 0;

  if (tolk_abi_version() != TOLK_ABI_VERSION) ++failures;
  if (strchr(tolk_version(), '.') == NULL) ++failures;
  if (strcmp(tolk_status_name(TOLK_ERR_NOT_READY), "TOLK_ERR_NOT_READY") != 0) ++failures;
  if (strcmp(tolk_status_name((tolk_status)9999), "TOLK_UNKNOWN_STATUS") != 0) ++failures;

  options = tolk_options_create();
  if (options == NULL) return 1;
  if (tolk_options_set_int(options, "beam_size", 4) != TOLK_OK) ++failures;
  if (tolk_options_set_float(options, "length_penalty", 1.0) != TOLK_OK) ++failures;
  if (tolk_options_set_string(options, "priority", "bulk") != TOLK_OK) ++failures;
  status = tolk_options_set_int(options, "no_such_key", 1);
  if (status != TOLK_ERR_INVALID_ARGUMENT || tolk_last_error_message()[0] == '\0') ++failures;

  /* NULL handles are refused with a status, never a crash. */
  if (tolk_engine_create(NULL, NULL) != TOLK_ERR_INVALID_ARGUMENT) ++failures;
  if (tolk_translate_sync(engine, "m", "t", "eng_Latn", "fra_Latn", options, &result) !=
      TOLK_ERR_INVALID_ARGUMENT || result != NULL) ++failures;
  if (tolk_translate_async(engine, "m", "t", "eng_Latn", "fra_Latn", NULL, cb, NULL, &request) !=
      TOLK_ERR_INVALID_ARGUMENT || request != NULL) ++failures;
  if (tolk_request_wait(request, 0, &result) != TOLK_ERR_INVALID_ARGUMENT) ++failures;

  if (tolk_engine_stats_json(NULL) != NULL) ++failures;
  if (tolk_set_log_callback(on_log, NULL) != TOLK_OK) ++failures;
  if (tolk_set_log_callback(NULL, NULL) != TOLK_OK) ++failures;

  tolk_options_free(options);
  tolk_string_free(NULL);
  tolk_engine_free(NULL);
  tolk_result_free(NULL);
  tolk_request_free(NULL);
  tolk_batch_result_free(NULL);

  if (failures) fprintf(stderr, "c99_header_check: %d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
