// continuous_executor.h — iteration-level batching (DESIGN.md "Continuous batching"): the
// executor's class, whose work is split over two files: continuous_executor.cc (requests, the
// scheduler loop, decoder steps, stops and delivery) and continuous_encoding.cc (encoder jobs:
// newcomers padded and embedded, one encoder layer per unit, then joining the decoder).
//
// One scheduler thread per model owns a BatchDecoder. Callers' sentences wait in three FIFO
// queues (interactive, normal, bulk: waiting_queues.h). Each iteration the loop checks every
// request's stop condition (cancel, deadline, shutdown), takes waiting sentences within the
// batch budgets into an encoder job (at most encode_chunk_tokens of source each), runs ONE
// encoder layer of the most urgent job (a job joins the decoder after its last layer), and runs
// one decoder step — unless no interactive work is present and encoder jobs are in progress:
// then those finish first, so that a burst joins one full step. Work is cut this small so an
// arriving interactive request waits only for the unit in progress: a decoder step that
// includes non-interactive rows is abandoned between layers as soon as an interactive sentence
// waits (it is simply run again later), and an interactive job overtakes the other encoder
// jobs, which keep their state. A cache growth is a copy of the live rows into new, unzeroed
// storage (admit_encoded). While interactive work is live, bulk rows sit out the steps (they
// keep their cache slots) and bulk newcomers wait; if interactive load lasts longer than
// bulk_grace_ms, bulk gets bulk_min_share of the steps, so it always finishes. Finished
// sentences leave at once; a request ends when its last sentence does (continuous_job.h: run()
// wakes its caller, submit() calls its completion).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "decoding/batch_decoder.h"
#include "scheduling/continuous_job.h"
#include "scheduling/continuous_stats.h"
#include "scheduling/executor.h"
#include "scheduling/executor_stats.h"
#include "scheduling/waiting_queues.h"
#include "tolk/status.h"

namespace tolk::scheduling::continuous {

class ContinuousExecutor final : public Executor {
 public:
  ContinuousExecutor(std::shared_ptr<const model::Transformer> model, const ModelOptions& o);
  ~ContinuousExecutor() override;
  std::vector<decoding::SequenceOutput> run(const RunRequest& request,
                                            ExecutionStats* stats) override;
  bool submit(RunRequest request, RunDone done) override;
  nlohmann::json stats() const override;

 private:
  // Requests (continuous_executor.cc); the *_locked ones run under mutex_.
  std::shared_ptr<Job> make_job(const RunRequest& request) const;
  void enqueue_locked(const std::shared_ptr<Job>& job, const RunRequest& request);
  void end_locked(const std::shared_ptr<Job>& job);
  void fail_locked(const std::shared_ptr<Job>& job, StatusCode code, const std::string& message);
  std::vector<Pending> take_admissions_locked(bool bulk_allowed, bool interactive_only,
                                              bool burst);
  void loop();
  bool sentences_waiting();
  void gather_burst(std::unique_lock<std::mutex>& lock);
  void check_stops(decoding::BatchDecoder& decoder, std::vector<Pending>& admit,
                   const std::vector<Encoding>& encoding);
  static std::string stop_message(StatusCode code);
  void drop_finished_locked(decoding::BatchDecoder& decoder);
  void deliver(std::vector<decoding::Finished> finished);
  void record_step(int64_t rows, double ms);
  void fail_all_live(decoding::BatchDecoder& decoder, const std::exception& e);
  void note_unit(double ms, const char* what, int64_t rows);

  // Encoder jobs (continuous_encoding.cc), on the scheduler thread.
  void start_encoding(std::vector<Pending>& admit, std::vector<Encoding>& encoding);
  void start_encoding_job(std::vector<Pending>& admit, std::vector<Encoding>& encoding);
  bool run_encoder_unit(decoding::BatchDecoder& decoder, std::vector<Encoding>& encoding,
                        bool bulk_allowed);
  decoding::CacheCapacity expected_capacity(const decoding::BatchDecoder& decoder,
                                            const std::vector<Encoding>& encoding);
  void fail_encoding(Encoding& e, const std::exception& ex);
  void admit_encoded(decoding::BatchDecoder& decoder, Encoding& e,
                     const std::vector<Encoding>& encoding);

  std::shared_ptr<const model::Transformer> model_;
  const ModelOptions options_;
  ExecutorCounters counters_;
  ContinuousStats unit_stats_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  WaitingQueues queues_;
  std::map<uint64_t, Live> live_;   // written by the loop, under mutex_
  int64_t live_cost_ = 0;
  int64_t encoding_sentences_ = 0;  // taken from the queues, encoder running (loop thread)
  // Interactive sentences waiting: read without the lock by a running decoder
  // step, which abandons itself between layers when this becomes non-zero.
  std::atomic<int64_t> interactive_waiting_{0};
  uint64_t next_id_ = 1;
  uint64_t stop_checks_ = 0;  // check_stops passes so far (Job::judged_in), loop thread only
  bool shutdown_ = false;
  std::thread thread_;
};

}  // namespace tolk::scheduling::continuous
