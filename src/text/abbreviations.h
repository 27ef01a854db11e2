// abbreviations.h — per-language abbreviation lists, and whether a "." ends a sentence.
//
// A single "." before whitespace and a capital usually ends a sentence, but not after a listed
// abbreviation ("Dr. Smith"), an initial ("J. R. R. Tolkien"), a dotted acronym ("e.g."), a
// number that opens the sentence (a list marker: "1. Open the box.") or, in German, an ordinal
// before a month ("am 3. Oktober"). sentence_splitter.h states the rules; this file holds the
// language data and applies it. Internal to src/text/, used by sentence_splitter.cc.
#pragma once

#include <cstddef>
#include <string_view>

namespace tolk::text {

// The lists of one language. Defined in abbreviations.cc: only the code there reads them.
struct LanguageRules;

// The rules for an NLLB language code: the part before '_' selects them ("eng_Latn", or "eng"
// alone). Unknown codes get empty lists, so only the universal abbreviations ("Dr", "etc" …),
// initials, dotted acronyms and list numbers apply.
const LanguageRules& rules_for(std::string_view language);

// What is known about one "." that may end a sentence.
struct PeriodContext {
  std::string_view text;
  size_t sentence_begin = 0;  // the current sentence's first byte
  size_t period = 0;          // the '.'
  size_t next_begin = 0;      // first character after the whitespace that follows
  std::string_view word;      // the word before the '.', without opening marks
  size_t word_raw_begin = 0;  // where that word starts, opening marks included
};

// True when the "." at ctx.period is part of the sentence rather than its end. The caller sets
// text, sentence_begin, period and next_begin; word and word_raw_begin are worked out here.
bool period_continues_sentence(const LanguageRules& rules, PeriodContext ctx);

}  // namespace tolk::text
