// sentence_splitter.cc — see sentence_splitter.h.
#include "text/sentence_splitter.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace tolk::text {

namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8 stepping. This module only needs to walk text and classify a few code points, so it
// carries its own tolerant decoder instead of the strict validator in utf8.h (which throws
// tolk::Error): the engine validates input before splitting, and a stray byte here must simply
// count as one character so that every loop still advances.

struct Char {
  char32_t cp = 0;
  size_t len = 1;
};

constexpr char32_t kReplacement = 0xFFFD;

// The character starting at s[pos] (pos < s.size()). Malformed or truncated sequences read as
// one U+FFFD of length 1.
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

enum class LetterCase { kNone, kUpper, kLower };

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

// Ends a sentence only when whitespace and a plausible sentence start follow: these marks also
// appear inside numbers, names and abbreviations.
bool is_weak_terminator(char32_t c) noexcept {
  return c == '.' || c == '!' || c == '?' || c == 0x2026 /* … */ || c == 0x203C /* ‼ */ ||
         (c >= 0x2047 && c <= 0x2049) /* ⁇ ⁈ ⁉ */;
}

// Ends a sentence wherever it stands: the scripts using these write no space after a sentence,
// and the marks have no other use inside words or numbers.
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

// Quotes and brackets that, right after a terminator, still belong to the sentence it ends. Both
// guillemets are here because German writes »so« and French « so ».
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

// Punctuation that continues a sentence and so cannot start the next one ("etc., and").
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

// End of [begin, end) without its trailing whitespace.
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

// The word that ends at `end` (no earlier than `floor`), without opening marks in front of it.
// `raw_begin` receives where the word starts, opening marks included.
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

// The run of cased letters starting at `pos` ("Oktober" of "Oktober 2020").
std::string_view letters_at(std::string_view s, size_t pos) {
  size_t end = pos;
  while (end < s.size()) {
    const Char c = decode_at(s, end);
    if (!is_cased_letter(c.cp)) break;
    end += c.len;
  }
  return s.substr(pos, end - pos);
}

// ---------------------------------------------------------------------------------------------
// Language rules.

struct LanguageRules {
  std::string_view language;  // the NLLB code's part before '_'
  // Words that a "." after them does not end the sentence, written without that final dot.
  // Entries with a space span several words ("p. ex"); each earlier part keeps its own dot.
  std::vector<std::string_view> abbreviations;
  // Abbreviations only when a number follows ("No. 5", but "I said No. Then …").
  std::vector<std::string_view> before_number;
  // Single letters that are words, not initials, when followed by ".".
  std::vector<std::string_view> not_initials;
  // Words after which a 1–2 digit number with "." is an ordinal ("am 3. Oktober").
  std::vector<std::string_view> ordinal_nouns;
};

// Abbreviations common to European languages; used for every language, including unknown ones.
const std::vector<std::string_view>& universal_abbreviations() {
  static const std::vector<std::string_view> kList = {"Dr", "Prof", "Mr", "Mrs", "Ms", "etc",
                                                      "vs", "cf"};
  return kList;
}

const std::vector<LanguageRules>& all_language_rules() {
  static const std::vector<LanguageRules> kRules = {
      {"eng",
       {"Mr", "Mrs", "Ms", "Dr", "Prof", "Sr", "Jr", "St", "Mt", "vs", "etc", "e.g", "i.e", "Inc",
        "Ltd", "Co", "Corp", "Fig", "approx", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug",
        "Sep", "Sept", "Oct", "Nov", "Dec", "Ave", "Blvd", "Gen", "Col", "Lt", "Sgt", "Capt",
        "Gov", "Rev", "Hon", "Messrs", "al", "Dept", "Univ", "vol", "est"},
       {"No", "Nos", "pp", "ch"},
       {"I"},
       {}},
      {"fra",
       {"M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Dr", "Pr", "St", "Ste", "etc", "cf", "env",
        "av", "apr", "p. ex", "p.ex", "J.-C", "c.-à-d", "vol", "chap", "éd", "fig", "tél"},
       {"art"},
       {},
       {}},
      {"deu",
       {"z. B", "z.B", "usw", "bzw", "ca", "Dr", "Prof", "Nr", "Str", "evtl", "ggf", "d. h",
        "d.h", "u. a", "u.a", "vgl", "Hr", "Hrn", "Fr", "Mio", "Mrd", "inkl", "insb", "sog",
        "z.T", "geb", "gest", "Jh", "Jhd", "Tel", "usf", "bspw"},
       {"Art", "Kap", "Abs", "Bd"},
       {},
       {"Januar", "Jänner", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
        "September", "Oktober", "November", "Dezember", "Jahrhundert", "Jh", "Jahrestag"}},
      {"spa",
       {"Sr", "Sra", "Srta", "Sres", "Dr", "Dra", "Ud", "Uds", "Vd", "Vds", "Lic", "Ing", "Dña",
        "etc", "p. ej", "p.ej", "aprox", "núm", "pág", "págs", "tel", "Avda", "Av", "Sto", "Sta",
        "EE.UU"},
       {"art", "cap"},
       {},
       {}},
  };
  return kRules;
}

const LanguageRules& rules_for(std::string_view language) {
  static const LanguageRules kGeneric{};
  const std::string_view key = language.substr(0, language.find('_'));
  for (const LanguageRules& rules : all_language_rules()) {
    if (rules.language == key) return rules;
  }
  return kGeneric;
}

// `word` is `entry` as listed, or capitalised as at the start of a sentence ("Etc", "Vgl").
bool matches_entry(std::string_view word, std::string_view entry) noexcept {
  if (word == entry) return true;
  if (entry.empty() || word.size() != entry.size() || entry[0] < 'a' || entry[0] > 'z') {
    return false;
  }
  return word[0] == entry[0] - 'a' + 'A' && word.substr(1) == entry.substr(1);
}

// What is known about one "." that may end a sentence.
struct PeriodContext {
  std::string_view text;
  size_t sentence_begin = 0;  // the current sentence's first byte
  size_t period = 0;          // the '.'
  size_t next_begin = 0;      // first character after the whitespace that follows
  std::string_view word;      // the word before the '.', without opening marks
  size_t word_raw_begin = 0;  // where that word starts, opening marks included
};

// A multi-word entry ("p. ex"): the word matches the last part and the words before it, across
// whitespace, match the earlier parts.
bool matches_multi_word(const PeriodContext& ctx, std::string_view entry) {
  size_t split = entry.rfind(' ');
  if (!matches_entry(ctx.word, entry.substr(split + 1))) return false;
  size_t end = ctx.word_raw_begin;
  while (split != std::string_view::npos) {
    entry = entry.substr(0, split);
    split = entry.rfind(' ');
    const size_t word_end = trim_end(ctx.text, ctx.sentence_begin, end);
    if (word_end == end) return false;  // no whitespace before: not this entry
    size_t raw_begin = 0;
    const std::string_view prev = word_before(ctx.text, ctx.sentence_begin, word_end, raw_begin);
    if (!matches_entry(prev, entry.substr(split + 1))) return false;
    end = raw_begin;
  }
  return true;
}

bool is_listed_abbreviation(const LanguageRules& rules, const PeriodContext& ctx) {
  const auto matches = [&](std::string_view entry) {
    return entry.find(' ') == std::string_view::npos ? matches_entry(ctx.word, entry)
                                                     : matches_multi_word(ctx, entry);
  };
  for (std::string_view entry : universal_abbreviations()) {
    if (matches(entry)) return true;
  }
  for (std::string_view entry : rules.abbreviations) {
    if (matches(entry)) return true;
  }
  if (!is_ascii_digit(static_cast<unsigned char>(ctx.text[ctx.next_begin]))) return false;
  for (std::string_view entry : rules.before_number) {
    if (matches(entry)) return true;
  }
  return false;
}

// One cased letter: an initial ("J. R. R. Tolkien") or a part of "z. B.", "d. h.".
bool is_initial(const LanguageRules& rules, std::string_view word) {
  if (word.empty()) return false;
  const Char c = decode_at(word, 0);
  if (c.len != word.size() || !is_cased_letter(c.cp)) return false;
  for (std::string_view not_initial : rules.not_initials) {
    if (word == not_initial) return false;
  }
  return true;
}

// Single cased letters joined by dots: "e.g", "U.S", "z.B" (the final dot is the period).
bool is_dotted_acronym(std::string_view word) {
  size_t letters = 0;
  size_t pos = 0;
  while (pos < word.size()) {
    const Char c = decode_at(word, pos);
    if (!is_cased_letter(c.cp)) return false;
    ++letters;
    pos += c.len;
    if (pos == word.size()) break;
    if (word[pos] != '.') return false;
    ++pos;
  }
  return letters >= 2 && pos == word.size();
}

bool is_number(std::string_view word) {
  if (word.empty()) return false;
  for (char ch : word) {
    if (!is_ascii_digit(static_cast<unsigned char>(ch))) return false;
  }
  return true;
}

bool is_ordinal(const LanguageRules& rules, const PeriodContext& ctx) {
  if (ctx.word.size() > 2) return false;
  const std::string_view next = letters_at(ctx.text, ctx.next_begin);
  for (std::string_view noun : rules.ordinal_nouns) {
    if (next == noun) return true;
  }
  return false;
}

// True when the "." at ctx.period is part of the sentence rather than its end.
bool period_continues_sentence(const LanguageRules& rules, PeriodContext ctx) {
  ctx.word = word_before(ctx.text, ctx.sentence_begin, ctx.period, ctx.word_raw_begin);
  if (ctx.word.empty()) return false;
  if (is_listed_abbreviation(rules, ctx)) return true;
  if (is_initial(rules, ctx.word) || is_dotted_acronym(ctx.word)) return true;
  if (is_number(ctx.word)) {
    // A number opening the sentence is a list marker ("1. Open the box.").
    return ctx.word_raw_begin == ctx.sentence_begin || is_ordinal(rules, ctx);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Terminator runs.

struct Terminal {
  size_t end = 0;              // after the terminators and their closing marks
  bool strong = false;         // holds a terminator that needs no whitespace after it
  bool single_period = false;  // exactly one '.', the only case where abbreviations matter
};

// French sets a closing » off with a (no-break) space: « Oui ! » Puis … The » belongs to the
// sentence when it is itself followed by whitespace, punctuation or the end of the text (in
// German, » opens a quote and a letter follows it).
size_t absorb_spaced_guillemet(std::string_view s, size_t pos) {
  size_t at = pos;
  while (at < s.size()) {
    const Char c = decode_at(s, at);
    if (!is_space(c.cp) || is_line_break(c.cp)) break;
    at += c.len;
  }
  if (at == pos || at >= s.size()) return pos;
  const Char quote = decode_at(s, at);
  if (quote.cp != 0x00BB) return pos;
  const size_t after = at + quote.len;
  if (after == s.size()) return after;
  const char32_t next = decode_at(s, after).cp;
  return is_space(next) || is_closing_mark(next) || is_terminator(next) ? after : pos;
}

Terminal scan_terminal(std::string_view s, size_t pos) {
  Terminal t;
  t.end = pos;
  size_t count = 0;
  bool only_periods = true;
  while (t.end < s.size()) {
    const Char c = decode_at(s, t.end);
    if (is_strong_terminator(c.cp)) {
      t.strong = true;
    } else if (!is_weak_terminator(c.cp)) {
      break;
    }
    only_periods = only_periods && c.cp == '.';
    ++count;
    t.end += c.len;
  }
  t.single_period = count == 1 && only_periods;
  while (t.end < s.size()) {
    const Char c = decode_at(s, t.end);
    if (!is_closing_mark(c.cp)) break;
    t.end += c.len;
  }
  t.end = absorb_spaced_guillemet(s, t.end);
  return t;
}

// Whether the terminator run starting at `pos`, in the sentence starting at `sentence_begin`,
// ends that sentence.
bool ends_sentence(const LanguageRules& rules, std::string_view s, size_t sentence_begin,
                   size_t pos, const Terminal& t) {
  if (t.end >= s.size()) return false;  // the end of the text ends it anyway
  if (t.strong) return true;
  if (!is_space(decode_at(s, t.end).cp)) return false;  // "3.14", "www.example.com", "?!x"
  const size_t next = skip_spaces(s, t.end);
  if (next == s.size()) return false;
  if (has_line_break(s, t.end, next)) return true;
  const char32_t first = decode_at(s, next).cp;
  if (letter_case(first) == LetterCase::kLower || continues_sentence(first)) return false;
  if (!t.single_period) return true;
  PeriodContext ctx;
  ctx.text = s;
  ctx.sentence_begin = sentence_begin;
  ctx.period = pos;
  ctx.next_begin = next;
  return !period_continues_sentence(rules, ctx);
}

std::vector<TextSpan> split_by_punctuation(std::string_view text, const LanguageRules& rules) {
  std::vector<TextSpan> spans;
  size_t start = skip_spaces(text, 0);
  size_t pos = start;
  while (pos < text.size()) {
    const Char c = decode_at(text, pos);
    if (is_space(c.cp)) {
      const size_t run_end = skip_spaces(text, pos);
      if (run_end < text.size() && has_line_break(text, pos, run_end)) {
        spans.push_back({start, pos});
        start = run_end;
      }
      pos = run_end;
    } else if (is_terminator(c.cp)) {
      const Terminal t = scan_terminal(text, pos);
      if (ends_sentence(rules, text, start, pos, t)) {
        spans.push_back({start, t.end});
        start = skip_spaces(text, t.end);
        pos = start;
      } else {
        pos = t.end;
      }
    } else {
      pos += c.len;
    }
  }
  if (start < text.size()) spans.push_back({start, trim_end(text, start, text.size())});
  return spans;
}

// ---------------------------------------------------------------------------------------------
// split_to_fit helpers.

// A clause mark after which a long sentence may be cut. ASCII and Arabic marks need whitespace
// after them ("1,000", "12:30", "http://" are not clauses); full-width ones are written without.
bool is_clause_cut(std::string_view s, char32_t c, size_t after) noexcept {
  switch (c) {
    case 0xFF0C: case 0xFF1B: case 0xFF1A: case 0x3001:  // ， ； ： 、
      return true;
    case ',': case ';': case ':': case 0x060C: case 0x061B:  // ، ؛
      return after < s.size() && is_space(decode_at(s, after).cp);
    default:
      return false;
  }
}

// Candidate cut positions inside [begin, end), by preference. A piece ends at a cut; the next
// piece starts after the whitespace there.
struct CutPoints {
  std::vector<size_t> clause;     // right after a clause mark
  std::vector<size_t> space;      // where a run of breakable whitespace starts
  std::vector<size_t> character;  // any character boundary after a non-space character
};

// No-break spaces ask not to break the line there (French "Bonjour !"), so they are cut only
// as a last resort, like a character boundary.
bool is_no_break_space(char32_t c) noexcept { return c == 0xA0 || c == 0x2007 || c == 0x202F; }

CutPoints find_cut_points(std::string_view s, size_t begin, size_t end) {
  CutPoints cuts;
  bool after_non_space = false;  // false at `begin`, so the empty piece is never offered
  for (size_t pos = begin; pos < end;) {
    const Char c = decode_at(s, pos);
    const bool space = is_space(c.cp);
    if (after_non_space) {
      cuts.character.push_back(pos);
      if (space && !is_no_break_space(c.cp)) cuts.space.push_back(pos);
    }
    const size_t after = pos + c.len;
    if (after < end && is_clause_cut(s, c.cp, after)) cuts.clause.push_back(after);
    after_non_space = !space;
    pos = after;
  }
  return cuts;
}

using FitsFn = std::function<bool(size_t, size_t)>;

// The last cut in (from, to) whose piece [from, cut) fits, by binary search over `cuts`
// (sorted). Every answer was checked with `fits`, so a counter that is not monotonic can only
// make the piece shorter than it might be, never too long.
std::optional<size_t> longest_fitting(const std::vector<size_t>& cuts, size_t from, size_t to,
                                      const FitsFn& fits) {
  auto lo = std::upper_bound(cuts.begin(), cuts.end(), from);
  auto hi = std::lower_bound(lo, cuts.end(), to);
  std::optional<size_t> best;
  while (lo < hi) {
    const auto mid = lo + (hi - lo) / 2;
    if (fits(from, *mid)) {
      best = *mid;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return best;
}

std::optional<size_t> choose_cut(const CutPoints& cuts, size_t from, size_t to,
                                  const FitsFn& fits) {
  const std::optional<size_t> clause = longest_fitting(cuts.clause, from, to, fits);
  const std::optional<size_t> space = longest_fitting(cuts.space, from, to, fits);
  // A clause cut wins unless it would leave a piece under half of what whitespace allows.
  if (clause && (!space || 2 * (*clause - from) >= *space - from)) return clause;
  if (space) return space;
  return longest_fitting(cuts.character, from, to, fits);
}

}  // namespace

std::vector<TextSpan> split_sentences(std::string_view text, std::string_view language,
                                      SentenceSplitMode mode) {
  if (mode == SentenceSplitMode::kPunctuation) {
    return split_by_punctuation(text, rules_for(language));
  }
  const size_t begin = skip_spaces(text, 0);
  if (begin == text.size()) return {};
  return {TextSpan{begin, trim_end(text, begin, text.size())}};
}

std::string join_sentences(std::string_view original, const std::vector<TextSpan>& spans,
                           const std::vector<std::string>& replacements,
                           std::string_view touching_separator) {
  if (spans.size() != replacements.size()) {
    throw std::invalid_argument("join_sentences: " + std::to_string(spans.size()) +
                                " spans but " + std::to_string(replacements.size()) +
                                " replacements");
  }
  std::string out;
  size_t cursor = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    const TextSpan& span = spans[i];
    if (span.begin < cursor || span.end < span.begin || span.end > original.size()) {
      throw std::invalid_argument("join_sentences: span " + std::to_string(i) + " [" +
                                  std::to_string(span.begin) + ", " + std::to_string(span.end) +
                                  ") is out of order or outside the text");
    }
    if (i > 0 && span.begin == cursor) out += touching_separator;
    out.append(original.substr(cursor, span.begin - cursor));
    out += replacements[i];
    cursor = span.end;
  }
  out.append(original.substr(cursor));
  return out;
}

std::vector<TextSpan> split_to_fit(std::string_view text, TextSpan sentence, size_t max_tokens,
                                   const std::function<size_t(std::string_view)>& count_tokens) {
  if (sentence.begin > sentence.end || sentence.end > text.size()) {
    throw std::invalid_argument("split_to_fit: span [" + std::to_string(sentence.begin) + ", " +
                                std::to_string(sentence.end) + ") is outside the text (" +
                                std::to_string(text.size()) + " bytes)");
  }
  // Decoding stops at the span's end, so a span ending mid-sequence cannot read past it.
  const std::string_view s = text.substr(0, sentence.end);
  size_t begin = skip_spaces(s, sentence.begin);
  const size_t end = trim_end(s, begin, sentence.end);
  const FitsFn fits = [&](size_t from, size_t to) {
    return count_tokens(s.substr(from, to - from)) <= max_tokens;
  };
  std::vector<TextSpan> pieces;
  if (fits(begin, end)) return {TextSpan{begin, end}};
  const CutPoints cuts = find_cut_points(s, begin, end);
  do {
    const std::optional<size_t> cut = choose_cut(cuts, begin, end, fits);
    if (!cut) return {};  // not even the first character fits
    pieces.push_back({begin, *cut});
    begin = skip_spaces(s, *cut);
  } while (!fits(begin, end));
  pieces.push_back({begin, end});
  return pieces;
}

}  // namespace tolk::text
