// special_token_splitter.cc — see special_token_splitter.h.
#include "text/special_token_splitter.h"

#include <algorithm>
#include <utility>

#include "text/utf8.h"

namespace tolk::text {

bool is_python_space(char32_t c) noexcept {
  // The code points CPython's str.isspace() accepts (bidi class WS/B/S or category Zs).
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

std::string_view strip_python_space(std::string_view s, bool left, bool right) {
  size_t begin = 0, end = 0, pos = 0;
  bool seen_non_space = false;
  // One forward pass: remember where the first non-space starts and the last one ends.
  while (pos < s.size()) {
    const size_t start = pos;
    const char32_t c = next_code_point(s, pos);
    if (!is_python_space(c)) {
      if (!seen_non_space) begin = start;
      seen_non_space = true;
      end = pos;
    }
  }
  if (!seen_non_space) return (left || right) ? std::string_view() : s;
  const size_t b = left ? begin : 0;
  const size_t e = right ? end : s.size();
  return s.substr(b, e - b);
}

SpecialTokenSplitter::SpecialTokenSplitter(std::vector<AddedToken> tokens) {
  for (auto& t : tokens) {
    if (!t.content.empty()) tokens_.push_back(std::move(t));
  }
  for (uint32_t i = 0; i < tokens_.size(); ++i) {
    by_first_byte_[static_cast<unsigned char>(tokens_[i].content[0])].push_back(i);
  }
  for (auto& bucket : by_first_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(), [&](uint32_t a, uint32_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
  }
}

std::vector<TextChunk> SpecialTokenSplitter::split(std::string_view text) const {
  // Step 1: the trie split. Byte-wise matching equals HF's per-character matching because
  // UTF-8 is self-synchronising and contents are whole strings.
  std::vector<TextChunk> chunks;
  std::vector<const AddedToken*> chunk_token;  // the token of each special chunk, else nullptr
  size_t plain_start = 0, pos = 0;
  while (pos < text.size()) {
    const AddedToken* match = nullptr;
    for (uint32_t idx : by_first_byte_[static_cast<unsigned char>(text[pos])]) {
      const std::string& c = tokens_[idx].content;
      if (text.compare(pos, c.size(), c) == 0) {
        match = &tokens_[idx];
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    if (pos > plain_start) {
      chunks.push_back({std::string(text.substr(plain_start, pos - plain_start)), -1});
      chunk_token.push_back(nullptr);
    }
    chunks.push_back({match->content, match->id});
    chunk_token.push_back(match);
    pos += match->content.size();
    plain_start = pos;
  }
  if (text.size() > plain_start) {
    chunks.push_back({std::string(text.substr(plain_start)), -1});
    chunk_token.push_back(nullptr);
  }

  // Step 2: the AddedToken flags, in HF's order. A chunk whose text changes stops being a
  // token (HF re-checks membership by string), so it is sent to SentencePiece.
  auto set_text = [&](size_t i, std::string value) {
    if (value != chunks[i].text) {
      chunks[i].text = std::move(value);
      chunks[i].id = -1;
    }
  };
  for (size_t i = 0; i < chunks.size(); ++i) {
    const AddedToken* tok = chunk_token[i];
    if (tok == nullptr || chunks[i].id < 0) continue;
    // HF captures the neighbours before modifying them; single_word tests the originals.
    const std::string left = i > 0 ? chunks[i - 1].text : std::string();
    const std::string right = i + 1 < chunks.size() ? chunks[i + 1].text : std::string();
    if (tok->rstrip && !right.empty()) set_text(i + 1, std::string(strip_python_space(right, true, false)));
    if (tok->lstrip && !left.empty()) set_text(i - 1, std::string(strip_python_space(left, false, true)));
    if (tok->single_word && !left.empty() && left.back() != ' ') {
      set_text(i - 1, chunks[i - 1].text + chunks[i].text);
      set_text(i, std::string());
    } else if (tok->single_word && !right.empty() && right.front() != ' ') {
      set_text(i, chunks[i].text + right);
      set_text(i + 1, std::string());
    }
  }

  // Step 3: drop what stripping emptied.
  chunks.erase(std::remove_if(chunks.begin(), chunks.end(),
                              [](const TextChunk& c) { return c.text.empty(); }),
               chunks.end());
  return chunks;
}

}  // namespace tolk::text
