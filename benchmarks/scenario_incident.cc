// scenario_incident.cc — the founding incident: a short interactive request arrives while a
// long bulk batch is being decoded, and waits for all of it.
//
// Per execution mode (exclusive, pool, continuous), in a fresh child process each so that
// LibTorch's process-global thread settings and the memory figures belong to that mode alone:
//   1. load the model; note VmRSS before and after, and the peak (VmHWM) over the whole run;
//   2. the short request alone, on an idle engine, --idle-runs times (median);
//   3. the long request alone, --long-alone-runs times (median);
//   4. --repeats times: start the long request (translate_batch of --long-sentences sentences,
//      bulk priority, exactly --long-tokens new tokens each), and after a random offset in
//      [--offset-min-ms, --offset-max-ms] (seeded) send the short one (translate_sync, one
//      sentence, interactive priority, exactly --short-tokens new tokens); time both.
// Reported: short latency under load / alone (p50, p95), long time under load / alone, RSS,
// and the longest extra wait of the short request (under-load latency − idle median), an
// approximation of "the longest an arrival waits for the unit in progress".
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "bench_util.h"
#include "scenarios.h"
#include "tolk/engine.h"

extern char** environ;

namespace tolk::bench {

const char* const kIncidentSummary =
    "a short interactive request arrives while a long bulk batch decodes (exclusive, pool, "
    "continuous)";

const char* const kIncidentFlags =
    "      --model DIR             model directory (default build/bench-models/nllb-60m-random;\n"
    "                              make it with: python3 benchmarks/random_model.py)\n"
    "      --modes LIST            comma-separated: exclusive,pool,continuous (default all three)\n"
    "      --quick                 small sizes: 8 long sentences x 50 tokens, 5 repeats, 5 idle runs\n"
    "      --repeats N             long+short pairs measured per mode (default 20)\n"
    "      --shorts-per-long N     short requests per long one, each on its own thread at its own\n"
    "                              random offset (default 1); e.g. --repeats 1 --shorts-per-long 20\n"
    "      --long-sentences N      sentences in the long batch (default 64)\n"
    "      --long-tokens N         new tokens per long sentence, forced (default 200); also the\n"
    "                              source length aimed at unless --long-source-tokens is given\n"
    "      --long-source-tokens N  source tokens per long sentence, incl. language code and </s>\n"
    "      --short-tokens N        new tokens of the short request, forced (default 8)\n"
    "      --short-source-tokens N source tokens of the short request (default 8)\n"
    "      --idle-runs N           short request alone, runs for the median (default 10)\n"
    "      --long-alone-runs N     long request alone, runs for the median (default 1)\n"
    "      --offset-min-ms N, --offset-max-ms N  arrival of the short one after the long one's\n"
    "                              start, uniform (default 50, 500)\n"
    "      --seed N                offsets and texts (default 1)\n"
    "      --intra-threads N       EngineOptions.intra_threads, every mode (default 2)\n"
    "      --workers N, --threads-per-worker N   pool mode (default 2, 1)\n"
    "      --max-batch-sequences N, --max-batch-tokens N, --encode-chunk-tokens N,\n"
    "      --batch-window-ms N, --bulk-min-share X   continuous mode (default: the engine's)\n"
    "      --src LANG, --tgt LANG  (default eng_Latn, fra_Latn)\n"
    "      --compute-type TYPE     every mode: float32 (default), bfloat16, int8, auto\n"
    "      --in-process            run the modes one after another in this process (no child\n"
    "                              per mode; thread settings and memory figures then mix)\n"
    "      --json PATH             write the report, with every sample, as JSON\n";

namespace {

constexpr double kGoalShortRatio = 1.2;  // continuous: short latency under load ≤ 1.2× idle
constexpr double kGoalLongRatio = 1.1;   // continuous: long time under load ≤ 1.1× alone
const double kNaN = std::nan("");

// ---- parameters ---------------------------------------------------------------------------

struct Params {
  std::string model_dir;
  std::vector<std::string> modes;
  bool quick = false;
  bool in_process = false;
  int64_t repeats = 20;
  int64_t shorts_per_long = 1;
  int64_t long_sentences = 64;
  int64_t long_tokens = 200;
  int64_t long_source_tokens = 200;
  int64_t short_tokens = 8;
  int64_t short_source_tokens = 8;
  int64_t idle_runs = 10;
  int64_t long_alone_runs = 1;
  int64_t offset_min_ms = 50;
  int64_t offset_max_ms = 500;
  uint64_t seed = 1;
  int intra_threads = 2;
  int workers = 2;
  int threads_per_worker = 1;
  std::optional<int64_t> max_batch_sequences, max_batch_tokens, encode_chunk_tokens, batch_window_ms;
  std::optional<double> bulk_min_share;
  std::string src_lang = "eng_Latn";
  std::string tgt_lang = "fra_Latn";
  std::string compute_type = "float32";
};

bool file_exists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

std::string default_model_dir(const Context& ctx) {
  const std::string rel = "bench-models/nllb-60m-random";
  std::vector<std::string> candidates = {"build/" + rel};
  const auto slash = ctx.self_exe.rfind('/');
  if (slash != std::string::npos) {
    const std::string dir = ctx.self_exe.substr(0, slash);
    candidates.push_back(dir + "/" + rel);        // binary in build/
    candidates.push_back(dir + "/../" + rel);     // binary in build/benchmarks/
  }
  for (const auto& c : candidates)
    if (file_exists(c + "/config.json")) return c;
  return candidates.front();
}

int64_t positive(Flags& f, const std::string& name, int64_t fallback, int64_t min = 1) {
  const int64_t v = f.get_int(name, fallback);
  if (v < min) throw std::invalid_argument(fmt::format("--{} must be >= {}", name, min));
  return v;
}

Params parse_params(Flags& f, const Context& ctx) {
  Params p;
  p.quick = f.get_switch("quick");
  p.in_process = f.get_switch("in-process");
  if (p.quick) {
    p.repeats = 5;
    p.long_sentences = 8;
    p.long_tokens = 50;
    p.idle_runs = 5;
  }
  p.model_dir = f.get_string("model", "");
  if (p.model_dir.empty()) p.model_dir = default_model_dir(ctx);
  p.modes = split_list(f.get_string("modes", "exclusive,pool,continuous"));
  if (p.modes.empty()) throw std::invalid_argument("--modes is empty");
  for (const auto& m : p.modes)
    if (m != "exclusive" && m != "pool" && m != "continuous")
      throw std::invalid_argument("unknown mode '" + m + "' (exclusive, pool, continuous)");
  p.repeats = positive(f, "repeats", p.repeats);
  p.shorts_per_long = positive(f, "shorts-per-long", p.shorts_per_long);
  p.long_sentences = positive(f, "long-sentences", p.long_sentences);
  p.long_tokens = positive(f, "long-tokens", p.long_tokens);
  p.long_source_tokens = positive(f, "long-source-tokens", p.long_tokens, 3);
  p.short_tokens = positive(f, "short-tokens", p.short_tokens);
  p.short_source_tokens = positive(f, "short-source-tokens", p.short_source_tokens, 3);
  p.idle_runs = positive(f, "idle-runs", p.idle_runs);
  p.long_alone_runs = positive(f, "long-alone-runs", p.long_alone_runs);
  p.offset_min_ms = positive(f, "offset-min-ms", p.offset_min_ms, 0);
  p.offset_max_ms = positive(f, "offset-max-ms", p.offset_max_ms, 0);
  if (p.offset_max_ms < p.offset_min_ms)
    throw std::invalid_argument("--offset-max-ms must be >= --offset-min-ms");
  p.seed = static_cast<uint64_t>(positive(f, "seed", 1, 0));
  p.intra_threads = static_cast<int>(positive(f, "intra-threads", p.intra_threads, 0));
  p.workers = static_cast<int>(positive(f, "workers", p.workers));
  p.threads_per_worker = static_cast<int>(positive(f, "threads-per-worker", p.threads_per_worker, 0));
  p.max_batch_sequences = f.get_optional_int("max-batch-sequences");
  p.max_batch_tokens = f.get_optional_int("max-batch-tokens");
  p.encode_chunk_tokens = f.get_optional_int("encode-chunk-tokens");
  p.compute_type = f.get_string("compute-type", p.compute_type);
  p.batch_window_ms = f.get_optional_int("batch-window-ms");
  p.bulk_min_share = f.get_optional_double("bulk-min-share");
  p.src_lang = f.get_string("src", p.src_lang);
  p.tgt_lang = f.get_string("tgt", p.tgt_lang);
  require_all_flags_used(f);
  return p;
}

Json params_json(const Params& p) {
  Json j = Json::object();
  j.set("model", p.model_dir);
  j.set("modes", p.modes);
  j.set("compute_type", p.compute_type);
  j.set("quick", p.quick);
  j.set("repeats", p.repeats);
  j.set("shorts_per_long", p.shorts_per_long);
  j.set("long_sentences", p.long_sentences);
  j.set("long_new_tokens", p.long_tokens);
  j.set("long_source_tokens_target", p.long_source_tokens);
  j.set("short_new_tokens", p.short_tokens);
  j.set("short_source_tokens_target", p.short_source_tokens);
  j.set("idle_runs", p.idle_runs);
  j.set("long_alone_runs", p.long_alone_runs);
  j.set("offset_min_ms", p.offset_min_ms);
  j.set("offset_max_ms", p.offset_max_ms);
  j.set("seed", static_cast<int64_t>(p.seed));
  j.set("intra_threads", p.intra_threads);
  j.set("pool_workers", p.workers);
  j.set("pool_threads_per_worker", p.threads_per_worker);
  j.set("src", p.src_lang);
  j.set("tgt", p.tgt_lang);
  j.set("isolation", p.in_process ? "in-process" : "one child process per mode");
  return j;
}

// ---- one result row, as flat values (crosses the parent/child boundary as key=value lines) --

struct Row {
  std::map<std::string, std::string> str;
  std::map<std::string, double> num;
  std::map<std::string, std::vector<double>> vec;

  double get(const std::string& k) const {
    auto it = num.find(k);
    return it == num.end() ? kNaN : it->second;
  }
  const std::vector<double>& samples(const std::string& k) const {
    static const std::vector<double> empty;
    auto it = vec.find(k);
    return it == vec.end() ? empty : it->second;
  }
  std::string text(const std::string& k) const {
    auto it = str.find(k);
    return it == str.end() ? std::string() : it->second;
  }
};

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::string serialize(const Row& r) {
  std::string out;
  for (const auto& [k, v] : r.str) out += fmt::format("s {} {}\n", k, one_line(v));
  for (const auto& [k, v] : r.num) out += fmt::format("n {} {:.17g}\n", k, v);
  for (const auto& [k, v] : r.vec) {
    out += fmt::format("v {}", k);
    for (double x : v) out += fmt::format(" {:.17g}", x);
    out += "\n";
  }
  return out;
}

Row deserialize(const std::string& text) {
  Row r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() < 3) continue;
    const char kind = line[0];
    const auto sp = line.find(' ', 2);
    const std::string key = line.substr(2, sp == std::string::npos ? std::string::npos : sp - 2);
    const std::string rest = sp == std::string::npos ? std::string() : line.substr(sp + 1);
    if (kind == 's') {
      r.str[key] = rest;
    } else if (kind == 'n') {
      r.num[key] = std::strtod(rest.c_str(), nullptr);
    } else if (kind == 'v') {
      std::istringstream values(rest);
      std::vector<double> v;
      std::string x;
      while (values >> x) v.push_back(std::strtod(x.c_str(), nullptr));
      r.vec[key] = std::move(v);
    }
  }
  return r;
}

// ---- texts --------------------------------------------------------------------------------
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

struct Workload {
  std::vector<std::string> long_texts;
  std::string short_text;
  int64_t long_words = 0, short_words = 0;
  std::vector<double> long_source_tokens;  // empty when counting failed
  double short_source_tokens = kNaN;
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

// ---- one mode -----------------------------------------------------------------------------

// "engine queue 2.1 + encode 9.3 + decode 80.2 = 91.6 ms": where a request's time went.
std::string phases(const TranslationTimings& t) {
  return fmt::format("engine queue {:.1f} + encode {:.1f} + decode {:.1f} = {:.1f} ms", t.queue_ms,
                     t.encode_ms, t.decode_ms, t.total_ms);
}

ModelOptions model_options(const Params& p, const std::string& mode, Row& row) {
  ModelOptions mo;
  mo.sentence_splitting = SentenceSplitting::kOff;  // one text = one sentence, as calibrated
  mo.compute_type = p.compute_type;
  if (mode == "exclusive") {
    mo.mode = ExecutionMode::kExclusive;
  } else if (mode == "pool") {
    mo.mode = ExecutionMode::kPool;
    mo.workers = p.workers;
    mo.threads_per_worker = p.threads_per_worker;
  } else {
    mo.mode = ExecutionMode::kContinuous;
    if (p.max_batch_sequences) mo.max_batch_sequences = *p.max_batch_sequences;
    if (p.max_batch_tokens) mo.max_batch_tokens = *p.max_batch_tokens;
    if (p.encode_chunk_tokens) mo.encode_chunk_tokens = *p.encode_chunk_tokens;
    if (p.batch_window_ms) mo.batch_window_ms = *p.batch_window_ms;
    if (p.bulk_min_share) mo.bulk_min_share = *p.bulk_min_share;
  }
  std::string settings = fmt::format("intra_threads={} compute_type={}", p.intra_threads, p.compute_type);
  if (mode == "pool")
    settings += fmt::format(" workers={} threads_per_worker={}", mo.workers, mo.threads_per_worker);
  if (mode == "continuous")
    settings += fmt::format(
        " max_batch_sequences={} max_batch_tokens={} encode_chunk_tokens={} batch_window_ms={} "
        "bulk_min_share={} aging_ms={}",
        mo.max_batch_sequences, mo.max_batch_tokens, mo.encode_chunk_tokens, mo.batch_window_ms,
        mo.bulk_min_share, mo.aging_ms);
  row.str["settings"] = settings;
  return mo;
}

std::string describe_error(const std::exception& e) {
  if (const auto* te = dynamic_cast<const Error*>(&e))
    return fmt::format("{}: {}", status_code_name(te->code()), te->what());
  return e.what();
}

// Generated tokens of a result as the engine counts them (else: its ids minus the decoder
// start token).
double generated(const TranslationResult& r) {
  if (r.generated_tokens > 0) return static_cast<double>(r.generated_tokens);
  return r.ids.empty() ? 0.0 : static_cast<double>(r.ids.size() - 1);
}

Row run_mode(const Params& p, const std::string& mode, bool progress) {
  Row row;
  row.str["mode"] = mode;
  std::string stage = "engine";
  auto say = [&](const std::string& s) {
    if (!progress) return;
    fmt::print("  [{}] {}\n", mode, s);
    std::fflush(stdout);
  };
  try {
    EngineOptions eo;
    eo.intra_threads = p.intra_threads;
    TranslatorEngine engine(eo);

    stage = "token counting";
    const Workload w = plan_workload(engine, p);
    row.num["long_words_per_sentence"] = static_cast<double>(w.long_words);
    row.num["short_words"] = static_cast<double>(w.short_words);
    row.vec["long_source_tokens"] = w.long_source_tokens;
    row.num["short_source_tokens"] = w.short_source_tokens;
    say(fmt::format("long: {} sentences x {} words = {} source tokens each (min..max); short: {} "
                    "words = {} tokens",
                    w.long_texts.size(), w.long_words,
                    w.long_source_tokens.empty()
                        ? std::string("?")
                        : fmt::format("{}..{}", min_of(w.long_source_tokens), max_of(w.long_source_tokens)),
                    w.short_words, std::isnan(w.short_source_tokens) ? std::string("?")
                                                                     : fmt::format("{}", w.short_source_tokens)));

    stage = "load";
    const ModelOptions mo = model_options(p, mode, row);
    row.num["rss_before_load_mib"] = vm_mib("VmRSS");
    row.num["peak_reset"] = reset_peak_rss() ? 1 : 0;
    auto t0 = Clock::now();
    engine.load_model("bench", p.model_dir, mo);
    row.num["load_ms"] = ms_since(t0);
    row.num["rss_after_load_mib"] = vm_mib("VmRSS");
    row.str["loaded"] = "yes";
    row.str["load_average_start"] = load_average();
    say(fmt::format("loaded in {:.0f} ms ({}); RSS {:.0f} MiB", row.num["load_ms"], row.str["settings"],
                    row.num["rss_after_load_mib"]));

    TranslationOptions short_opts;
    short_opts.max_new_tokens = p.short_tokens;
    short_opts.min_new_tokens = p.short_tokens;
    short_opts.priority = Priority::kInteractive;
    TranslationOptions long_opts;
    long_opts.max_new_tokens = p.long_tokens;
    long_opts.min_new_tokens = p.long_tokens;
    long_opts.priority = Priority::kBulk;

    std::vector<double> short_generated, long_generated;
    std::vector<double> engine_long_source, engine_short_source;  // TranslationResult::source_tokens
    std::mutex short_mutex;  // shorts may run on several threads at once (--shorts-per-long)
    // The engine's own account of a short request (queue, encode, decode) beside the time the
    // caller saw, so that a slow one says where its time went.
    auto run_short = [&](TranslationTimings* timings) {
      const auto s0 = Clock::now();
      TranslationResult r = engine.translate_sync("bench", w.short_text, p.src_lang, p.tgt_lang, short_opts);
      const double ms = ms_since(s0);
      if (timings) *timings = r.timings;
      std::lock_guard<std::mutex> guard(short_mutex);
      short_generated.push_back(generated(r));
      if (engine_short_source.empty()) engine_short_source.push_back(static_cast<double>(r.source_tokens));
      return ms;
    };
    auto run_long = [&]() {
      const auto l0 = Clock::now();
      auto results = engine.translate_batch("bench", w.long_texts, p.src_lang, p.tgt_lang, long_opts);
      const double ms = ms_since(l0);
      const bool first = engine_long_source.empty();
      for (const auto& r : results) {
        if (!r.ok())
          throw Error(r.status, fmt::format("long request item failed: {}", r.error));
        long_generated.push_back(generated(r));
        if (first) engine_long_source.push_back(static_cast<double>(r.source_tokens));
      }
      return ms;
    };

    stage = "warm-up";  // first calls allocate and pick kernels; the long shape with 2 tokens
    for (int i = 0; i < 3; ++i) run_short(nullptr);
    {
      TranslationOptions warm = long_opts;
      warm.max_new_tokens = std::min<int64_t>(2, p.long_tokens);
      warm.min_new_tokens = warm.max_new_tokens;
      engine.translate_batch("bench", w.long_texts, p.src_lang, p.tgt_lang, warm);
      short_generated.clear();
    }

    stage = "short alone";
    std::vector<double> short_alone, short_alone_queue;
    std::vector<TranslationTimings> alone_timings;
    for (int64_t i = 0; i < p.idle_runs; ++i) {
      TranslationTimings t;
      short_alone.push_back(run_short(&t));
      short_alone_queue.push_back(t.queue_ms);
      alone_timings.push_back(t);
    }
    row.vec["short_alone_ms"] = short_alone;
    row.vec["short_alone_queue_ms"] = short_alone_queue;
    const double short_idle = median(short_alone);
    say(fmt::format("short alone: median {:.1f} ms over {} runs{}", short_idle, short_alone.size(),
                    alone_timings.empty() ? std::string() : fmt::format(" (first: {})", phases(alone_timings[0]))));

    stage = "long alone";
    std::vector<double> long_alone;
    for (int64_t i = 0; i < p.long_alone_runs; ++i) {
      long_alone.push_back(run_long());
      say(fmt::format("long alone: {:.0f} ms", long_alone.back()));
    }
    row.vec["long_alone_ms"] = long_alone;

    stage = "under load";
    std::mt19937_64 rng(p.seed);
    std::uniform_int_distribution<int64_t> offset_dist(p.offset_min_ms, p.offset_max_ms);
    std::vector<double> offsets, short_load, short_queue, long_load, overlapped, short_first;
    for (int64_t rep = 0; rep < p.repeats; ++rep) {
      std::vector<int64_t> offset(static_cast<size_t>(p.shorts_per_long));
      for (auto& o : offset) o = offset_dist(rng);
      std::sort(offset.begin(), offset.end());
      std::atomic<bool> long_finished{false};
      double long_ms = 0;
      std::exception_ptr long_error;
      const auto start = Clock::now();
      std::thread long_thread([&] {
        try {
          long_ms = run_long();
        } catch (...) {
          long_error = std::current_exception();
        }
        long_finished.store(true);
      });
      // Each short request on its own thread, sent at its own offset: they may overlap.
      struct ShortRun {
        bool overlap = false, before_long_end = false;
        double ms = 0;
        TranslationTimings t;
        std::exception_ptr error;
      };
      std::vector<ShortRun> shorts(offset.size());
      std::vector<std::thread> short_threads;
      for (size_t i = 0; i < offset.size(); ++i)
        short_threads.emplace_back([&, i] {
          std::this_thread::sleep_until(start + std::chrono::milliseconds(offset[i]));
          ShortRun& sr = shorts[i];
          sr.overlap = !long_finished.load();
          try {
            sr.ms = run_short(&sr.t);
          } catch (...) {
            sr.error = std::current_exception();
          }
          sr.before_long_end = !long_finished.load();
        });
      for (auto& t : short_threads) t.join();
      long_thread.join();
      if (long_error) std::rethrow_exception(long_error);
      for (size_t i = 0; i < shorts.size(); ++i) {
        const ShortRun& sr = shorts[i];
        if (sr.error) std::rethrow_exception(sr.error);
        offsets.push_back(static_cast<double>(offset[i]));
        short_load.push_back(sr.ms);
        short_queue.push_back(sr.t.queue_ms);
        overlapped.push_back(sr.overlap ? 1 : 0);
        short_first.push_back(sr.overlap && sr.before_long_end ? 1 : 0);
        say(fmt::format("rep {}/{} short {}/{}: sent at +{} ms{}: {:.1f} ms ({}; {:.2f}x idle)",
                        rep + 1, p.repeats, i + 1, shorts.size(), offset[i],
                        sr.overlap ? "" : " (after the long one ended)", sr.ms, phases(sr.t),
                        sr.ms / short_idle));
      }
      long_load.push_back(long_ms);
      say(fmt::format("rep {}/{}: long {:.0f} ms", rep + 1, p.repeats, long_ms));
    }
    row.vec["offset_ms"] = offsets;
    row.vec["short_load_ms"] = short_load;
    row.vec["short_load_queue_ms"] = short_queue;
    row.vec["long_load_ms"] = long_load;
    row.vec["overlapped"] = overlapped;
    row.vec["short_finished_first"] = short_first;
    row.vec["short_generated_tokens"] = short_generated;
    row.num["long_generated_min"] = min_of(long_generated);
    row.num["long_generated_max"] = max_of(long_generated);
    row.num["short_generated_min"] = min_of(short_generated);
    row.num["short_generated_max"] = max_of(short_generated);
    row.vec["engine_long_source_tokens"] = engine_long_source;
    row.vec["engine_short_source_tokens"] = engine_short_source;
    row.str["engine_stats"] = engine.stats();
    row.num["rss_end_mib"] = vm_mib("VmRSS");
    row.num["peak_rss_mib"] = vm_mib("VmHWM");
    row.str["load_average_end"] = load_average();
  } catch (const std::exception& e) {
    row.str["error"] = fmt::format("{}: {}", stage, describe_error(e));
    row.num["peak_rss_mib"] = vm_mib("VmHWM");
    say("error: " + row.str["error"]);
  }
  return row;
}

// ---- summary ------------------------------------------------------------------------------

// A number field of the engine's stats JSON, e.g. "longest_unit_ms" (first occurrence; NaN if
// absent). A plain text search: the bench does not link a JSON library.
double stats_number(const std::string& stats, const std::string& key) {
  const std::string quoted = "\"" + key + "\"";
  auto at = stats.find(quoted);
  if (at == std::string::npos) return kNaN;
  at = stats.find(':', at + quoted.size());
  if (at == std::string::npos) return kNaN;
  const char* begin = stats.c_str() + at + 1;
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  return end == begin ? kNaN : v;
}

struct Summary {
  double short_alone = kNaN, short_p50 = kNaN, short_p95 = kNaN, short_max = kNaN;
  double long_alone = kNaN, long_load = kNaN;
  double r_short_p50 = kNaN, r_short_p95 = kNaN, r_long = kNaN;
  double longest_extra_wait = kNaN, max_engine_queue = kNaN;
  double engine_longest_unit = kNaN;  // stats() "longest_unit_ms", over the whole mode's run
  // stats() "longest_unit_an_interactive_waited_for_ms": the longest unit that ended while an
  // interactive sentence waited (continuous mode only)
  double engine_blocking_unit = kNaN;
  int overlapped = 0, samples = 0, short_first = 0;
};

Summary summarize(const Row& r) {
  Summary s;
  s.short_alone = median(r.samples("short_alone_ms"));
  s.long_alone = median(r.samples("long_alone_ms"));
  const auto& load = r.samples("short_load_ms");
  const auto& queue = r.samples("short_load_queue_ms");
  const auto& overlap = r.samples("overlapped");
  const auto& first = r.samples("short_finished_first");
  std::vector<double> under, under_queue;
  for (size_t i = 0; i < load.size(); ++i) {
    if (i < overlap.size() && overlap[i] == 0) continue;  // the long one had already ended
    under.push_back(load[i]);
    if (i < queue.size()) under_queue.push_back(queue[i]);
  }
  for (double f : first) s.short_first += f != 0;
  s.samples = static_cast<int>(load.size());
  s.overlapped = static_cast<int>(under.size());
  s.short_p50 = percentile(under, 50);
  s.short_p95 = percentile(under, 95);
  s.short_max = max_of(under);
  s.long_load = median(r.samples("long_load_ms"));
  s.r_short_p50 = s.short_p50 / s.short_alone;
  s.r_short_p95 = s.short_p95 / s.short_alone;
  s.r_long = s.long_load / s.long_alone;
  s.longest_extra_wait = s.short_max - s.short_alone;
  s.max_engine_queue = max_of(under_queue);
  s.engine_longest_unit = stats_number(r.text("engine_stats"), "longest_unit_ms");
  s.engine_blocking_unit =
      stats_number(r.text("engine_stats"), "longest_unit_an_interactive_waited_for_ms");
  return s;
}

std::string fmt_num(double v, const char* spec) {
  return std::isnan(v) ? std::string("-") : fmt::format(fmt::runtime(spec), v);
}

std::string ratio_cell(double v, double goal, bool judge) {
  if (std::isnan(v)) return "-";
  std::string s = fmt::format("{:.2f}x", v);
  if (judge) s += v <= goal ? " (met)" : " (MISSED)";
  return s;
}

std::string render_table(const Params& p, const std::vector<Row>& rows) {
  std::string out;
  out += fmt::format(
      "\nincident: {} long sentences x {} new tokens (bulk) + {} short request(s) of 1 sentence x "
      "{} new tokens (interactive) per long one, {} repeats, arrivals +{}..{} ms\n",
      p.long_sentences, p.long_tokens, p.shorts_per_long, p.short_tokens, p.repeats,
      p.offset_min_ms, p.offset_max_ms);
  out += fmt::format("goals (continuous): short latency under load <= {:.1f}x idle (p50 and p95), "
                     "long time under load <= {:.1f}x alone\n\n",
                     kGoalShortRatio, kGoalLongRatio);
  const std::string header = fmt::format(
      "{:<11}| {:<17}| {:<17}| {:<17}| {:>6} | {:>7} | {:>21} | {:>16} | {:>24}\n", "mode",
      "short p50 ratio", "short p95 ratio", "long ratio", "RSS MB", "peak MB",
      "longest extra wait ms", "engine longest unit ms", "unit an arrival waited ms");
  out += header;
  out += std::string(header.size() - 1, '-') + "\n";
  for (const auto& r : rows) {
    const std::string mode = r.text("mode");
    if (!r.text("error").empty() && r.samples("short_load_ms").empty()) {
      out += fmt::format("{:<11}| error: {}\n", mode, r.text("error"));
      continue;
    }
    const Summary s = summarize(r);
    const bool judge = mode == "continuous";
    out += fmt::format("{:<11}| {:<17}| {:<17}| {:<17}| {:>6} | {:>7} | {:>21} | {:>16} | {:>24}\n", mode,
                       ratio_cell(s.r_short_p50, kGoalShortRatio, judge),
                       ratio_cell(s.r_short_p95, kGoalShortRatio, judge),
                       ratio_cell(s.r_long, kGoalLongRatio, judge),
                       fmt_num(r.get("rss_after_load_mib"), "{:.0f}"),
                       fmt_num(r.get("peak_rss_mib"), "{:.0f}"),
                       fmt_num(s.longest_extra_wait, "{:.0f}"),
                       fmt_num(s.engine_longest_unit, "{:.0f}"),
                       fmt_num(s.engine_blocking_unit, "{:.1f}"));
  }
  out += "\ndetails (ms):\n";
  for (const auto& r : rows) {
    const std::string mode = r.text("mode");
    out += fmt::format("  {} [{}]\n", mode, r.text("settings"));
    if (!r.text("error").empty()) out += fmt::format("    error: {}\n", r.text("error"));
    if (r.samples("short_alone_ms").empty()) continue;
    const Summary s = summarize(r);
    // The engine's own count (TranslationResult::source_tokens) when it reports one, else the
    // calibration's (through the length check).
    auto range = [](const std::vector<double>& v) {
      return v.empty() || max_of(v) <= 0 ? std::string("?") : fmt::format("{}..{}", min_of(v), max_of(v));
    };
    std::string long_src = range(r.samples("engine_long_source_tokens"));
    if (long_src == "?") long_src = range(r.samples("long_source_tokens"));
    std::string short_src = range(r.samples("engine_short_source_tokens"));
    if (short_src == "?") short_src = fmt_num(r.get("short_source_tokens"), "{:.0f}");
    out += fmt::format(
        "    source tokens: long {} each, short {}; generated: long {}..{}, short {}..{}\n",
        long_src, short_src, fmt_num(r.get("long_generated_min"), "{:.0f}"),
        fmt_num(r.get("long_generated_max"), "{:.0f}"), fmt_num(r.get("short_generated_min"), "{:.0f}"),
        fmt_num(r.get("short_generated_max"), "{:.0f}"));
    out += fmt::format(
        "    short: idle median {} | under load p50 {} p95 {} max {} | engine queue_ms max {}\n",
        fmt_num(s.short_alone, "{:.1f}"), fmt_num(s.short_p50, "{:.1f}"), fmt_num(s.short_p95, "{:.1f}"),
        fmt_num(s.short_max, "{:.1f}"), fmt_num(s.max_engine_queue, "{:.1f}"));
    out += fmt::format(
        "    long:  alone median {} | under load median {}\n"
        "    samples under load: {} of {} (short sent before the long one ended); short finished "
        "first in {}\n",
        fmt_num(s.long_alone, "{:.0f}"), fmt_num(s.long_load, "{:.0f}"), s.overlapped, s.samples,
        s.short_first);
    out += fmt::format(
        "    memory: RSS before load {} MiB, after load {} MiB, at end {} MiB, peak {} MiB{}; load "
        "{} ms\n",
        fmt_num(r.get("rss_before_load_mib"), "{:.0f}"), fmt_num(r.get("rss_after_load_mib"), "{:.0f}"),
        fmt_num(r.get("rss_end_mib"), "{:.0f}"), fmt_num(r.get("peak_rss_mib"), "{:.0f}"),
        r.get("peak_reset") == 1 ? " (since just before load)" : " (process lifetime)",
        fmt_num(r.get("load_ms"), "{:.0f}"));
    out += fmt::format("    machine load average: {} at start, {} at end\n", r.text("load_average_start"),
                       r.text("load_average_end"));
  }
  return out;
}

Json row_json(const Row& r) {
  Json j = Json::object();
  j.set("mode", r.text("mode"));
  j.set("settings", r.text("settings"));
  j.set("load_average_start", r.text("load_average_start"));
  j.set("load_average_end", r.text("load_average_end"));
  j.set("error", r.text("error").empty() ? Json() : Json(r.text("error")));
  if (!r.samples("short_alone_ms").empty()) {
    const Summary s = summarize(r);
    Json sum = Json::object();
    sum.set("short_alone_median_ms", s.short_alone);
    sum.set("short_under_load_p50_ms", s.short_p50);
    sum.set("short_under_load_p95_ms", s.short_p95);
    sum.set("short_under_load_max_ms", s.short_max);
    sum.set("short_p50_ratio", s.r_short_p50);
    sum.set("short_p95_ratio", s.r_short_p95);
    sum.set("long_alone_median_ms", s.long_alone);
    sum.set("long_under_load_median_ms", s.long_load);
    sum.set("long_ratio", s.r_long);
    sum.set("longest_extra_wait_ms", s.longest_extra_wait);
    sum.set("engine_queue_max_ms", s.max_engine_queue);
    sum.set("engine_longest_unit_ms", s.engine_longest_unit);
    sum.set("engine_longest_unit_an_interactive_waited_for_ms", s.engine_blocking_unit);
    sum.set("samples", s.samples);
    sum.set("samples_under_load", s.overlapped);
    sum.set("short_finished_first", s.short_first);
    if (r.text("mode") == "continuous") {
      sum.set("goal_short_met", s.r_short_p50 <= kGoalShortRatio && s.r_short_p95 <= kGoalShortRatio);
      sum.set("goal_long_met", s.r_long <= kGoalLongRatio);
    }
    j.set("summary", sum);
  }
  const std::string stats = r.text("engine_stats");
  if (!stats.empty()) {
    // TranslatorEngine::stats() is documented to be a JSON object; anything else stays a string.
    const bool object = stats.find_first_not_of(" \t") != std::string::npos &&
                        stats[stats.find_first_not_of(" \t")] == '{' &&
                        stats[stats.find_last_not_of(" \t")] == '}';
    j.set("engine_stats", object ? Json::raw(stats) : Json(stats));
  }
  Json values = Json::object();
  for (const auto& [k, v] : r.num) values.set(k, v);
  j.set("values", values);
  Json samples = Json::object();
  for (const auto& [k, v] : r.vec) samples.set(k, v);
  j.set("samples", samples);
  return j;
}

// Runs this program again for one mode and reads back its row.
Row run_child(const Context& ctx, const std::string& mode) {
  Row row;
  row.str["mode"] = mode;
  char path[] = "/tmp/tolk_bench_row_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    row.str["error"] = "cannot create a temporary file for the child's result";
    return row;
  }
  close(fd);
  std::vector<std::string> args = {ctx.self_exe};
  for (size_t i = 0; i < ctx.args.size(); ++i) {
    const std::string& a = ctx.args[i];
    // The child writes no JSON; the parent does. (--json=PATH and --json PATH.)
    if (a.rfind("--json=", 0) == 0) continue;
    if (a == "--json") {
      ++i;
      continue;
    }
    args.push_back(a);
  }
  for (const std::string& a : {std::string("--modes"), mode, std::string("--row-out"), std::string(path)})
    args.push_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, ctx.self_exe.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    row.str["error"] = fmt::format("cannot start {}: {}", ctx.self_exe, std::strerror(rc));
    unlink(path);
    return row;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const auto text = read_text_file(path);
  unlink(path);
  if (text && !text->empty()) row = deserialize(*text);
  if (WIFSIGNALED(status)) {
    row.str["mode"] = mode;
    row.str["error"] = fmt::format("{}the benchmark process for this mode died of signal {} ({})",
                                   row.text("error").empty() ? "" : row.text("error") + "; ",
                                   WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else if (!text || text->empty()) {
    row.str["mode"] = mode;
    row.str["error"] = fmt::format("the benchmark process for this mode exited with status {} "
                                   "and no result", WEXITSTATUS(status));
  }
  return row;
}

}  // namespace

int run_incident(Flags& flags, const Context& ctx) {
  const Params p = parse_params(flags, ctx);

  if (ctx.row_out) {  // child: one mode, one row
    if (p.modes.size() != 1) throw std::invalid_argument("--row-out needs exactly one mode");
    const Row row = run_mode(p, p.modes.front(), /*progress=*/true);
    std::string error;
    if (!write_text_file(*ctx.row_out, serialize(row), &error)) {
      fmt::print(stderr, "tolk_bench: {}\n", error);
      return 1;
    }
    return row.text("error").empty() ? 0 : 1;
  }

  if (!file_exists(p.model_dir + "/config.json"))
    fmt::print("warning: {} has no config.json; make the model with: python3 "
               "benchmarks/random_model.py\n",
               p.model_dir);
  fmt::print("model: {}\nmodes: {}; {}\n", p.model_dir, fmt::join(p.modes, ", "),
             p.in_process || p.modes.size() == 1 ? "in this process" : "one child process per mode");
  std::fflush(stdout);

  std::vector<Row> rows;
  for (const auto& mode : p.modes) {
    fmt::print("\n== {} ==\n", mode);
    std::fflush(stdout);
    if (p.in_process || p.modes.size() == 1) rows.push_back(run_mode(p, mode, true));
    else rows.push_back(run_child(ctx, mode));
  }

  fmt::print("{}", render_table(p, rows));
  int status = 0;
  for (const auto& r : rows)
    if (!r.text("error").empty()) status = 1;

  Json j = Json::object();
  j.set("params", params_json(p));
  Json goals = Json::object();
  goals.set("continuous_short_ratio_max", kGoalShortRatio);
  goals.set("continuous_long_ratio_max", kGoalLongRatio);
  j.set("goals", goals);
  Json modes = Json::array();
  for (const auto& r : rows) modes.push(row_json(r));
  j.set("modes", modes);
  if (write_json_report(ctx, "incident", j) != 0) return 1;
  return status;
}

}  // namespace tolk::bench
