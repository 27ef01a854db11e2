// stress_workload.h — the pieces of the stress program (tolk_stress.cc runs them).
//
// A workload is a fixed set of jobs whose answers are computed once, sequentially, before the
// traffic starts; every request the clients send is one of those jobs (or a deliberately bad
// input), so every answer can be checked exactly. The Tally counts how each request ended and
// collects the first problems; the AsyncLedger proves each accepted async request ended once.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "tolk/engine.h"

namespace stress {

// One translation whose answer is known.
struct Job {
  std::string text, src, tgt;
  int beam = 1;
  std::string expected_text;
  std::vector<int64_t> expected_ids;
};

// A bad input and the status it must end with.
struct BadJob {
  std::string text, src, tgt, what;
  tolk::StatusCode expected;
};

// Kinds of client calls, for the report.
enum class Op { kSync, kBatch, kAsyncCallback, kAsyncWait, kAsyncCancel, kTinyTimeout, kBadInput, kBurst, kCount };
const char* op_name(Op op);

constexpr int kStatusCount = 15;  // tolk::StatusCode 0..14

class Tally {
 public:
  void started(Op op) { ++calls_[static_cast<int>(op)]; ++started_; }
  void ended(tolk::StatusCode code);
  void problem(const std::string& what);
  int64_t started_count() const { return started_.load(); }
  int64_t ended_count() const { return ended_.load(); }
  int64_t problem_count() const { return problems_.load(); }
  int64_t status_count(int code) const { return statuses_[code].load(); }
  int64_t op_count(Op op) const { return calls_[static_cast<int>(op)].load(); }
  std::vector<std::string> first_problems() const;

 private:
  std::atomic<int64_t> started_{0}, ended_{0}, problems_{0};
  std::atomic<int64_t> calls_[static_cast<int>(Op::kCount)] = {};
  std::atomic<int64_t> statuses_[kStatusCount] = {};
  mutable std::mutex mutex_;
  std::vector<std::string> first_;
};

// One counter per accepted async request with a callback; the callback increments it.
class AsyncLedger {
 public:
  std::atomic<int>* open();
  // Requests whose callback ran a number of times other than once.
  int64_t not_exactly_once() const;
  int64_t size() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::atomic<int>> ends_;  // a deque never moves its elements
};

// What a client may see besides the right answer, and how to judge an ending.
struct Judge {
  Tally* tally = nullptr;
  // Per model name: how many times it was unloaded with kCancel (a kCancelled nobody asked for
  // is legitimate only if this changed while the request ran).
  std::map<std::string, std::atomic<int64_t>>* cancel_epochs = nullptr;
  std::atomic<bool>* shutting_down = nullptr;

  // Checks a result of `job` sent to `model`; `cancelled_by_client`, `had_timeout` widen what
  // is acceptable; `epoch_at_start` is cancel_epochs[model] when the request was sent.
  void result(const Job& job, const std::string& model, const tolk::TranslationResult& r,
              bool cancelled_by_client, bool had_timeout, int64_t epoch_at_start) const;
  // Checks a bad input's ending.
  void bad_result(const BadJob& job, const std::string& model, tolk::StatusCode code,
                  int64_t epoch_at_start) const;
  // Checks an error thrown by the call itself (admission): queue full, model being reloaded,
  // shutdown.
  void call_error(const tolk::Error& e) const;
  int64_t epoch(const std::string& model) const;
};

// Everything one client thread needs.
struct ClientContext {
  tolk::TranslatorEngine* engine = nullptr;
  const std::vector<Job>* jobs = nullptr;
  const std::vector<BadJob>* bad_jobs = nullptr;
  std::vector<std::string> models;
  Judge judge;
  AsyncLedger* ledger = nullptr;
  std::atomic<bool>* stop = nullptr;
};

// Runs random calls until *stop; each call is checked by the judge.
void run_client(const ClientContext& ctx, uint64_t seed);

// The fixed jobs (texts of the dev checkpoint's reference cases, several language pairs,
// greedy and beam 2) and bad inputs (invalid UTF-8, unknown and special-token languages, a
// text over max_input_bytes).
std::vector<Job> make_jobs();
std::vector<BadJob> make_bad_jobs(int64_t max_input_bytes);

// The request options every job is sent with (short outputs keep each request fast).
tolk::TranslationOptions job_options(const Job& job);

// Resident memory of this process, in MiB.
double rss_mib();

}  // namespace stress
