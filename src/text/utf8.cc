// utf8.cc — see utf8.h.
#include "text/utf8.h"

#include <string>

#include "tolk/status.h"

namespace tolk::text {

namespace {

// Length of the well-formed sequence at s[pos], or 0 if it is malformed. Table 3-7 of the
// Unicode standard: the second byte's range depends on the lead byte, which is what rules out
// overlongs, surrogates and values above U+10FFFF.
size_t sequence_length(std::string_view s, size_t pos) noexcept {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    if (lead == 0xE0) lo = 0xA0;  // below is an overlong 2-byte value
    if (lead == 0xED) hi = 0x9F;  // above are the surrogates D800..DFFF
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    if (lead == 0xF0) lo = 0x90;  // below is an overlong 3-byte value
    if (lead == 0xF4) hi = 0x8F;  // above is beyond U+10FFFF
  } else {
    return 0;  // stray continuation byte, C0/C1 (always overlong) or F5..FF
  }
  if (s.size() - pos < len) return 0;
  if (byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return len;
}

}  // namespace

size_t find_invalid_utf8(std::string_view s) noexcept {
  size_t pos = 0;
  while (pos < s.size()) {
    // Fast path for ASCII runs, the common case for most inputs.
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const size_t len = sequence_length(s, pos);
    if (len == 0) return pos;
    pos += len;
  }
  return kUtf8Valid;
}

void check_utf8(std::string_view s, const char* what) {
  const size_t bad = find_invalid_utf8(s);
  if (bad == kUtf8Valid) return;
  throw Error(StatusCode::kInvalidUtf8, std::string(what ? what : "text") +
                                            " is not valid UTF-8 (byte offset " +
                                            std::to_string(bad) + ")");
}

char32_t next_code_point(std::string_view s, size_t& pos) noexcept {
  const size_t len = sequence_length(s, pos);
  if (len == 0) {
    ++pos;
    return 0xFFFD;
  }
  const auto b = [&](size_t i) { return static_cast<char32_t>(static_cast<unsigned char>(s[pos + i])); };
  char32_t cp;
  switch (len) {
    case 1: cp = b(0); break;
    case 2: cp = ((b(0) & 0x1F) << 6) | (b(1) & 0x3F); break;
    case 3: cp = ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F); break;
    default:
      cp = ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
  pos += len;
  return cp;
}

}  // namespace tolk::text
