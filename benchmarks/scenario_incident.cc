// scenario_incident.cc — the founding incident: a short interactive request arrives while a
// long bulk batch is being decoded, and waits for all of it.
//
// Per execution mode (exclusive, pool, continuous), in a fresh child process each so that
// LibTorch's process-global thread settings and the memory figures belong to that mode alone:
//   1. load the model; note VmRSS before and after, and the peak (VmHWM) over the whole run;
//   2. the short request alone, on an idle engine, --idle-runs times before step 4 and again
//      after it (the median of both is the idle reference: the machine's speed drifts);
//   3. the long request alone, --long-alone-runs times (median);
//   4. --repeats times: start the long request (translate_batch of --long-sentences sentences,
//      bulk priority, exactly --long-tokens new tokens each), and after a random offset in
//      [--offset-min-ms, --offset-max-ms] (seeded) send the short one (translate_sync, one
//      sentence, interactive priority, exactly --short-tokens new tokens); time both.
// Reported: short latency under load / alone (p50, p95), long time under load / alone, RSS,
// and the longest extra wait of the short request (under-load latency − idle median), an
// approximation of "the longest an arrival waits for the unit in progress".
//
// Here: running one mode, in this process or in a child, and the scenario's entry point. The
// flags are in incident_params, the texts in incident_workload, the result row and its text
// form (how a child hands it back) in incident_row, the table and JSON in incident_report.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

#include "bench_util.h"
#include "incident_params.h"
#include "incident_report.h"
#include "incident_row.h"
#include "incident_workload.h"
#include "scenarios.h"
#include "tolk/engine.h"

extern char** environ;

namespace tolk::bench {

const char* const kIncidentSummary =
    "a short interactive request arrives while a long bulk batch decodes (exclusive, pool, "
    "continuous)";

namespace {

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
    // The short request alone again, now that the load is over: this machine's speed drifts
    // within minutes, so the idle reference is the median of the runs before and after.
    stage = "short alone after";
    std::vector<double> short_after;
    for (int64_t i = 0; i < p.idle_runs; ++i) {
      TranslationTimings t;
      short_after.push_back(run_short(&t));
      short_alone.push_back(short_after.back());
      short_alone_queue.push_back(t.queue_ms);
    }
    row.vec["short_alone_ms"] = short_alone;
    row.vec["short_alone_queue_ms"] = short_alone_queue;
    row.vec["short_alone_after_ms"] = short_after;
    say(fmt::format("short alone after the load: median {:.1f} ms over {} runs (before: {:.1f})",
                    median(short_after), short_after.size(), short_idle));
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
