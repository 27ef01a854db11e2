// incident_workload.cc — see incident_workload.h.
#include "incident_workload.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>

namespace tolk::bench {

namespace {

// Ordinary English words, no sentence-ending punctuation, so that any sentence splitter sees
// one sentence per text. Lengths are calibrated in tokens with the model's own tokenizer.
const char* const kWords[] = {
    "the", "file", "open", "window", "system", "user", "time", "people", "water", "house",
    "small", "large", "green", "river", "city", "morning", "evening", "market", "school", "book",
    "letter", "table", "chair", "garden", "friend", "family", "road", "car", "train", "station",
    "north", "south", "mountain", "village", "bread", "coffee", "music", "story", "report", "data",
    "server", "request", "answer", "question", "language", "world", "country", "night", "day",
    "week", "year", "work", "office", "price", "money", "child", "mother", "father", "doctor",
    "hospital", "weather", "rain", "snow", "summer", "winter", "light", "dark", "old", "new",
    "good", "quick", "slow", "long", "short", "early", "late", "and", "with", "from", "under",
    "over", "after", "before", "near", "into", "about", "many", "every", "other", "first",
    "second", "last", "next", "simple", "important", "public", "private", "local", "national",
};
constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);

std::string make_sentence(uint64_t stream, int64_t words) {
  std::mt19937_64 rng(stream);
  std::uniform_int_distribution<size_t> pick(0, kWordCount - 1);
  std::string s;
  for (int64_t i = 0; i < words; ++i) {
    std::string w = kWords[pick(rng)];
    if (i == 0) w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    s += (i ? " " : "") + w;
  }
  return s;
}

// tolk's public API has no tokenizer call, so tokens are counted through the length check: a
// model loaded with max_input_tokens = 1 rejects every text with kInputTooLong, and the
// message names the count ("input is N tokens; ..."). nullopt when that does not work.
class TokenCounter {
 public:
  TokenCounter(TranslatorEngine& engine, const Params& p) : engine_(engine), p_(p) {
    ModelOptions mo;
    mo.mode = ExecutionMode::kExclusive;
    mo.max_input_tokens = 1;
    mo.sentence_splitting = SentenceSplitting::kOff;
    engine_.load_model(kName, p.model_dir, mo);
  }
  ~TokenCounter() {
    try {
      engine_.unload_model(kName);
    } catch (...) {
    }
  }
  std::optional<int64_t> count(const std::string& text) {
    TranslationOptions o;
    o.max_new_tokens = 1;
    try {
      engine_.translate_sync(kName, text, p_.src_lang, p_.tgt_lang, o);
    } catch (const Error& e) {
      if (e.code() != StatusCode::kInputTooLong) throw;
      const char* prefix = "input is ";
      const char* at = std::strstr(e.what(), prefix);
      if (!at) return std::nullopt;
      char* end = nullptr;
      const long long n = std::strtoll(at + std::strlen(prefix), &end, 10);
      if (end == at + std::strlen(prefix) || std::strncmp(end, " tokens", 7) != 0) return std::nullopt;
      return n;
    }
    return std::nullopt;
  }

 private:
  static constexpr const char* kName = "tolk_bench_token_counter";
  TranslatorEngine& engine_;
  const Params& p_;
};

// The number of words whose sentence (stream `stream`) is closest to `target` tokens.
int64_t calibrate_words(TokenCounter& counter, uint64_t stream, int64_t target, bool* counted) {
  int64_t words = std::max<int64_t>(1, target - 2);
  int64_t best_words = words, best_diff = INT64_MAX;
  std::map<int64_t, int64_t> seen;
  for (int i = 0; i < 12; ++i) {
    const auto n = counter.count(make_sentence(stream, words));
    if (!n) {
      *counted = false;
      return std::max<int64_t>(1, target / 2);
    }
    seen[words] = *n;
    const int64_t diff = std::llabs(*n - target);
    if (diff < best_diff || (diff == best_diff && *n <= target)) {
      best_diff = diff;
      best_words = words;
    }
    if (*n == target) break;
    const double per_word = static_cast<double>(std::max<int64_t>(1, *n - 2)) / static_cast<double>(words);
    int64_t next = std::max<int64_t>(1, std::llround(static_cast<double>(target - 2) / per_word));
    if (next == words) next += *n < target ? 1 : -1;
    if (next < 1 || seen.count(next)) break;
    words = next;
  }
  *counted = true;
  return best_words;
}

}  // namespace

Workload plan_workload(TranslatorEngine& engine, const Params& p) {
  Workload w;
  TokenCounter counter(engine, p);
  const uint64_t long_base = p.seed * 1000003ULL;
  const uint64_t short_stream = p.seed * 1000003ULL + 999983ULL;
  bool long_counted = false, short_counted = false;
  w.long_words = calibrate_words(counter, long_base, p.long_source_tokens, &long_counted);
  w.short_words = calibrate_words(counter, short_stream, p.short_source_tokens, &short_counted);
  for (int64_t i = 0; i < p.long_sentences; ++i) {
    w.long_texts.push_back(make_sentence(long_base + static_cast<uint64_t>(i), w.long_words));
    if (long_counted) {
      const auto n = counter.count(w.long_texts.back());
      w.long_source_tokens.push_back(n ? static_cast<double>(*n) : kNaN);
    }
  }
  w.short_text = make_sentence(short_stream, w.short_words);
  if (short_counted) {
    const auto n = counter.count(w.short_text);
    if (n) w.short_source_tokens = static_cast<double>(*n);
  }
  return w;
}

}  // namespace tolk::bench
