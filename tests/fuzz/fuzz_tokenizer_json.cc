// fuzz_tokenizer_json.cc — libFuzzer target for tokenizer_config.json / special_tokens_map.json
// loading (text/tokenizer.cc) and for the special-token table the files build.
//
// Tokenizer::load only takes a model directory, so LLVMFuzzerInitialize makes a temporary one
// holding a link to the dev checkpoint's sentencepiece.bpe.model; each execution writes the input
// there as a fresh file (never through a link, so tests/data is never written). Input layout: byte 0 picks which file receives the rest (bit 0: tokenizer_config.json or
// special_tokens_map.json) and whether the other file is the dev one or absent (bit 1). When the
// load succeeds, the added tokens are encoded and decoded, since fuzzed token texts feed the
// special-token splitter. tolk::Error is the documented failure; any other exception escaping,
// or an id outside [0, size()), is a bug and aborts.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "text/tokenizer.h"
#include "tolk/status.h"

namespace {

std::string g_dir;                   // the temporary model directory
std::string g_dev_config, g_dev_map;  // the dev checkpoint's two JSON files

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s (set TOLK_FUZZ_DEV_DIR)\n", path.c_str());
    std::abort();
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes a fresh file (O_EXCL after unlink: never through a link into tests/data).
void write_file(const std::string& path, const void* data, size_t size) {
  unlink(path.c_str());
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0 || (size && write(fd, data, size) != static_cast<ssize_t>(size)) || close(fd) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

void check_ids(const tolk::text::Tokenizer& tok, const std::vector<int64_t>& ids) {
  for (int64_t id : ids)
    if (id < 0 || id >= tok.size()) std::abort();
}

// Encodes text made of the highest ids' token texts (where fuzzed added tokens land), then
// decodes the result both ways.
void exercise(const tolk::text::Tokenizer& tok) {
  const std::vector<std::string> langs = tok.languages();
  if (langs.empty()) return;
  std::string text = "Hello <mask> world.";
  for (int64_t id = tok.size() - 1; id >= 0 && id >= tok.size() - 8; --id) {
    try {
      for (const std::string& t : tok.tokens({id})) text += " " + t;
    } catch (const tolk::Error&) {  // a gap in the id space
    }
  }
  for (const std::string& lang : {langs.front(), langs.back()}) {
    try {
      const std::vector<int64_t> ids = tok.encode_source(text, lang);
      check_ids(tok, ids);
      (void)tok.decode(ids, true, true);
      (void)tok.decode(ids, false, false);
      check_ids(tok, tok.encode_target(text, lang));
    } catch (const tolk::Error& e) {
      // The only documented encode failures are a bad language (not possible here) and invalid
      // UTF-8; token texts come from parsed JSON, which is valid UTF-8, so allow only that one.
      if (e.code() != tolk::StatusCode::kInvalidUtf8) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string dev = tolk_fuzz::dev_dir();
  g_dev_config = read_file(dev + "/tokenizer_config.json");
  g_dev_map = read_file(dev + "/special_tokens_map.json");
  char tmpl[] = "/tmp/tolk-fuzz-tok-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    std::abort();
  }
  g_dir = tmpl;
  std::atexit([] {
    for (const char* f : {"sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json"})
      unlink((g_dir + "/" + f).c_str());
    rmdir(g_dir.c_str());
  });
  // The model is only ever read, so a link to the dev copy is safe; the JSON files are written.
  const std::string model = dev + "/sentencepiece.bpe.model";
  if (access(model.c_str(), R_OK) != 0 || symlink(model.c_str(), (g_dir + "/sentencepiece.bpe.model").c_str()) != 0) {
    std::fprintf(stderr, "cannot use %s (set TOLK_FUZZ_DEV_DIR)\n", model.c_str());
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool fuzz_map = data[0] & 1;
  const bool keep_other = data[0] & 2;
  const std::string config = g_dir + "/tokenizer_config.json";
  const std::string map = g_dir + "/special_tokens_map.json";
  const std::string& fuzzed = fuzz_map ? map : config;
  const std::string& other = fuzz_map ? config : map;
  const std::string& other_dev = fuzz_map ? g_dev_config : g_dev_map;
  write_file(fuzzed, data + 1, size - 1);
  if (keep_other) write_file(other, other_dev.data(), other_dev.size());
  else unlink(other.c_str());
  try {
    const auto tok = tolk::text::Tokenizer::load(g_dir);
    exercise(*tok);
  } catch (const tolk::Error&) {
  }
  return 0;
}
