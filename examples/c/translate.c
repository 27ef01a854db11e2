/* translate.c — the smallest complete use of tolk's C API.
 *
 *   translate MODEL_DIR TEXT [SRC_LANG [TGT_LANG]]
 *
 * Loads the model directory, translates TEXT (default eng_Latn -> fra_Latn) and prints the
 * translation. Exits 1 with tolk's message on any failure. */
#include <stdio.h>

#include "tolk.h"

/* Prints why the last call failed and returns the exit status. */
static int report(const char* what, tolk_status status) {
  fprintf(stderr, "%s failed: %s: %s\n", what, tolk_status_name(status), tolk_last_error_message());
  return 1;
}

int main(int argc, char** argv) {
  const char* src = argc > 3 ? argv[3] : "eng_Latn";
  const char* tgt = argc > 4 ? argv[4] : "fra_Latn";
  tolk_engine* engine = NULL;
  tolk_options* options = NULL;
  tolk_result* result = NULL;
  tolk_status status;
  int rc = 1;

  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL_DIR TEXT [SRC_LANG [TGT_LANG]]\n", argv[0]);
    return 2;
  }
  if (tolk_abi_version() != TOLK_ABI_VERSION) {
    fprintf(stderr, "tolk.h (ABI %d) does not match libtolk_c (ABI %d)\n", TOLK_ABI_VERSION,
            tolk_abi_version());
    return 1;
  }

  status = tolk_engine_create(NULL, &engine);
  if (status != TOLK_OK) return report("tolk_engine_create", status);
  status = tolk_engine_load_model(engine, "model", argv[1], NULL);
  if (status != TOLK_OK) {
    rc = report("tolk_engine_load_model", status);
    goto done;
  }

  options = tolk_options_create();
  if (options == NULL) {
    fprintf(stderr, "out of memory\n");
    goto done;
  }
  status = tolk_options_set_int(options, "max_new_tokens", 200);
  if (status != TOLK_OK) {
    rc = report("tolk_options_set_int", status);
    goto done;
  }

  status = tolk_translate_sync(engine, "model", argv[2], src, tgt, options, &result);
  if (status != TOLK_OK) {
    rc = report("tolk_translate_sync", status);
    goto done;
  }
  printf("%s\n", tolk_result_text(result));
  rc = 0;

done:
  /* Every _free accepts NULL, so one cleanup path serves all exits. */
  tolk_result_free(result);
  tolk_options_free(options);
  tolk_engine_free(engine);
  return rc;
}
