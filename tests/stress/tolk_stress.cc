// tolk_stress — many client threads against one engine, every kind of call, every mode.
//
//   tolk_stress --model DIR [--seconds 10] [--threads 64] [--seed 1] [--shutdown-requests 3000]
//               [--corrupt-expected 1]   (self-test: every expected answer is wrong → FAIL)
//
// Invariants checked (exit 1 if any fails, 3 if the watchdog sees no progress for 60 s):
//  - every request ends exactly once: sync/batch calls return or throw once, async callbacks run
//    once (a ledger slot per request), async waits hand the result out once;
//  - every successful answer equals the one computed sequentially before the traffic started
//    (same text and ids, whatever mode, priority or batch company);
//  - every error is a named status that the situation allows (queue full during bursts, unknown
//    model while the reloader has it unloaded, cancelled only when asked for or unloaded with
//    cancel, timeout only with a timeout, shutdown only during shutdown), with a message;
//  - memory: the second half of the run does not grow the resident set beyond a margin;
//  - shutdown: an engine destroyed with thousands of requests queued and running answers every
//    one (kShutdown or a result) before its destructor returns.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stress_workload.h"
#include "tolk/engine.h"

using namespace std::chrono;
using stress::Op;

namespace {

struct Args {
  std::string model;
  double seconds = 10;
  int threads = 64;
  uint64_t seed = 1;
  int shutdown_requests = 3000;
  bool corrupt_expected = false;  // self-test: one expected answer is wrong, so it must FAIL
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--model") a.model = v;
    else if (k == "--seconds") a.seconds = std::stod(v);
    else if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--seed") a.seed = std::stoull(v);
    else if (k == "--shutdown-requests") a.shutdown_requests = std::stoi(v);
    else if (k == "--corrupt-expected") a.corrupt_expected = v == "1";
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); std::exit(2); }
  }
  if (a.model.empty()) {
    std::fprintf(stderr, "usage: tolk_stress --model DIR [--seconds S] [--threads N] [--seed N] "
                         "[--shutdown-requests N]\n");
    std::exit(2);
  }
  return a;
}

constexpr int64_t kMaxInputBytes = 4096;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

std::map<std::string, tolk::ModelOptions> mode_models() {
  std::map<std::string, tolk::ModelOptions> m;
  tolk::ModelOptions base;
  base.max_input_bytes = kMaxInputBytes;
  base.max_queued_requests = 96;  // bursts of 48 overflow it now and then
  base.mode = tolk::ExecutionMode::kExclusive;
  m["exclusive"] = base;
  base.mode = tolk::ExecutionMode::kPool;
  base.workers = 2;
  base.threads_per_worker = 1;
  m["pool"] = base;
  base.mode = tolk::ExecutionMode::kContinuous;
  base.workers = 1;
  base.max_batch_sequences = 16;
  m["continuous"] = base;
  return m;
}

// Aborts the process if requests stop ending while some are outstanding.
class Watchdog {
 public:
  explicit Watchdog(const stress::Tally& tally) : tally_(tally), thread_([this] { run(); }) {}
  ~Watchdog() { done_ = true; thread_.join(); }

 private:
  void run() {
    int64_t last = -1;
    auto since = steady_clock::now();
    while (!done_) {
      std::this_thread::sleep_for(milliseconds(200));
      const int64_t ended = tally_.ended_count();
      if (ended != last || ended == tally_.started_count()) {
        last = ended;
        since = steady_clock::now();
      } else if (steady_clock::now() - since > seconds(60)) {
        std::fprintf(stderr, "WATCHDOG: no request ended for 60 s (%lld started, %lld ended)\n",
                     static_cast<long long>(tally_.started_count()), static_cast<long long>(ended));
        std::_Exit(3);
      }
    }
  }
  const stress::Tally& tally_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// Unloads and reloads the mode models in turn (alternating wait / cancel) until *stop.
void run_reloader(tolk::TranslatorEngine& engine, const std::string& dir,
                  std::map<std::string, std::atomic<int64_t>>& epochs, stress::Tally& tally,
                  std::atomic<bool>& stop, std::atomic<int64_t>& reloads) {
  const auto models = mode_models();
  int i = 0;
  while (!stop) {
    std::this_thread::sleep_for(milliseconds(300));
    if (stop) break;
    auto it = models.begin();
    std::advance(it, i % models.size());
    const bool cancel = (i / models.size()) % 2 == 1;
    ++i;
    try {
      if (cancel) ++epochs[it->first];
      engine.unload_model(it->first, cancel ? tolk::UnloadPolicy::kCancel : tolk::UnloadPolicy::kWait);
      std::this_thread::sleep_for(milliseconds(20));
      engine.load_model(it->first, dir, it->second);
      ++reloads;
    } catch (const tolk::Error& e) {
      tally.problem(std::string("reload of ") + it->first + " failed: " + e.what());
    }
  }
}

// Waits until every started request has ended (the watchdog bounds it).
void drain(const stress::Tally& tally) {
  while (tally.ended_count() < tally.started_count()) std::this_thread::sleep_for(milliseconds(20));
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  stress::Tally tally;
  stress::AsyncLedger ledger;
  std::atomic<bool> shutting_down{false};
  std::map<std::string, std::atomic<int64_t>> epochs;
  for (const auto& [name, opts] : mode_models()) epochs[name] = 0;
  Watchdog watchdog(tally);

  tolk::EngineOptions eo;
  eo.async_threads = 16;
  eo.max_queued_requests = 512;
  auto engine = std::make_unique<tolk::TranslatorEngine>(eo);
  tolk::ModelOptions reference;
  reference.mode = tolk::ExecutionMode::kExclusive;
  engine->load_model("reference", args.model, reference);
  for (const auto& [name, opts] : mode_models()) engine->load_model(name, args.model, opts);

  // The answers, computed one at a time before any traffic.
  std::vector<stress::Job> jobs = stress::make_jobs();
  for (auto& j : jobs) {
    const auto r = engine->translate_sync("reference", j.text, j.src, j.tgt, stress::job_options(j));
    j.expected_text = r.text;
    j.expected_ids = r.ids;
  }
  if (args.corrupt_expected)
    for (auto& j : jobs) j.expected_text += " (corrupted)";
  const std::vector<stress::BadJob> bad_jobs = stress::make_bad_jobs(kMaxInputBytes);

  stress::ClientContext ctx;
  ctx.engine = engine.get();
  ctx.jobs = &jobs;
  ctx.bad_jobs = &bad_jobs;
  for (const auto& [name, opts] : mode_models()) ctx.models.push_back(name);
  ctx.judge = {&tally, &epochs, &shutting_down};
  ctx.ledger = &ledger;

  // Two equal halves of traffic; the resident set after each (drained) half is compared.
  std::atomic<int64_t> reloads{0};
  double rss[2] = {0, 0};
  const auto t0 = steady_clock::now();
  for (int half = 0; half < 2; ++half) {
    std::atomic<bool> stop{false};
    ctx.stop = &stop;
    std::vector<std::thread> clients;
    for (int t = 0; t < args.threads; ++t)
      clients.emplace_back([&ctx, &args, half, t] { stress::run_client(ctx, args.seed * 1000003 + half * 1000 + t); });
    std::thread reloader([&] { run_reloader(*engine, args.model, epochs, tally, stop, reloads); });
    std::this_thread::sleep_for(duration<double>(args.seconds / 2));
    stop = true;
    for (auto& c : clients) c.join();
    reloader.join();
    drain(tally);
    rss[half] = stress::rss_mib();
  }
  const double traffic_s = duration<double>(steady_clock::now() - t0).count();

  // Shutdown: a fresh engine with room for thousands of waiting requests, destroyed under load.
  const int64_t ledger_before = ledger.size();
  double shutdown_ms = 0;
  {
    tolk::EngineOptions so;
    so.max_queued_requests = 1000000;
    auto doomed = std::make_unique<tolk::TranslatorEngine>(so);
    for (const auto& [name, opts] : mode_models()) {
      tolk::ModelOptions unlimited = opts;
      unlimited.max_queued_requests = 0;
      doomed->load_model(name, args.model, unlimited);
    }
    stress::ClientContext sctx = ctx;
    sctx.engine = doomed.get();
    shutting_down = true;
    for (int i = 0; i < args.shutdown_requests; ++i) {
      const auto& job = jobs[static_cast<size_t>(i) % jobs.size()];
      auto o = stress::job_options(job);
      const std::string& model = sctx.models[static_cast<size_t>(i) % sctx.models.size()];
      std::atomic<int>* slot = ledger.open();
      tally.started(Op::kBurst);
      const stress::Judge judge = sctx.judge;
      try {
        doomed->translate_async(model, job.text, job.src, job.tgt, o,
                                [judge, slot, &job, model](tolk::TranslationResult&& r) {
                                  judge.result(job, model, r, false, false, judge.epoch(model));
                                  ++*slot;
                                });
      } catch (const tolk::Error& e) {
        judge.call_error(e);
        ++*slot;
      }
    }
    const auto s0 = steady_clock::now();
    doomed.reset();
    shutdown_ms = duration<double>(steady_clock::now() - s0).count() * 1000;
  }
  const int64_t shutdown_ended = tally.status_count(static_cast<int>(tolk::StatusCode::kShutdown));
  engine.reset();

  // Report.
  const int64_t not_once = ledger.not_exactly_once();
  const bool ended_all = tally.ended_count() == tally.started_count();
  const double growth = rss[1] - rss[0];
  const double allowed_growth = std::max(48.0, 0.15 * rss[0]);
  // Under a sanitizer the resident set says nothing about leaks (ASan keeps freed memory in a
  // quarantine, TSan keeps shadow and history): LeakSanitizer is the check there.
  const bool rss_meaningful = !kSanitized;
  std::printf("tolk_stress: %d client threads, %.1f s of traffic over exclusive, pool(2), continuous; "
              "%lld reloads\n", args.threads, traffic_s, static_cast<long long>(reloads.load()));
  std::printf("%-18s %10s\n", "call", "requests");
  for (int op = 0; op < static_cast<int>(Op::kCount); ++op)
    std::printf("%-18s %10lld\n", stress::op_name(static_cast<Op>(op)),
                static_cast<long long>(tally.op_count(static_cast<Op>(op))));
  std::printf("%-18s %10s\n", "ended with", "requests");
  for (int c = 0; c < stress::kStatusCount; ++c)
    if (tally.status_count(c) > 0)
      std::printf("%-18s %10lld\n", tolk::status_code_name(static_cast<tolk::StatusCode>(c)),
                  static_cast<long long>(tally.status_count(c)));
  std::printf("requests: %lld started, %lld ended; async callbacks not exactly once: %lld of %lld\n",
              static_cast<long long>(tally.started_count()), static_cast<long long>(tally.ended_count()),
              static_cast<long long>(not_once), static_cast<long long>(ledger.size()));
  std::printf("shutdown: %lld requests queued on a fresh engine, destroyed in %.0f ms, all answered "
              "(%lld with SHUTDOWN overall)\n", static_cast<long long>(ledger.size() - ledger_before),
              shutdown_ms, static_cast<long long>(shutdown_ended));
  std::printf("RSS after first half %.0f MiB, after second half %.0f MiB (growth %.1f, allowed %.1f%s)\n",
              rss[0], rss[1], growth, allowed_growth,
              rss_meaningful ? "" : "; not judged under a sanitizer");
  std::printf("{\"threads\": %d, \"seconds\": %.1f, \"requests\": %lld, \"problems\": %lld, "
              "\"not_exactly_once\": %lld, \"rss_mib\": [%.1f, %.1f], \"shutdown_ms\": %.0f}\n",
              args.threads, traffic_s, static_cast<long long>(tally.started_count()),
              static_cast<long long>(tally.problem_count()), static_cast<long long>(not_once),
              rss[0], rss[1], shutdown_ms);
  for (const auto& p : tally.first_problems()) std::printf("PROBLEM: %s\n", p.c_str());
  const bool ok = tally.problem_count() == 0 && not_once == 0 && ended_all &&
                  (!rss_meaningful || growth <= allowed_growth);
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
