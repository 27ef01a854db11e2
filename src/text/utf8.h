// utf8.h — strict UTF-8 validation (RFC 3629 / Unicode Table 3-7) and code-point helpers.
//
// Strict means: no overlong forms (C0, C1, E0 80.., F0 80..), no UTF-16 surrogates
// (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no truncated or stray continuation
// bytes. NUL bytes are valid UTF-8 and accepted.
#pragma once

#include <cstddef>
#include <string_view>

namespace tolk::text {

inline constexpr size_t kUtf8Valid = static_cast<size_t>(-1);

// Byte offset of the first invalid sequence in `s`, or kUtf8Valid when all of `s` is valid.
size_t find_invalid_utf8(std::string_view s) noexcept;

inline bool is_valid_utf8(std::string_view s) noexcept { return find_invalid_utf8(s) == kUtf8Valid; }

// Throws tolk::Error(kInvalidUtf8, "<what> is not valid UTF-8 (byte offset N)") when invalid.
void check_utf8(std::string_view s, const char* what);

// Decodes the code point starting at s[pos] and advances pos past it. `s` must be valid UTF-8
// (callers validate first); on malformed input it returns U+FFFD and advances one byte.
char32_t next_code_point(std::string_view s, size_t& pos) noexcept;

}  // namespace tolk::text
