// continuous_encoding.cc — the continuous executor's encoder jobs (continuous_executor.h):
// waiting sentences taken in are padded and embedded as jobs of similar length, each job runs
// one encoder layer per unit of work, and a finished job's sentences join the decoder.
#include "scheduling/continuous_executor.h"

#include <torch/torch.h>

#include <algorithm>

#include "decoding/encode_job.h"
#include "util/log.h"

namespace tolk::scheduling::continuous {

// Pads the newcomers and embeds them, one encoder job per batch of similar length
// (split_for_encoding): the first layers run in later units.
void ContinuousExecutor::start_encoding(std::vector<Pending>& admit,
                                        std::vector<Encoding>& encoding) {
  for (auto& part : continuous::split_for_encoding(std::move(admit), options_.encode_chunk_tokens))
    start_encoding_job(part, encoding);
  admit.clear();
}

void ContinuousExecutor::start_encoding_job(std::vector<Pending>& admit,
                                            std::vector<Encoding>& encoding) {
  std::vector<decoding::Admission> items;
  for (auto& p : admit) items.push_back({p.id, p.tier, p.input, p.params});
  const auto t0 = clock_type::now();
  Encoding e;
  try {
    e.job = std::make_unique<decoding::EncodeJob>(*model_, std::move(items));
  } catch (const std::exception& ex) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : admit) {
      live_cost_ -= p.cost;
      --encoding_sentences_;
      fail_locked(p.job, StatusCode::kInternal, ex.what());
    }
    return;
  }
  e.ms = ms_between(t0, clock_type::now());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : admit)
      if (!p.job->first_admitted) p.job->first_admitted = t0;
  }
  e.pending = std::move(admit);
  encoding.push_back(std::move(e));
}

// Runs one encoder layer of the most urgent runnable job; a job whose last layer is done
// joins the decoder (cross-attention K/V computed once, slots opened). Jobs whose requests
// have all ended are dropped unfinished. Returns whether any work was done.
bool ContinuousExecutor::run_encoder_unit(decoding::BatchDecoder& decoder,
                                          std::vector<Encoding>& encoding, bool bulk_allowed) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    encoding.erase(std::remove_if(encoding.begin(), encoding.end(), [&](const Encoding& e) {
                     const bool all_ended = std::all_of(
                         e.pending.begin(), e.pending.end(),
                         [](const Pending& p) { return p.job->finished; });
                     if (all_ended)
                       for (const auto& p : e.pending) {
                         live_cost_ -= p.cost;
                         --encoding_sentences_;
                       }
                     return all_ended;
                   }), encoding.end());
  }
  // A job whose encoder is done (and whose tier may run) joins the decoder, as this unit.
  for (auto it = encoding.begin(); it != encoding.end(); ++it) {
    if (!it->job->done() || (it->job->tier() == 2 && !bulk_allowed)) continue;
    admit_encoded(decoder, *it, encoding);
    encoding.erase(it);
    return true;
  }
  auto best = encoding.end();
  for (auto it = encoding.begin(); it != encoding.end(); ++it) {
    if (it->job->done() || (it->job->tier() == 2 && !bulk_allowed)) continue;
    if (best == encoding.end() || it->job->tier() < best->job->tier()) best = it;
  }
  if (best == encoding.end()) return false;
  // An interactive job runs all its layers back to back (still one unit each): interleaving
  // them with decoder steps would make it wait for every step of the requests ahead of it.
  do {
    const auto t0 = clock_type::now();
    try {
      best->job->step();
    } catch (const std::exception& ex) {
      fail_encoding(*best, ex);
      encoding.erase(best);
      return true;
    }
    const double ms = ms_between(t0, clock_type::now());
    best->ms += ms;
    note_unit(ms, "encoder layer", static_cast<int64_t>(best->pending.size()));
    counters_.add_busy(ms);
  } while (best->job->tier() == 0 && !best->job->done());
  if (best->job->done()) {
    admit_encoded(decoder, *best, encoding);
    encoding.erase(best);
  }
  return true;
}

// What the cache should hold for the work already known: the live rows plus every waiting
// sentence's rows (the running encoder jobs and the queues), within twice the batch budget.
// Sizing for it at once avoids repeated doublings, each a copy of the whole cache that an
// arriving interactive request would have to wait for (and, while storage is prepared,
// decoder steps that run part-full).
decoding::CacheCapacity ContinuousExecutor::expected_capacity(
    const decoding::BatchDecoder& decoder, const std::vector<Encoding>& encoding) {
  decoding::CacheCapacity c;
  c.rows = decoder.rows();
  int64_t sentences = static_cast<int64_t>(decoder.sentences());
  const int64_t cap = 2 * options_.max_batch_sequences;
  auto add = [&](const decoding::GenerationParams& params, const decoding::SequenceInput& input) {
    if (sentences >= cap) return false;
    ++sentences;
    c.rows += decoding::BatchDecoder::rows_for(params);
    c.max_length = std::max(c.max_length, params.max_length);
    c.max_source = std::max(c.max_source, static_cast<int64_t>(input.source_ids.size()));
    return true;
  };
  for (const auto& e : encoding)
    for (const auto& p : e.pending)
      if (!add(p.params, p.input)) return c;
  std::lock_guard<std::mutex> lock(mutex_);
  // Stops at the cap: the queues may hold far more sentences than a batch ever takes.
  for (int t = 0; t < WaitingQueues::kTiers; ++t)
    for (const auto& p : queues_.tier(t))
      if (!add(p.params, p.input)) return c;
  return c;
}

void ContinuousExecutor::fail_encoding(Encoding& e, const std::exception& ex) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& p : e.pending) {
    live_cost_ -= p.cost;
    --encoding_sentences_;
    fail_locked(p.job, StatusCode::kInternal, ex.what());
  }
}

// A finished encoder job's sentences (those whose requests are still on) join the decoder,
// or fail with the job.
void ContinuousExecutor::admit_encoded(decoding::BatchDecoder& decoder, Encoding& e,
                                       const std::vector<Encoding>& encoding) {
  // The cache grows (if it must) inside decoder.admit_encoded, at once, for these sentences
  // and `expected`, so that a burst grows it once. New storage is not zeroed (attend_rows
  // reads only written keys), so a growth costs the copy of the live rows. (Zeroing it in
  // slices between other units, as before, cost the continuous mode 5–30 % against a static
  // batch of the same 64 sentences: their join waited for it.)
  const auto expected =
      e.job->tier() == 0 ? decoding::CacheCapacity() : expected_capacity(decoder, encoding);
  std::vector<decoding::Admission> items;
  std::vector<int64_t> rows;
  std::vector<Pending> joining;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t j = 0; j < e.pending.size(); ++j) {
      auto& p = e.pending[j];
      --encoding_sentences_;
      if (p.job->finished) {
        live_cost_ -= p.cost;
        continue;
      }
      items.push_back(e.job->items()[j]);
      rows.push_back(static_cast<int64_t>(j));
      joining.push_back(std::move(p));
    }
  }
  if (joining.empty()) return;
  const auto t0 = clock_type::now();
  const auto shape_before = decoder.cache_shape();
  std::vector<decoding::Finished> done;
  try {
    decoder.admit_encoded(items, e.job->result(), rows, &done, expected);
    if (!shape_before.covers(decoder.cache_shape()))
      unit_stats_.add_growth(decoder.cache_shape().rows);
  } catch (const std::exception& ex) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : joining) {
      decoder.remove(p.id);
      live_cost_ -= p.cost;
      fail_locked(p.job, StatusCode::kInternal, ex.what());
    }
    return;
  }
  const double ms = ms_between(t0, clock_type::now());
  note_unit(ms, "join (cross K/V, slots)", static_cast<int64_t>(joining.size()));
  counters_.add_busy(ms);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const double share = (e.ms + ms) / static_cast<double>(joining.size());
    for (auto& p : joining) {
      p.job->encode_ms += share;
      live_.emplace(p.id, Live{p.job, p.index, p.cost});
    }
  }
  log::debug("continuous: admitted {} sentences (encoder {:.3f} ms, join {:.3f} ms; {} live)",
             joining.size(), e.ms, ms, decoder.sentences());
  deliver(std::move(done));
  return;
}

}  // namespace tolk::scheduling::continuous
