// nllb_language_codes.h — the 202 NLLB-200 language codes and "did you mean" suggestions.
//
// The list is fairseq's FAIRSEQ_LANGUAGE_CODES in its original order. The order matters: a
// tokenizer without an `added_tokens_decoder` gives code i the id sp_size + 1 + i (NOTES.md §5),
// exactly as transformers v4.36 does.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tolk::text {

inline constexpr size_t kNllbLanguageCount = 202;

// The codes in fairseq order ("ace_Arab" … "zul_Latn").
const std::vector<std::string>& nllb_language_codes();

// True for strings shaped like an NLLB code: three lowercase letters, '_', a capitalised
// four-letter script ("eng_Latn"). Used to tell languages from other additional special tokens.
bool looks_like_nllb_code(std::string_view s);

// Up to `max_results` entries of `known` that the user plausibly meant by `query` (a mistyped
// or partial code: "fra", "eng-latn", "fra_Latm", "french"), best first; empty when nothing is
// close. Case-insensitive; '-' counts as '_'.
std::vector<std::string> suggest_language_codes(std::string_view query,
                                                const std::vector<std::string>& known,
                                                size_t max_results = 5);

}  // namespace tolk::text
