// option_resolver.cc — see option_resolver.h.
#include "engine/option_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "tolk/status.h"

namespace tolk::engine {
namespace {

template <typename T>
T pick(const std::optional<T>& request, const std::optional<T>& file, T fallback) {
  if (request) return *request;
  if (file) return *file;
  return fallback;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw Error(StatusCode::kInvalidArgument, message);
}

}  // namespace

decoding::GenerationParams resolve_generation_params(const TranslationOptions& o,
                                                     const model::GenerationDefaults& g,
                                                     const model::ModelConfig& c) {
  decoding::GenerationParams p;
  p.decoder_start_token_id = c.decoder_start_token_id;
  p.eos_token_id = c.eos_token_id;
  p.pad_token_id = c.pad_token_id;

  const int64_t beams = pick<int64_t>(o.beam_size ? std::optional<int64_t>(*o.beam_size)
                                                  : std::nullopt, g.num_beams, 1);
  require(beams >= 1 && beams <= 64, fmt::format("beam_size {} is outside [1, 64]", beams));
  p.beam_size = static_cast<int>(beams);
  const int hyps = o.num_hypotheses.value_or(1);
  require(hyps >= 1 && hyps <= p.beam_size,
          fmt::format("num_hypotheses {} is outside [1, beam_size = {}]", hyps, p.beam_size));
  p.num_hypotheses = hyps;

  // Decoder token t sits at position t + 2 of a table with max_position_embeddings + 2 rows,
  // and the last generated token is never fed back: at most max_position_embeddings + 1 tokens.
  const int64_t position_cap = c.max_position_embeddings + 1;
  int64_t max_new = 200;
  if (o.max_new_tokens) max_new = *o.max_new_tokens;
  else if (g.max_new_tokens) max_new = *g.max_new_tokens;
  else if (g.max_length) max_new = *g.max_length - 1;
  require(max_new >= 1 && max_new <= 1000000,
          fmt::format("max_new_tokens {} is outside [1, 1000000]", max_new));
  p.max_length = std::min<int64_t>(max_new + 1, position_cap);

  p.min_new_tokens = pick<int64_t>(o.min_new_tokens, g.min_new_tokens, 0);
  require(p.min_new_tokens >= 0 && p.min_new_tokens <= max_new,
          fmt::format("min_new_tokens {} is outside [0, max_new_tokens = {}]", p.min_new_tokens,
                      max_new));
  p.length_penalty = pick<double>(o.length_penalty, g.length_penalty, 1.0);
  require(std::isfinite(p.length_penalty) && std::abs(p.length_penalty) <= 100,
          "length_penalty must be finite and within [-100, 100]");
  p.repetition_penalty = pick<double>(o.repetition_penalty, g.repetition_penalty, 1.0);
  require(p.repetition_penalty > 0 && p.repetition_penalty <= 100,
          "repetition_penalty must be in (0, 100]");
  p.no_repeat_ngram_size = pick<int64_t>(o.no_repeat_ngram_size, g.no_repeat_ngram_size, 0);
  require(p.no_repeat_ngram_size >= 0 && p.no_repeat_ngram_size <= 1024,
          "no_repeat_ngram_size must be in [0, 1024]");

  p.do_sample = pick<bool>(o.sampling, g.do_sample, false);
  p.top_k = pick<int64_t>(o.sampling_topk, g.top_k, 50);
  require(p.top_k >= 0, "sampling_topk must be >= 0 (0 = off)");
  p.top_p = pick<double>(o.sampling_topp, g.top_p, 1.0);
  require(p.top_p > 0 && p.top_p <= 1, "sampling_topp must be in (0, 1]");
  p.temperature = pick<double>(o.temperature, g.temperature, 1.0);
  require(p.temperature > 0 && p.temperature <= 100, "temperature must be in (0, 100]");
  require(!(p.do_sample && p.beam_size > 1), "sampling with beam_size > 1 is not supported");
  // A fresh seed only where it is used: std::random_device costs a system call or two per
  // request (~30 µs on a VM), which a continuous burst of 256 requests paid for nothing.
  p.seed = o.seed ? *o.seed : p.do_sample ? std::random_device{}() : 0;
  return p;
}

}  // namespace tolk::engine
