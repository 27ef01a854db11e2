// sentence_chars.h — how the sentence splitter reads text: tolerant UTF-8 stepping, the
// character classes its rules test, and scanning helpers over byte offsets.
//
// Internal to src/text/, shared by sentence_splitter.cc (where sentences end) and
// abbreviations.cc (whether a "." ends one); sentence_splitter.h lists which characters count
// as what.
//
// This module only needs to walk text and classify a few code points, so it carries its own
// tolerant decoder instead of the strict validator in utf8.h (which throws tolk::Error): the
// engine validates input before splitting, and a stray byte here must simply count as one
// character so that every loop still advances.
#pragma once

#include <cstddef>
#include <string_view>

namespace tolk::text {

// ---------------------------------------------------------------------------------------------
// UTF-8 stepping.

// One character of the text: its code point and its length in bytes.
struct Char {
  char32_t cp = 0;
  size_t len = 1;
};

// The character starting at s[pos] (pos < s.size()). Malformed or truncated sequences read as
// one U+FFFD of length 1.
Char decode_at(std::string_view s, size_t pos) noexcept;

// ---------------------------------------------------------------------------------------------
// Character classes.

bool is_line_break(char32_t c) noexcept;
bool is_space(char32_t c) noexcept;
bool is_ascii_digit(char32_t c) noexcept;

enum class LetterCase { kNone, kUpper, kLower };

// Case of the letters in the scripts NLLB writes with case (Latin incl. Vietnamese, Greek,
// Cyrillic, Armenian, full-width Latin); kNone for every other character.
LetterCase letter_case(char32_t c) noexcept;
bool is_cased_letter(char32_t c) noexcept;

// Ends a sentence only when whitespace and a plausible sentence start follow: these marks also
// appear inside numbers, names and abbreviations.
bool is_weak_terminator(char32_t c) noexcept;

// Ends a sentence wherever it stands: the scripts using these write no space after a sentence,
// and the marks have no other use inside words or numbers.
bool is_strong_terminator(char32_t c) noexcept;

bool is_terminator(char32_t c) noexcept;  // weak or strong

// Quotes and brackets that, right after a terminator, still belong to the sentence it ends. Both
// guillemets are here because German writes »so« and French « so ».
bool is_closing_mark(char32_t c) noexcept;

// Punctuation that continues a sentence and so cannot start the next one ("etc., and").
bool continues_sentence(char32_t c) noexcept;

// ---------------------------------------------------------------------------------------------
// Scanning helpers. Positions are byte offsets into `s`, always at character starts.

// The first position at or after `pos` that is not whitespace (s.size() if none).
size_t skip_spaces(std::string_view s, size_t pos) noexcept;

// End of [begin, end) without its trailing whitespace.
size_t trim_end(std::string_view s, size_t begin, size_t end) noexcept;

bool has_line_break(std::string_view s, size_t begin, size_t end) noexcept;

// The word that ends at `end` (no earlier than `floor`), without opening marks in front of it.
// `raw_begin` receives where the word starts, opening marks included.
std::string_view word_before(std::string_view s, size_t floor, size_t end, size_t& raw_begin);

// The run of cased letters starting at `pos` ("Oktober" of "Oktober 2020").
std::string_view letters_at(std::string_view s, size_t pos);

}  // namespace tolk::text
