// stress_workload.cc — see stress_workload.h.
#include "stress_workload.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace stress {

using tolk::StatusCode;

const char* op_name(Op op) {
  switch (op) {
    case Op::kSync: return "sync";
    case Op::kBatch: return "batch item";
    case Op::kAsyncCallback: return "async + callback";
    case Op::kAsyncWait: return "async + wait";
    case Op::kAsyncCancel: return "async + cancel";
    case Op::kTinyTimeout: return "tiny timeout";
    case Op::kBadInput: return "bad input";
    case Op::kBurst: return "burst (async)";
    case Op::kCount: break;
  }
  return "?";
}

void Tally::ended(StatusCode code) {
  const int c = static_cast<int>(code);
  ++statuses_[c >= 0 && c < kStatusCount ? c : static_cast<int>(StatusCode::kInternal)];
  ++ended_;
}

void Tally::problem(const std::string& what) {
  ++problems_;
  std::lock_guard<std::mutex> lock(mutex_);
  if (first_.size() < 20) first_.push_back(what);
}

std::vector<std::string> Tally::first_problems() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return first_;
}

std::atomic<int>* AsyncLedger::open() {
  std::lock_guard<std::mutex> lock(mutex_);
  return &ends_.emplace_back(0);
}

int64_t AsyncLedger::not_exactly_once() const {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t n = 0;
  for (const auto& e : ends_) n += e.load() != 1;
  return n;
}

int64_t AsyncLedger::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(ends_.size());
}

int64_t Judge::epoch(const std::string& model) const {
  auto it = cancel_epochs->find(model);
  return it == cancel_epochs->end() ? 0 : it->second.load();
}

void Judge::result(const Job& job, const std::string& model, const tolk::TranslationResult& r,
                   bool cancelled_by_client, bool had_timeout, int64_t epoch_at_start) const {
  tally->ended(r.status);
  const std::string where = "'" + job.text.substr(0, 30) + "' " + job.src + "→" + job.tgt +
                            " beam " + std::to_string(job.beam) + " on " + model;
  if (r.status != StatusCode::kOk && r.error.empty())
    tally->problem("empty error message for " + std::string(tolk::status_code_name(r.status)) + ": " + where);
  switch (r.status) {
    case StatusCode::kOk:
      if (r.text != job.expected_text || r.ids != job.expected_ids)
        tally->problem("wrong answer: " + where + " gave '" + r.text + "', expected '" +
                       job.expected_text + "'");
      return;
    case StatusCode::kQueueFull:     // bursts overflow the queues on purpose
    case StatusCode::kUnknownModel:  // the reloader had the model unloaded
      return;
    case StatusCode::kCancelled:
      if (!cancelled_by_client && epoch(model) == epoch_at_start)
        tally->problem("kCancelled nobody asked for: " + where);
      return;
    case StatusCode::kTimeout:
      if (!had_timeout) tally->problem("kTimeout without a timeout: " + where);
      return;
    case StatusCode::kShutdown:
      if (!shutting_down->load()) tally->problem("kShutdown before shutdown: " + where);
      return;
    default:
      tally->problem(std::string("unexpected ") + tolk::status_code_name(r.status) + " (" +
                     r.error + "): " + where);
  }
}

void Judge::bad_result(const BadJob& job, const std::string& model, StatusCode code,
                       int64_t epoch_at_start) const {
  tally->ended(code);
  if (code == job.expected || code == StatusCode::kQueueFull || code == StatusCode::kUnknownModel)
    return;
  if (code == StatusCode::kCancelled && epoch(model) != epoch_at_start) return;
  if (code == StatusCode::kShutdown && shutting_down->load()) return;
  tally->problem(std::string("bad input '") + job.what + "' ended with " +
                 tolk::status_code_name(code) + ", expected " +
                 tolk::status_code_name(job.expected));
}

void Judge::call_error(const tolk::Error& e) const {
  tally->ended(e.code());
  if (e.code() == StatusCode::kQueueFull || e.code() == StatusCode::kUnknownModel) return;
  if (e.code() == StatusCode::kShutdown && shutting_down->load()) return;
  tally->problem(std::string("call refused with ") + tolk::status_code_name(e.code()) + ": " + e.what());
}

tolk::TranslationOptions job_options(const Job& job) {
  tolk::TranslationOptions o;
  o.max_new_tokens = 16;
  o.beam_size = job.beam;
  return o;
}

namespace {

tolk::TranslationResult failed(const tolk::Error& e) {
  tolk::TranslationResult r;
  r.status = e.code();
  r.error = e.what();
  return r;
}

// One async request with a callback; the ledger slot proves it ended exactly once.
void send_with_callback(const ClientContext& ctx, const std::string& model, const Job& job,
                        tolk::TranslationOptions o, Op op) {
  const Judge judge = ctx.judge;
  const int64_t epoch = judge.epoch(model);
  std::atomic<int>* slot = ctx.ledger->open();
  judge.tally->started(op);
  try {
    ctx.engine->translate_async(model, job.text, job.src, job.tgt, o,
                                [judge, slot, &job, model, epoch](tolk::TranslationResult&& r) {
                                  judge.result(job, model, r, false, false, epoch);
                                  ++*slot;
                                });
  } catch (const tolk::Error& e) {
    judge.call_error(e);
    ++*slot;  // refused at the call: that was its one ending
  }
}

// An async request without a callback: wait (maybe briefly first), maybe cancel, take once.
void send_and_wait(const ClientContext& ctx, const std::string& model, const Job& job,
                   tolk::TranslationOptions o, Op op, bool cancel, int64_t first_wait_ms,
                   std::mt19937_64& rng) {
  const int64_t epoch = ctx.judge.epoch(model);
  ctx.judge.tally->started(op);
  std::shared_ptr<tolk::TranslationRequest> req;
  try {
    req = ctx.engine->translate_async(model, job.text, job.src, job.tgt, o);
  } catch (const tolk::Error& e) {
    return ctx.judge.call_error(e);
  }
  req->wait(first_wait_ms);
  if (cancel) {
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    req->cancel();
  }
  req->wait(-1);
  ctx.judge.result(job, model, req->take_result(), cancel, o.timeout_ms > 0, epoch);
  try {
    req->take_result();
    ctx.judge.tally->problem("take_result handed a result out twice");
  } catch (const tolk::Error&) {
  }
}

}  // namespace

namespace {
void run_one(const ClientContext& ctx, std::mt19937_64& rng);
}  // namespace

void run_client(const ClientContext& ctx, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const Judge& judge = ctx.judge;
  auto refusals = [&] {
    return judge.tally->status_count(static_cast<int>(StatusCode::kQueueFull)) +
           judge.tally->status_count(static_cast<int>(StatusCode::kUnknownModel));
  };
  while (!ctx.stop->load()) {
    // A client refused at admission backs off a little, as a real one would; otherwise 64
    // threads spin on instant refusals and hardly any work gets done.
    const int64_t refused_before = refusals();
    run_one(ctx, rng);
    if (refusals() != refused_before)
      std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 4000));
  }
}

namespace {
void run_one(const ClientContext& ctx, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const Judge& judge = ctx.judge;
  {
    const std::string& model = ctx.models[pick(ctx.models.size())];
    const Job& job = (*ctx.jobs)[pick(ctx.jobs->size())];
    tolk::TranslationOptions o = job_options(job);
    o.priority = static_cast<tolk::Priority>(pick(3));
    const int64_t epoch = judge.epoch(model);
    const size_t roll = pick(100);
    if (roll < 25) {  // sync
      judge.tally->started(Op::kSync);
      try {
        judge.result(job, model, ctx.engine->translate_sync(model, job.text, job.src, job.tgt, o),
                     false, false, epoch);
      } catch (const tolk::Error& e) {
        judge.result(job, model, failed(e), false, false, epoch);
      }
    } else if (roll < 35) {  // batch of greedy jobs, mixed language pairs
      std::vector<const Job*> items;
      const size_t n = 1 + pick(4);
      while (items.size() < n) {
        const Job& j = (*ctx.jobs)[pick(ctx.jobs->size())];
        if (j.beam == 1) items.push_back(&j);
      }
      std::vector<std::string> texts, srcs, tgts;
      for (const Job* j : items) { texts.push_back(j->text); srcs.push_back(j->src); tgts.push_back(j->tgt); }
      tolk::TranslationOptions bo = job_options(*items[0]);
      bo.priority = o.priority;
      judge.tally->started(Op::kBatch);
      try {
        const auto results = ctx.engine->translate_batch(model, texts, srcs, tgts, bo);
        if (results.size() != items.size()) judge.tally->problem("batch returned a wrong count");
        for (size_t i = 0; i < results.size() && i < items.size(); ++i) {
          if (i > 0) judge.tally->started(Op::kBatch);
          judge.result(*items[i], model, results[i], false, false, epoch);
        }
      } catch (const tolk::Error& e) {
        judge.result(*items[0], model, failed(e), false, false, epoch);
      }
    } else if (roll < 55) {
      send_with_callback(ctx, model, job, o, Op::kAsyncCallback);
    } else if (roll < 70) {
      send_and_wait(ctx, model, job, o, Op::kAsyncWait, false, static_cast<int64_t>(pick(20)), rng);
    } else if (roll < 80) {
      send_and_wait(ctx, model, job, o, Op::kAsyncCancel, true, 0, rng);
    } else if (roll < 88) {
      o.timeout_ms = 1 + static_cast<int64_t>(pick(3));
      send_and_wait(ctx, model, job, o, Op::kTinyTimeout, false, 0, rng);
    } else if (roll < 97) {  // a bad input, sync or async (97..99: nothing, a pause)
      const BadJob& bad = (*ctx.bad_jobs)[pick(ctx.bad_jobs->size())];
      judge.tally->started(Op::kBadInput);
      try {
        if (pick(2) == 0) {
          ctx.engine->translate_sync(model, bad.text, bad.src, bad.tgt, o);
          judge.bad_result(bad, model, StatusCode::kOk, epoch);
        } else {
          auto req = ctx.engine->translate_async(model, bad.text, bad.src, bad.tgt, o);
          req->wait(-1);
          judge.bad_result(bad, model, req->take_result().status, epoch);
        }
      } catch (const tolk::Error& e) {
        judge.bad_result(bad, model, e.code(), epoch);
      }
    } else if (roll < 98) {  // a burst of bulk requests, to overflow the queues now and then
      o.priority = tolk::Priority::kBulk;
      for (int i = 0; i < 32; ++i) send_with_callback(ctx, model, job, o, Op::kBurst);
    }
  }
}
}  // namespace

std::vector<Job> make_jobs() {
  const std::vector<std::string> texts = {
      "Hello world.",
      "The file does not exist.",
      "",
      "   ",
      "Déjà vu: café, naïve, façade.",
      "Snowman ☃ and 漢字 are unknown, so is 🙂.",
      "Remove the package and all of its configuration files. Then install it again! Done?",
      "Error: cannot open '/etc/passwd' (permission denied, code 13).",
  };
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"eng_Latn", "fra_Latn"}, {"eng_Latn", "deu_Latn"}, {"deu_Latn", "spa_Latn"}, {"fra_Latn", "eng_Latn"}};
  std::vector<Job> jobs;
  for (const auto& [src, tgt] : pairs)
    for (const auto& t : texts) jobs.push_back({t, src, tgt, 1, {}, {}});
  for (size_t i = 0; i < 4; ++i) jobs.push_back({texts[i * 2], "eng_Latn", "fra_Latn", 2, {}, {}});
  return jobs;
}

std::vector<BadJob> make_bad_jobs(int64_t max_input_bytes) {
  return {
      {"Bad \xff\xfe bytes", "eng_Latn", "fra_Latn", "invalid UTF-8", StatusCode::kInvalidUtf8},
      {"Overlong \xc0\xaf slash", "eng_Latn", "fra_Latn", "overlong UTF-8", StatusCode::kInvalidUtf8},
      {"Hello", "eng_Latn", "xxx_Latn", "unknown target language", StatusCode::kUnknownLanguage},
      {"Hello", "eng_Latn", "</s>", "special token as language", StatusCode::kUnknownLanguage},
      {std::string(static_cast<size_t>(max_input_bytes) + 1, 'a'), "eng_Latn", "fra_Latn",
       "text over max_input_bytes", StatusCode::kInputTooLong},
  };
}

double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace stress
