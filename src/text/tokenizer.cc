// tokenizer.cc — see tokenizer.h. The rules are NOTES.md §5; comments name the HF code paths.
#include "text/tokenizer.h"


#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "text/nllb_language_codes.h"
#include "text/sentencepiece_model.h"
#include "text/special_token_splitter.h"
#include "text/utf8.h"
#include "tolk/status.h"

namespace tolk::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kBosId = 0, kPadId = 1, kEosId = 2, kUnkId = 3;
constexpr const char* kFixedTokens[] = {"<s>", "<pad>", "</s>", "<unk>"};
constexpr const char* kMaskToken = "<mask>";
// No real vocabulary comes near this; it keeps hostile ids from overflowing arithmetic.
constexpr int64_t kMaxTokenId = std::numeric_limits<int32_t>::max();

// Index of a fixed special (0 <s> … 3 <unk>), or -1.
int64_t fixed_index(const std::string& content) {
  for (int64_t i = 0; i < 4; ++i) {
    if (content == kFixedTokens[i]) return i;
  }
  return -1;
}

[[noreturn]] void invalid(const fs::path& file, const std::string& what) {
  throw Error(StatusCode::kInvalidModel, file.string() + ": " + what);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(StatusCode::kFileNotFound, path.string() + ": cannot open file");
  // istreambuf_iterator rather than `buf << rdbuf()`: the latter flags an empty file as a failure.
  std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw Error(StatusCode::kFileNotFound, path.string() + ": read error");
  return data;
}

// nullopt when the (optional) file is absent.
std::optional<json> read_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  if (!fs::is_regular_file(path, ec)) invalid(path, "not a regular file");
  const std::string text = read_file(path);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) invalid(path, "not valid JSON");
  if (!j.is_object()) invalid(path, "expected a JSON object");
  return j;
}

// HF writes special tokens either as a string or as a serialised AddedToken object.
std::string token_content(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.at("content").get<std::string>();
}

void apply_flags(AddedToken& t, const json& v) {
  if (!v.is_object()) return;
  t.lstrip = v.value("lstrip", t.lstrip);
  t.rstrip = v.value("rstrip", t.rstrip);
  t.single_word = v.value("single_word", t.single_word);
  t.special = v.value("special", t.special);
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// Printable, bounded rendering of user input inside error messages.
std::string printable(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out + (s.size() > 64 ? "…\"" : "\"");
}

}  // namespace

struct Tokenizer::Impl {
  std::unique_ptr<SentencePieceModel> sp;
  int64_t sp_size = 0;
  int64_t base_vocab = 0;  // HF's `vocab_size` property: sp_size + 202 + 2
  int64_t size = 0;
  int64_t mask_id = -1;
  bool legacy = false;
  std::vector<AddedToken> added;  // every added token, sorted by id
  std::unordered_map<int64_t, size_t> added_by_id;
  std::unordered_map<std::string, int64_t> language_ids;
  std::vector<std::string> languages;  // id order
  std::vector<int64_t> language_id_list;
  SpecialTokenSplitter splitter;

  const AddedToken* added_token(int64_t id) const {
    auto it = added_by_id.find(id);
    return it == added_by_id.end() ? nullptr : &added[it->second];
  }
  // The token text of `id`; false when the tokenizer has none (out of range, or a gap).
  bool token_text(int64_t id, std::string& out) const {
    if (const AddedToken* t = added_token(id)) {
      out = t->content;
      return true;
    }
    if (id < 1 || id > sp_size) return false;  // id − 1 must be an spm piece
    out = sp->id_to_piece(static_cast<int>(id - 1));
    return true;
  }
};

std::shared_ptr<const Tokenizer> Tokenizer::load(const std::string& model_dir,
                                                 TokenizerOptions options) {
  auto impl = std::make_unique<Impl>();
  const fs::path dir(model_dir);
  const fs::path model_path = dir / "sentencepiece.bpe.model";
  std::error_code ec;
  if (!fs::exists(model_path, ec) || !fs::is_regular_file(model_path, ec)) {
    throw Error(StatusCode::kFileNotFound, model_path.string() + ": SentencePiece model not found");
  }
  try {
    impl->sp = std::make_unique<SentencePieceModel>(read_file(model_path));
  } catch (const Error& e) {
    if (e.code() != StatusCode::kInvalidModel) throw;
    invalid(model_path, std::string("not a valid SentencePiece model (") + e.what() + ")");
  }
  impl->sp_size = impl->sp->piece_size();
  if (impl->sp_size < 1 || impl->sp_size > kMaxTokenId / 2) invalid(model_path, "bad piece count");
  const int64_t sp_size = impl->sp_size;
  const auto& fairseq_codes = nllb_language_codes();
  const int64_t n_codes = static_cast<int64_t>(fairseq_codes.size());
  impl->base_vocab = sp_size + n_codes + 2;

  // Defaults (v4.36 NllbTokenizer.__init__): fixed specials, codes and <mask> by formula.
  std::vector<AddedToken> table;
  std::unordered_map<std::string, size_t> by_content;
  auto add = [&](AddedToken t) {
    by_content.emplace(t.content, table.size());
    table.push_back(std::move(t));
  };
  for (int64_t i = 0; i < 4; ++i) add({kFixedTokens[i], i});
  for (int64_t i = 0; i < n_codes; ++i) add({fairseq_codes[i], sp_size + 1 + i});
  add({kMaskToken, sp_size + n_codes + 1, /*lstrip=*/true});
  std::vector<std::string> extra_languages;  // code-shaped additional tokens not in fairseq's list
  std::vector<std::string> unplaced;         // additional tokens with no id in the files

  const fs::path map_path = dir / "special_tokens_map.json";
  const fs::path config_path = dir / "tokenizer_config.json";
  std::optional<bool> config_legacy;
  // Both files are parsed inside one handler each so that a wrong type anywhere reports the file.
  auto note_additional = [&](const json& list) {
    for (const json& v : list) {
      const std::string content = token_content(v);
      if (by_content.count(content)) continue;
      if (looks_like_nllb_code(content)) extra_languages.push_back(content);
      AddedToken t{content, -1};
      apply_flags(t, v);
      add(std::move(t));
      unplaced.push_back(content);
    }
  };
  for (const fs::path& path : {map_path, config_path}) {
    const std::optional<json> j = read_json(path);
    if (!j) continue;
    try {
      if (j->contains("additional_special_tokens") && !(*j)["additional_special_tokens"].is_null()) {
        note_additional(j->at("additional_special_tokens"));
      }
      if (j->contains("mask_token") && (*j)["mask_token"].is_object()) {
        apply_flags(table[by_content.at(kMaskToken)], (*j)["mask_token"]);
      }
      if (path != config_path) continue;
      if (j->contains("legacy_behaviour") && !(*j)["legacy_behaviour"].is_null()) {
        config_legacy = j->at("legacy_behaviour").get<bool>();
      }
      // added_tokens_decoder is the saved truth for ids and flags (NOTES.md §6.1).
      if (!j->contains("added_tokens_decoder")) continue;
      if (!(*j)["added_tokens_decoder"].is_object()) invalid(path, "added_tokens_decoder is not an object");
      for (const auto& [key, v] : j->at("added_tokens_decoder").items()) {
        // Digits only: stoll alone would also take " 5", "+5" and "5x" (with `used`).
        const bool digits = !key.empty() && key.size() <= 10 &&
                            std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
        const long long id = digits ? std::stoll(key) : -1;
        if (id < 0 || id > kMaxTokenId) invalid(path, "bad token id " + printable(key));
        const std::string content = token_content(v);
        auto it = by_content.find(content);
        if (it == by_content.end()) {
          add({content, id});
          it = by_content.find(content);
        }
        table[it->second].id = id;
        apply_flags(table[it->second], v);
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {  // nlohmann type/key errors, stoll failures
      invalid(path, std::string("unexpected content: ") + e.what());
    }
  }
  impl->legacy = options.legacy_behaviour.value_or(config_legacy.value_or(false));

  // Tokens only named in additional_special_tokens get the next free ids, as HF's add_tokens.
  int64_t next_id = sp_size + 1;
  for (const auto& t : table) next_id = std::max(next_id, t.id + 1);
  for (const auto& content : unplaced) {
    AddedToken& t = table[by_content.at(content)];
    if (t.id < 0) t.id = next_id++;
  }

  // Consistency: the spm mapping s → s + 1 needs the fixed four at 0..3 and every other added
  // token above the spm range; ids must be unique.
  std::sort(table.begin(), table.end(), [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  for (size_t i = 0; i < table.size(); ++i) {
    const AddedToken& t = table[i];
    const int64_t fixed = fixed_index(t.content);
    if (fixed >= 0 && t.id != fixed) {
      invalid(config_path, "special token " + printable(t.content) + " must have id " + std::to_string(fixed));
    }
    if (fixed < 0 && t.id <= sp_size) {
      invalid(config_path, "added token " + printable(t.content) + " has id " + std::to_string(t.id) +
                               ", inside the SentencePiece range");
    }
    if (i > 0 && table[i - 1].id == t.id) invalid(config_path, "duplicate token id " + std::to_string(t.id));
    impl->added_by_id.emplace(t.id, i);
  }
  impl->size = std::max(sp_size + 1, table.back().id + 1);

  for (const AddedToken& t : table) {
    auto listed = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), t.content) != v.end(); };
    const bool is_code = listed(fairseq_codes) || listed(extra_languages);
    if (is_code) {
      impl->language_ids.emplace(t.content, t.id);
      impl->languages.push_back(t.content);
      impl->language_id_list.push_back(t.id);
    }
    if (t.content == kMaskToken) impl->mask_id = t.id;
  }
  impl->added = table;
  impl->splitter = SpecialTokenSplitter(std::move(table));
  return std::shared_ptr<const Tokenizer>(new Tokenizer(std::move(impl)));
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

std::vector<int64_t> Tokenizer::encode(std::string_view text, const std::string& lang,
                                       const char* what) const {
  check_utf8(text, what);
  const int64_t lang_id = language_id(lang);
  std::vector<int64_t> ids;
  if (!impl_->legacy) ids.push_back(lang_id);
  std::vector<int> pieces;
  for (const TextChunk& chunk : impl_->splitter.split(text)) {
    if (chunk.id >= 0) {
      ids.push_back(chunk.id);
      continue;
    }
    // Plain sp.encode: nmt_nfkc, whitespace collapsing and the dummy prefix all happen here.
    pieces = impl_->sp->encode(chunk.text);
    for (int p : pieces) ids.push_back(p == 0 ? kUnkId : static_cast<int64_t>(p) + 1);
  }
  ids.push_back(kEosId);
  if (impl_->legacy) ids.push_back(lang_id);
  return ids;
}

std::vector<int64_t> Tokenizer::encode_source(std::string_view text, const std::string& src_lang) const {
  return encode(text, src_lang, "source text");
}

std::vector<int64_t> Tokenizer::encode_target(std::string_view text, const std::string& tgt_lang) const {
  return encode(text, tgt_lang, "target text");
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special, bool cleanup) const {
  // PreTrainedTokenizer._decode (v4.36): ordinary tokens accumulate and are turned into text by
  // NllbTokenizer.convert_tokens_to_string (join, ▁ → space, strip). Only "legacy added" tokens
  // (non-special, or special ones beyond the base vocab) cut the run, and the parts are then
  // joined by single spaces (spaces_between_special_tokens=True). Language codes and <mask>
  // are inside the base vocab, so "</s>fra_Latn Bonjour.</s>" comes out without spaces.
  auto to_string = [](const std::string& joined) {
    std::string s = joined;
    replace_all(s, "\xE2\x96\x81", " ");  // U+2581 ▁
    return std::string(strip_python_space(s, true, true));
  };
  std::vector<std::string> parts;
  std::string run, piece;
  bool have_run = false;
  for (int64_t id : ids) {
    if (id < 0 || id >= impl_->size || !impl_->token_text(id, piece)) continue;
    const AddedToken* t = impl_->added_token(id);
    if (skip_special && t != nullptr && t->special) continue;
    if (t != nullptr && (!t->special || t->id >= impl_->base_vocab)) {
      if (have_run) {
        std::string s = to_string(run);
        if (!s.empty()) parts.push_back(std::move(s));
      }
      run.clear();
      have_run = false;
      parts.push_back(t->content);
      continue;
    }
    run += piece;
    have_run = true;
  }
  if (have_run) parts.push_back(to_string(run));
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? " " : "") + parts[i];
  if (cleanup) {
    // PreTrainedTokenizerBase.clean_up_tokenization, in its order.
    static const std::pair<const char*, const char*> kRules[] = {
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto& [from, to] : kRules) replace_all(text, from, to);
  }
  return text;
}

std::vector<std::string> Tokenizer::tokens(const std::vector<int64_t>& ids) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  std::string piece;
  for (int64_t id : ids) {
    if (id < 0 || id >= impl_->size || !impl_->token_text(id, piece)) {
      throw Error(StatusCode::kInvalidArgument, "token id " + std::to_string(id) +
                                                    " is not in the tokenizer (size " +
                                                    std::to_string(impl_->size) + ")");
    }
    out.push_back(piece);
  }
  return out;
}

int64_t Tokenizer::language_id(const std::string& code) const {
  auto it = impl_->language_ids.find(code);
  if (it != impl_->language_ids.end()) return it->second;
  const auto close = suggest_language_codes(code, impl_->languages);
  std::string msg = "unknown language code " + printable(code);
  if (close.empty()) {
    msg += "; expected an NLLB code such as eng_Latn (" + std::to_string(impl_->languages.size()) + " known)";
  } else {
    msg += "; did you mean ";
    for (size_t i = 0; i < close.size(); ++i) msg += (i ? ", " : "") + close[i];
    msg += "?";
  }
  throw Error(StatusCode::kUnknownLanguage, msg);
}

bool Tokenizer::is_language(const std::string& code) const { return impl_->language_ids.count(code) > 0; }
bool Tokenizer::is_language_id(int64_t id) const {
  return std::binary_search(impl_->language_id_list.begin(), impl_->language_id_list.end(), id);
}
std::vector<std::string> Tokenizer::languages() const { return impl_->languages; }
int64_t Tokenizer::pad_id() const { return kPadId; }
int64_t Tokenizer::eos_id() const { return kEosId; }
int64_t Tokenizer::bos_id() const { return kBosId; }
int64_t Tokenizer::unk_id() const { return kUnkId; }
int64_t Tokenizer::mask_id() const { return impl_->mask_id; }
int64_t Tokenizer::size() const { return impl_->size; }
int64_t Tokenizer::sentencepiece_size() const { return impl_->sp_size; }
bool Tokenizer::legacy_behaviour() const { return impl_->legacy; }

}  // namespace tolk::text
