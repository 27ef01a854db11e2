// sentence_splitter.cc — see sentence_splitter.h. Characters are read through sentence_chars.h;
// the per-language abbreviation rules for a single "." are in abbreviations.h.
#include "text/sentence_splitter.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "text/abbreviations.h"
#include "text/sentence_chars.h"

namespace tolk::text {

namespace {

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
