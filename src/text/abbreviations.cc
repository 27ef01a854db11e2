// abbreviations.cc — see abbreviations.h.
#include "text/abbreviations.h"

#include <vector>

#include "text/sentence_chars.h"

namespace tolk::text {

// Entries match as written, or with an ASCII lowercase first letter capitalised (matches_entry).
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

namespace {

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

}  // namespace

const LanguageRules& rules_for(std::string_view language) {
  static const LanguageRules kGeneric{};
  const std::string_view key = language.substr(0, language.find('_'));
  for (const LanguageRules& rules : all_language_rules()) {
    if (rules.language == key) return rules;
  }
  return kGeneric;
}

namespace {

// `word` is `entry` as listed, or capitalised as at the start of a sentence ("Etc", "Vgl").
bool matches_entry(std::string_view word, std::string_view entry) noexcept {
  if (word == entry) return true;
  if (entry.empty() || word.size() != entry.size() || entry[0] < 'a' || entry[0] > 'z') {
    return false;
  }
  return word[0] == entry[0] - 'a' + 'A' && word.substr(1) == entry.substr(1);
}

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

}  // namespace

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

}  // namespace tolk::text
