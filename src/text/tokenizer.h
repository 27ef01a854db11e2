// tokenizer.h — the NLLB tokenizer: exactly transformers v4.36.2's slow `NllbTokenizer`.
//
// Ids (NOTES.md §5): 0 <s>, 1 <pad>, 2 </s>, 3 <unk>; SentencePiece piece s → s + 1 (spm's own
// unk, id 0, → 3); the 202 FAIRSEQ language codes and <mask> come from tokenizer_config.json's
// `added_tokens_decoder` when it lists them, else from the formula sp_size + 1 + index and
// sp_size + 203. Never "append after the spm vocabulary" (that is the ≥ v4.38 behaviour).
//
// A loaded Tokenizer is immutable; every method is const and safe to call from many threads.
// SentencePiece stays behind a pimpl so this header is cheap to include.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tolk::text {

struct TokenizerOptions {
  // Layout of encoded sequences: false → [lang] + pieces + [</s>]; true → pieces + [</s>, lang].
  // Unset: tokenizer_config.json's "legacy_behaviour" (false when absent), as HF does.
  std::optional<bool> legacy_behaviour;
};

class Tokenizer {
 public:
  // Loads sentencepiece.bpe.model (required) and tokenizer_config.json / special_tokens_map.json
  // (optional) from model_dir. Throws tolk::Error: kFileNotFound when the SentencePiece model is
  // missing or a file cannot be read; kInvalidModel ("<file>: <what>") when a file is corrupt or
  // the special-token table is inconsistent.
  static std::shared_ptr<const Tokenizer> load(const std::string& model_dir,
                                               TokenizerOptions options = {});

  // Source ids for `text` in `src_lang`. Special-token texts inside `text` ("fra_Latn",
  // "<mask>") become their ids, as in HF. Throws kInvalidUtf8 or kUnknownLanguage.
  std::vector<int64_t> encode_source(std::string_view text, const std::string& src_lang) const;
  // Target ids (HF `labels` for text_target): same layout with tgt_lang.
  std::vector<int64_t> encode_target(std::string_view text, const std::string& tgt_lang) const;

  // HF decode. skip_special drops every special id (<s> <pad> </s> <unk> <mask>, language
  // codes); pieces are joined, ▁ becomes a space, the result is stripped, and with `cleanup`
  // HF's clean_up_tokenization rules are applied. With skip_special = false the specials are
  // kept verbatim ("</s>fra_Latn Bonjour.</s>"). Ids outside [0, size()) and ids the tokenizer
  // has no text for are dropped in both modes (real NLLB's model vocab exceeds the tokenizer's).
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = true,
                     bool cleanup = true) const;

  // Token text per id ("eng_Latn", "▁H", "</s>", "<unk>"). Throws kInvalidArgument for an id
  // the tokenizer has no text for.
  std::vector<std::string> tokens(const std::vector<int64_t>& ids) const;

  // Throws kUnknownLanguage, naming up to 5 close matches ("fra" → fra_Latn).
  int64_t language_id(const std::string& code) const;
  bool is_language(const std::string& code) const;
  bool is_language_id(int64_t id) const;
  std::vector<std::string> languages() const;  // in id order

  int64_t pad_id() const;
  int64_t eos_id() const;
  int64_t bos_id() const;
  int64_t unk_id() const;
  int64_t mask_id() const;
  int64_t size() const;                  // len(tokenizer): 454 for dev, 256204 for real NLLB
  int64_t sentencepiece_size() const;    // pieces in the .model file (250 for dev)
  bool legacy_behaviour() const;

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::vector<int64_t> encode(std::string_view text, const std::string& lang,
                              const char* what) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tolk::text
