// special_token_splitter.h — cuts raw text at special-token texts before SentencePiece sees it.
//
// This reproduces the slow `PreTrainedTokenizer.tokenize` of transformers v4.36 (NOTES.md §5):
//   1. the added-token trie splits the text at every occurrence of a token's content, taking the
//      leftmost match and, among matches starting there, the longest;
//   2. each token's AddedToken flags are applied in order: `rstrip` strips (Python) whitespace
//      from the start of the next chunk, `lstrip` from the end of the previous one (`<mask>` has
//      lstrip, so "a <mask>" loses the space), `single_word` glues the token to a neighbour
//      that is not separated by a space;
//   3. empty chunks are dropped.
// Chunks that are still a token keep its id; every other chunk goes to SentencePiece as is.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tolk::text {

struct AddedToken {
  std::string content;
  int64_t id = -1;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool special = true;  // dropped by decode(skip_special=true)
};

struct TextChunk {
  std::string text;
  int64_t id = -1;  // the token's id when this chunk is an added token; -1 for plain text
};

class SpecialTokenSplitter {
 public:
  SpecialTokenSplitter() = default;
  // Tokens with empty content are ignored (they would match everywhere).
  explicit SpecialTokenSplitter(std::vector<AddedToken> tokens);

  // `text` must be valid UTF-8. Never returns empty chunks.
  std::vector<TextChunk> split(std::string_view text) const;

 private:
  std::vector<AddedToken> tokens_;
  // Indices into tokens_ by the content's first byte, longest content first, so the first
  // match found at a position is the longest one.
  std::array<std::vector<uint32_t>, 256> by_first_byte_;
};

// Python's str.isspace() for one code point (what str.strip() with no argument removes).
bool is_python_space(char32_t c) noexcept;

// Python's s.lstrip() / s.rstrip() / s.strip() on valid UTF-8.
std::string_view strip_python_space(std::string_view s, bool left, bool right);

}  // namespace tolk::text
