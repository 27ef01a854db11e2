// sentence_splitter.h — cuts long inputs into sentences, and sentences into pieces that fit.
//
// NLLB was trained on single sentences: a paragraph translated in one go tends to lose or
// repeat sentences, and a long input can exceed the model's maximum source length. The engine
// therefore translates sentence by sentence and joins the results, keeping the whitespace of the
// original between them.
//
// Rules of SentenceSplitMode::kPunctuation (rule-based, no statistical model):
//   * A sentence ends after a run of terminators (. ! ? … and runs like "?!", "...") plus any
//     closing quotes/brackets right after it (" ' ” ’ » « ) ] } 」 』 …), when whitespace follows
//     and the next character could start a sentence: anything but a lowercase letter or a
//     punctuation mark that only continues one (, ; : . ! ? ) …). "e.g. this" and "wait… and"
//     stay whole. The lowercase test is applied for every language; uncased scripts (Devanagari,
//     Arabic, CJK …) simply never have a lowercase next character.
//   * Strong terminators end a sentence even without whitespace after them: 。！？｡ (CJK),
//     । ॥ (Devanagari danda), ؟ ۔ (Arabic, Urdu), ։ (Armenian), ። (Ethiopic), ။ (Myanmar).
//   * A single "." does not end a sentence after: an abbreviation of the language (English,
//     French, German, Spanish lists, plus a few universal ones such as "Dr." and "etc."; some,
//     like English "No." or German "Art.", only before a number), a single cased letter (initials:
//     "J. R. R. Tolkien", "z. B.", "d. h."; English "I." excepted), dotted acronyms ("e.g.",
//     "U.S.", "z.B."), a number that starts the sentence (a list marker: "1. Open the box."),
//     and, in German, a 1–2 digit ordinal before a month name ("am 3. Oktober").
//   * Decimals, URLs, e-mail addresses, file names and versions ("3.14", "www.example.com",
//     "v1.2.3") never split: there is no whitespace after their dots.
//   * French spacing: "Bonjour !" keeps its "!" (the split happens after terminators, never
//     before), and a closing » after a (no-break) space belongs to the sentence: « Oui ! » Puis.
//   * Line breaks: a whitespace run containing a line break (\n, \r, \v, \f, U+0085, U+2028,
//     U+2029) always ends a sentence — a blank line is a paragraph break, and a single newline
//     too, because inputs with single newlines are mostly UI strings, lists and titles whose
//     lines are separate units. Hard-wrapped prose is therefore split at its line ends; callers
//     that want it whole should unwrap it first.
//   * Whitespace is ASCII whitespace plus U+0085, U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029,
//     U+202F, U+205F and U+3000.
// Limits: abbreviations outside the lists ("Gen.", "approx." in other languages) end sentences
// when a capitalised word follows; an abbreviation that really ends a sentence ("… Apple Inc.
// The …") does not split it — a missed split only makes one sentence longer, a wrong one breaks
// "Dr. | Smith" apart, so ties go to not splitting.
//
// All functions take byte offsets into UTF-8 text and never split a multi-byte sequence. They
// do not validate UTF-8 (the engine does that first); a malformed byte counts as one character.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tolk::text {

// Byte offsets [begin, end) into an input text.
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
};

inline bool operator==(const TextSpan& a, const TextSpan& b) noexcept {
  return a.begin == b.begin && a.end == b.end;
}
inline bool operator!=(const TextSpan& a, const TextSpan& b) noexcept { return !(a == b); }

enum class SentenceSplitMode { kOff, kPunctuation };

// Splits UTF-8 `text` into sentences for an NLLB language code such as "eng_Latn" (the part
// before '_' selects the abbreviation list; "eng" alone works too; unknown codes get the
// generic rules). Spans are non-empty, in order, and exclude the whitespace between sentences,
// so the gaps between them hold only whitespace (or nothing, after a strong terminator such as
// "。"). kOff gives one span covering the text without its leading/trailing whitespace. Both
// modes give an empty vector when the text is empty or only whitespace.
std::vector<TextSpan> split_sentences(std::string_view text, std::string_view language,
                                      SentenceSplitMode mode);

// Rebuilds a text from `original` and one replacement per span (spans in order, inside
// `original`): the original's text before the first span, each replacement, the original text
// between spans and after the last one, all kept verbatim. Where two spans touch (CJK input has
// no space between sentences) `touching_separator` is inserted between their replacements; pass
// " " when the replacements are in a language that separates sentences with spaces.
// Throws std::invalid_argument when the counts differ or the spans are out of order or range.
std::string join_sentences(std::string_view original, const std::vector<TextSpan>& spans,
                           const std::vector<std::string>& replacements,
                           std::string_view touching_separator = {});

// Cuts one sentence span of `text` into pieces whose count_tokens(piece text) is <= max_tokens.
// Leading/trailing whitespace of `sentence` is ignored; if the sentence already fits it comes
// back as one span. Cut preference, for each piece the longest prefix that fits:
//   1. after a clause mark — , ; : followed by whitespace, or ，；：、 (full-width, no space
//      needed), or Arabic ، ؛ followed by whitespace — as long as that piece is at least half as
//      long (in bytes) as the best whitespace cut, so one early comma does not make a tiny piece;
//   2. at whitespace;
//   3. at any character boundary (never inside a UTF-8 sequence).
// Pieces exclude the whitespace at a cut, so the pieces and the gaps between them give back the
// (trimmed) sentence. The search for the longest prefix assumes count_tokens grows with the
// text (it is binary search); each piece returned was checked with count_tokens, so the bound
// holds for any counter. Returns an empty vector when no cut fits — a single character already
// exceeds max_tokens — and the caller reports the error. Throws std::invalid_argument when the
// span is not inside `text`.
std::vector<TextSpan> split_to_fit(std::string_view text, TextSpan sentence, size_t max_tokens,
                                   const std::function<size_t(std::string_view)>& count_tokens);

}  // namespace tolk::text
