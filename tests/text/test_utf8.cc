// Strict UTF-8 validation (src/text/utf8.h) and the Python-whitespace strip used by the tokenizer.
#include <catch2/catch.hpp>

#include <string>

#include "text/special_token_splitter.h"
#include "text/utf8.h"
#include "tolk/status.h"

using namespace tolk::text;

TEST_CASE("utf8: valid text is accepted", "[utf8]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ASCII"));
  CHECK(is_valid_utf8(std::string("nul\0inside", 10)));
  CHECK(is_valid_utf8("Déjà vu: café, naïve"));
  CHECK(is_valid_utf8("漢字 ☃ 🙂"));
  CHECK(is_valid_utf8("\xC2\x80"));                 // U+0080, smallest 2-byte value
  CHECK(is_valid_utf8("\xE0\xA0\x80"));             // U+0800, smallest 3-byte value
  CHECK(is_valid_utf8("\xED\x9F\xBF"));             // U+D7FF, just below the surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));             // U+E000, just above them
  CHECK(is_valid_utf8("\xF0\x90\x80\x80"));         // U+10000
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));         // U+10FFFF, the largest code point
  CHECK_NOTHROW(check_utf8("ok", "text"));
}

TEST_CASE("utf8: malformed sequences are rejected at the right offset", "[utf8]") {
  struct Bad { std::string bytes; size_t offset; };
  const Bad cases[] = {
      {"\x80", 0},                      // lone continuation byte
      {"ab\xBF", 2},                    // stray continuation after ASCII
      {"\xC0\xAF", 0},                  // overlong '/'
      {"\xC1\xBF", 0},                  // overlong
      {"\xE0\x80\xAF", 0},              // overlong 3-byte
      {"\xF0\x80\x80\xAF", 0},          // overlong 4-byte
      {"\xED\xA0\x80", 0},              // surrogate U+D800
      {"\xED\xBF\xBF", 0},              // surrogate U+DFFF
      {"x\xE2\x82", 1},                 // truncated 3-byte sequence at the end
      {"\xE2\x82x", 0},                 // truncated 3-byte sequence mid-text
      {"\xF0\x9F\x99", 0},              // truncated 4-byte sequence
      {"\xF4\x90\x80\x80", 0},          // U+110000, above U+10FFFF
      {"\xF5\x80\x80\x80", 0},          // lead byte F5
      {"\xFF", 0},                      // never valid
      {"caf\xC3\xA9\xC3", 5},           // valid é then truncated
  };
  for (const auto& c : cases) {
    INFO("offset " << c.offset);
    CHECK_FALSE(is_valid_utf8(c.bytes));
    CHECK(find_invalid_utf8(c.bytes) == c.offset);
    try {
      check_utf8(c.bytes, "source text");
      FAIL("no error");
    } catch (const tolk::Error& e) {
      CHECK(e.code() == tolk::StatusCode::kInvalidUtf8);
      CHECK_THAT(e.what(), Catch::Contains("source text") &&
                               Catch::Contains("offset " + std::to_string(c.offset)));
    }
  }
}

TEST_CASE("utf8: next_code_point decodes every length", "[utf8]") {
  const std::string s = "a\xC3\xA9\xE2\x98\x83\xF0\x9F\x99\x82";  // a é ☃ 🙂
  size_t pos = 0;
  CHECK(next_code_point(s, pos) == U'a');
  CHECK(next_code_point(s, pos) == U'\u00E9');
  CHECK(next_code_point(s, pos) == U'\u2603');
  CHECK(next_code_point(s, pos) == U'\U0001F642');
  CHECK(pos == s.size());
}

TEST_CASE("python whitespace strip matches str.strip()", "[utf8]") {
  CHECK(strip_python_space("  a b \t", true, true) == "a b");
  CHECK(strip_python_space("  a b \t", true, false) == "a b \t");
  CHECK(strip_python_space("  a b \t", false, true) == "  a b");
  CHECK(strip_python_space(" \t\n", true, true).empty());
  CHECK(strip_python_space("", true, true).empty());
  // U+00A0, U+3000 and U+2028 are whitespace to Python; U+200B (zero width space) is not.
  CHECK(strip_python_space("\xC2\xA0x\xE3\x80\x80\xE2\x80\xA8", true, true) == "x");
  CHECK(strip_python_space("\xE2\x80\x8Bx", true, true) == "\xE2\x80\x8Bx");
  CHECK(is_python_space(0x1F));
  CHECK_FALSE(is_python_space(0x200B));
}
