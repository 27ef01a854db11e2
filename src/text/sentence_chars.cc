// sentence_chars.cc — see sentence_chars.h.
#include "text/sentence_chars.h"

namespace tolk::text {

// ---------------------------------------------------------------------------------------------
// UTF-8 stepping.

namespace {

constexpr char32_t kReplacement = 0xFFFD;

}  // namespace

Char decode_at(std::string_view s, size_t pos) noexcept {
  const auto lead = static_cast<unsigned char>(s[pos]);
  if (lead < 0x80) return {lead, 1};
  const size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
  if (len == 0 || lead > 0xF4 || pos + len > s.size()) return {kReplacement, 1};
  char32_t cp = lead & (0x7Fu >> len);
  for (size_t i = 1; i < len; ++i) {
    const auto byte = static_cast<unsigned char>(s[pos + i]);
    if ((byte & 0xC0) != 0x80) return {kReplacement, 1};
    cp = (cp << 6) | (byte & 0x3Fu);
  }
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};  // below: overlong
  if (cp < kSmallest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return {kReplacement, 1};
  }
  return {cp, len};
}

namespace {

// Start of the character that ends at `pos` (pos > 0), consistent with decode_at for valid text.
size_t previous_start(std::string_view s, size_t pos) noexcept {
  for (size_t back = 1; back <= 4 && back <= pos; ++back) {
    const size_t at = pos - back;
    if ((static_cast<unsigned char>(s[at]) & 0xC0) != 0x80) {
      return decode_at(s, at).len == back ? at : pos - 1;
    }
  }
  return pos - 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Character classes.

bool is_line_break(char32_t c) noexcept {
  return (c >= 0x0A && c <= 0x0D) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

bool is_space(char32_t c) noexcept {
  return c == ' ' || c == '\t' || is_line_break(c) || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_ascii_digit(char32_t c) noexcept { return c >= '0' && c <= '9'; }

namespace {

// Case of the letters in the scripts NLLB writes with case (Latin incl. Vietnamese, Greek,
// Cyrillic, Armenian, full-width Latin). Several Unicode blocks alternate upper/lower pairs, so a
// range can say "even code points are uppercase" instead of listing every letter.
struct CaseRange {
  char32_t first;
  char32_t last;
  enum Pattern { kUpper, kLower, kEvenUpper, kOddUpper } pattern;
};

constexpr CaseRange kCaseRanges[] = {
    {0x0041, 0x005A, CaseRange::kUpper},     {0x0061, 0x007A, CaseRange::kLower},
    {0x00C0, 0x00D6, CaseRange::kUpper},     {0x00D8, 0x00DE, CaseRange::kUpper},
    {0x00DF, 0x00F6, CaseRange::kLower},     {0x00F8, 0x00FF, CaseRange::kLower},
    {0x0100, 0x0137, CaseRange::kEvenUpper}, {0x0138, 0x0138, CaseRange::kLower},
    {0x0139, 0x0148, CaseRange::kOddUpper},  {0x0149, 0x0149, CaseRange::kLower},
    {0x014A, 0x0177, CaseRange::kEvenUpper}, {0x0178, 0x0178, CaseRange::kUpper},
    {0x0179, 0x017E, CaseRange::kOddUpper},  {0x017F, 0x017F, CaseRange::kLower},
    {0x01CD, 0x01DC, CaseRange::kOddUpper},  {0x01DE, 0x01EF, CaseRange::kEvenUpper},
    {0x01F8, 0x021F, CaseRange::kEvenUpper}, {0x0222, 0x0233, CaseRange::kEvenUpper},
    {0x0250, 0x02AF, CaseRange::kLower},     {0x0386, 0x0386, CaseRange::kUpper},
    {0x0388, 0x038F, CaseRange::kUpper},     {0x0390, 0x0390, CaseRange::kLower},
    {0x0391, 0x03AB, CaseRange::kUpper},     {0x03AC, 0x03CE, CaseRange::kLower},
    {0x0400, 0x042F, CaseRange::kUpper},     {0x0430, 0x045F, CaseRange::kLower},
    {0x0460, 0x0481, CaseRange::kEvenUpper}, {0x048A, 0x04BF, CaseRange::kEvenUpper},
    {0x04C0, 0x04C0, CaseRange::kUpper},     {0x04C1, 0x04CE, CaseRange::kOddUpper},
    {0x04CF, 0x04CF, CaseRange::kLower},     {0x04D0, 0x052F, CaseRange::kEvenUpper},
    {0x0531, 0x0556, CaseRange::kUpper},     {0x0560, 0x0588, CaseRange::kLower},
    {0x1E00, 0x1E95, CaseRange::kEvenUpper}, {0x1E96, 0x1E9D, CaseRange::kLower},
    {0x1E9E, 0x1E9E, CaseRange::kUpper},     {0x1E9F, 0x1E9F, CaseRange::kLower},
    {0x1EA0, 0x1EFF, CaseRange::kEvenUpper}, {0xFF21, 0xFF3A, CaseRange::kUpper},
    {0xFF41, 0xFF5A, CaseRange::kLower},
};

}  // namespace

LetterCase letter_case(char32_t c) noexcept {
  for (const CaseRange& r : kCaseRanges) {
    if (c < r.first) break;  // the table is sorted
    if (c > r.last) continue;
    switch (r.pattern) {
      case CaseRange::kUpper: return LetterCase::kUpper;
      case CaseRange::kLower: return LetterCase::kLower;
      case CaseRange::kEvenUpper: return c % 2 == 0 ? LetterCase::kUpper : LetterCase::kLower;
      case CaseRange::kOddUpper: return c % 2 == 1 ? LetterCase::kUpper : LetterCase::kLower;
    }
  }
  return LetterCase::kNone;
}

bool is_cased_letter(char32_t c) noexcept { return letter_case(c) != LetterCase::kNone; }

bool is_weak_terminator(char32_t c) noexcept {
  return c == '.' || c == '!' || c == '?' || c == 0x2026 /* … */ || c == 0x203C /* ‼ */ ||
         (c >= 0x2047 && c <= 0x2049) /* ⁇ ⁈ ⁉ */;
}

bool is_strong_terminator(char32_t c) noexcept {
  switch (c) {
    case 0x3002:  // 。 ideographic full stop
    case 0xFF01:  // ！
    case 0xFF1F:  // ？
    case 0xFF61:  // ｡ half-width ideographic full stop
    case 0x0964:  // । danda
    case 0x0965:  // ॥ double danda
    case 0x061F:  // ؟ Arabic question mark
    case 0x06D4:  // ۔ Urdu full stop
    case 0x0589:  // ։ Armenian full stop
    case 0x1362:  // ። Ethiopic full stop
    case 0x104B:  // ။ Myanmar section mark
      return true;
    default:
      return false;
  }
}

bool is_terminator(char32_t c) noexcept { return is_weak_terminator(c) || is_strong_terminator(c); }

bool is_closing_mark(char32_t c) noexcept {
  switch (c) {
    case '"': case '\'': case ')': case ']': case '}':
    case 0x2019: case 0x201D:                              // ’ ”
    case 0x00BB: case 0x00AB: case 0x203A: case 0x2039:    // » « › ‹
    case 0x300D: case 0x300F: case 0x3011: case 0x3015:    // 」 』 】 〕
    case 0x300B: case 0x3009: case 0x3017:                 // 》 〉 〗
    case 0xFF09: case 0xFF3D: case 0xFF5D: case 0xFF02: case 0xFF07:  // ） ］ ｝ ＂ ＇
      return true;
    default:
      return false;
  }
}

namespace {

// Marks in front of a word that are not part of it ("(e.g." is the abbreviation "e.g").
bool is_opening_mark(char32_t c) noexcept {
  switch (c) {
    case '(': case '[': case '{': case '"': case '\'': case '`':
    case 0x00BF: case 0x00A1:                              // ¿ ¡
    case 0x201C: case 0x2018: case 0x201E: case 0x201A:    // “ ‘ „ ‚
    case 0x00AB: case 0x00BB: case 0x2039: case 0x203A:    // « » ‹ ›
    case 0x2013: case 0x2014:                              // – —
    case 0x300C: case 0x300E: case 0x3010: case 0x3014: case 0x300A: case 0x3008:
    case 0xFF08: case 0xFF3B:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool continues_sentence(char32_t c) noexcept {
  switch (c) {
    case ',': case ';': case ':': case '.': case '!': case '?': case ')': case ']': case '}':
    case 0x2026:                                           // …
    case 0xFF0C: case 0xFF1B: case 0xFF1A: case 0x3001:    // ， ； ： 、
    case 0xFF09: case 0x300D: case 0x300F:                 // ） 」 』
      return true;
    default:
      return is_strong_terminator(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Scanning helpers.

size_t skip_spaces(std::string_view s, size_t pos) noexcept {
  while (pos < s.size()) {
    const Char c = decode_at(s, pos);
    if (!is_space(c.cp)) break;
    pos += c.len;
  }
  return pos;
}

size_t trim_end(std::string_view s, size_t begin, size_t end) noexcept {
  while (end > begin) {
    const size_t prev = previous_start(s, end);
    if (!is_space(decode_at(s, prev).cp)) break;
    end = prev;
  }
  return end;
}

bool has_line_break(std::string_view s, size_t begin, size_t end) noexcept {
  for (size_t pos = begin; pos < end;) {
    const Char c = decode_at(s, pos);
    if (is_line_break(c.cp)) return true;
    pos += c.len;
  }
  return false;
}

std::string_view word_before(std::string_view s, size_t floor, size_t end, size_t& raw_begin) {
  size_t begin = end;
  while (begin > floor) {
    const size_t prev = previous_start(s, begin);
    if (is_space(decode_at(s, prev).cp)) break;
    begin = prev;
  }
  raw_begin = begin;
  while (begin < end) {
    const Char c = decode_at(s, begin);
    if (!is_opening_mark(c.cp)) break;
    begin += c.len;
  }
  return s.substr(begin, end - begin);
}

std::string_view letters_at(std::string_view s, size_t pos) {
  size_t end = pos;
  while (end < s.size()) {
    const Char c = decode_at(s, end);
    if (!is_cased_letter(c.cp)) break;
    end += c.len;
  }
  return s.substr(pos, end - pos);
}

}  // namespace tolk::text
