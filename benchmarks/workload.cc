// workload.cc — see workload.h.
#include "workload.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace tolk::bench {

std::vector<Sentence> read_test_split(const std::string& path, const std::string& src_lang,
                                      const std::string& tgt_lang, size_t limit) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the test split");
  std::vector<Sentence> all;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    Sentence s;
    if (!std::getline(fields, s.src_lang, '\t') || !std::getline(fields, s.tgt_lang, '\t') ||
        !std::getline(fields, s.source, '\t') || !std::getline(fields, s.reference))
      continue;
    if (s.src_lang == src_lang && s.tgt_lang == tgt_lang) all.push_back(std::move(s));
  }
  if (all.empty()) throw std::runtime_error(path + ": no " + src_lang + " → " + tgt_lang + " pairs");
  if (limit == 0 || all.size() <= limit) return all;
  std::vector<Sentence> picked;
  for (size_t i = 0; i < limit; ++i) picked.push_back(all[i * all.size() / limit]);
  return picked;
}

int64_t forced_length(const Sentence& s) {
  int64_t chars = 0;
  for (unsigned char c : s.reference) chars += (c & 0xC0) != 0x80;  // UTF-8 code points
  return std::clamp<int64_t>(chars / 3, 3, 200);
}

PassTotals translate_pass(TranslatorEngine& engine, const std::string& model,
                          const std::vector<Sentence>& sentences, const TranslationOptions& base,
                          bool force_lengths) {
  PassTotals t;
  std::vector<std::shared_ptr<TranslationRequest>> requests;
  requests.reserve(sentences.size());
  const auto start = std::chrono::steady_clock::now();
  for (const auto& s : sentences) {
    TranslationOptions o = base;
    if (force_lengths) o.min_new_tokens = o.max_new_tokens = forced_length(s);
    requests.push_back(engine.translate_async(model, s.source, s.src_lang, s.tgt_lang, o));
  }
  for (auto& r : requests) {
    auto result = r->take_result();
    ++t.sentences;
    t.source_tokens += result.source_tokens;
    t.generated_tokens += result.generated_tokens;
    if (!result.ok()) {
      ++t.failures;
      if (t.first_error.empty()) t.first_error = result.error;
    }
    t.outputs.push_back(result.ok() ? result.text : "");
    t.source_each.push_back(result.source_tokens);
    t.generated_each.push_back(result.generated_tokens);
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return t;
}

}  // namespace tolk::bench
