// fuzz_capi_text.cc — libFuzzer target for text through the C API (capi/tolk.h, libtolk_c.so).
//
// One engine loads the dev checkpoint once (LLVMFuzzerInitialize); each input becomes one
// tolk_translate_sync call. Input layout: byte 0 picks the source language, byte 1 the target,
// byte 2 the options, the rest is the text (C strings: it ends at the first NUL). A language
// byte below 0xF0 indexes kLanguages (valid codes, special tokens, near misses, ""); 0xFn takes
// the next n bytes of the input as a raw code. Contract checked per the header: a failure has a
// non-empty status name and last-error message and no result; a success has a result whose text
// is valid UTF-8; TOLK_ERR_INTERNAL ("a bug") never happens. Anything else aborts so that libFuzzer keeps the input.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz_common.h"
#include "tolk.h"

namespace {

tolk_engine* g_engine = nullptr;

const char* const kLanguages[] = {
    "eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "zho_Hans", "arb_Arab", "</s>", "<pad>",
    "<unk>",    "<s>",      "<mask>",   "",         "fra",      "eng_latn", "eng_Latn ", "xxx_Xxxx",
};
constexpr size_t kNumLanguages = sizeof kLanguages / sizeof kLanguages[0];

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_capi_text: %s\n", what);
  std::abort();
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), as the header promises.
bool valid_utf8(const unsigned char* s) {
  while (*s) {
    const unsigned c = *s;
    int len = 0;
    unsigned cp = 0, min = 0;
    if (c < 0x80) { ++s; continue; }
    if (c >= 0xC2 && c <= 0xDF) { len = 1; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 2; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 3; cp = c & 0x07; min = 0x10000; }
    else return false;
    for (int i = 1; i <= len; ++i) {
      if ((s[i] & 0xC0) != 0x80) return false;  // also stops at the NUL
      cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    s += len + 1;
  }
  return true;
}

// Takes one language from the input (see the layout above).
std::string take_language(uint8_t selector, const uint8_t*& data, size_t& size) {
  if (selector < 0xF0) return kLanguages[selector % kNumLanguages];
  const size_t n = std::min<size_t>(selector & 0x0F, size);
  std::string raw(reinterpret_cast<const char*>(data), n);
  data += n;
  size -= n;
  return raw;
}

// libtolk_c.so is not instrumented, so libFuzzer sees only this file's branches. Giving every
// status and output-length class a branch of its own makes a new kind of outcome count as new
// coverage, which keeps such inputs in the corpus.
void note_outcome(tolk_status st, const tolk_result* r) {
  static volatile int sink = 0;
  switch (st) {
    case TOLK_OK: sink = sink + 1; break;
    case TOLK_ERR_INVALID_ARGUMENT: sink = sink + 2; break;
    case TOLK_ERR_INVALID_UTF8: sink = sink + 3; break;
    case TOLK_ERR_UNKNOWN_LANGUAGE: sink = sink + 4; break;
    case TOLK_ERR_INPUT_TOO_LONG: sink = sink + 5; break;
    case TOLK_ERR_INTERNAL: sink = sink + 6; break;
    default: sink = sink + 7; break;
  }
  if (st != TOLK_OK || r == nullptr) return;
  const size_t n = std::strlen(tolk_result_text(r));
  if (n == 0) sink = sink + 8;
  else if (n < 8) sink = sink + 9;
  else if (n < 32) sink = sink + 10;
  else sink = sink + 11;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tolk_options* eo = tolk_options_create();
  if (!eo || tolk_options_set_int(eo, "intra_threads", 1) != TOLK_OK ||
      tolk_options_set_int(eo, "async_threads", 1) != TOLK_OK ||
      tolk_options_set_string(eo, "log_level", "error") != TOLK_OK ||
      tolk_engine_create(eo, &g_engine) != TOLK_OK)
    fail(tolk_last_error_message());
  tolk_options_free(eo);
  const std::string dev = tolk_fuzz::dev_dir();
  if (tolk_engine_load_model(g_engine, "dev", dev.c_str(), nullptr) != TOLK_OK) fail(tolk_last_error_message());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t src_sel = data[0], tgt_sel = data[1], opt = data[2];
  data += 3;
  size -= 3;
  const std::string src = take_language(src_sel, data, size);
  const std::string tgt = take_language(tgt_sel, data, size);
  const std::string text(reinterpret_cast<const char*>(data), size);

  tolk_options* o = tolk_options_create();
  if (!o) fail("tolk_options_create returned NULL");
  // Small outputs keep each execution around a millisecond: max_new_tokens 1..8, greedy or beam 2.
  if (tolk_options_set_int(o, "max_new_tokens", 1 + (opt & 7)) != TOLK_OK) fail("max_new_tokens refused");
  if ((opt & 8) && tolk_options_set_int(o, "beam_size", 2) != TOLK_OK) fail("beam_size refused");
  if ((opt & 16) && tolk_options_set_int(o, "no_repeat_ngram_size", 2) != TOLK_OK) fail("ngram refused");

  tolk_result* r = reinterpret_cast<tolk_result*>(1);  // must be overwritten either way
  const tolk_status st = tolk_translate_sync(g_engine, "dev", text.c_str(), src.c_str(), tgt.c_str(), o, &r);
  tolk_options_free(o);
  note_outcome(st, r);
  if (st == TOLK_ERR_INTERNAL) fail(tolk_last_error_message());  // "a bug", says tolk.h
  if (st == TOLK_OK) {
    if (r == nullptr || tolk_result_status(r) != TOLK_OK) fail("TOLK_OK without an OK result");
    const char* out = tolk_result_text(r);
    if (out == nullptr || !valid_utf8(reinterpret_cast<const unsigned char*>(out))) fail("result text is not UTF-8");
    tolk_result_free(r);
  } else {
    if (r != nullptr) fail("failed call left *out set");
    const char* name = tolk_status_name(st);
    const char* msg = tolk_last_error_message();
    if (!name || !*name || std::strcmp(name, "TOLK_UNKNOWN_STATUS") == 0) fail("bad status name");
    if (!msg || !*msg) fail("empty tolk_last_error_message after a failure");
  }
  return 0;
}
