// incident_params.h — the incident scenario's parameters: its flags (kIncidentFlags lists
// them), parsed and checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "scenarios.h"

namespace tolk::bench {

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

// Reads every flag of the scenario; throws std::invalid_argument for a bad value or a flag it
// does not know (require_all_flags_used).
Params parse_params(Flags& f, const Context& ctx);

// The parameters as the JSON report's "params" object.
Json params_json(const Params& p);

// Whether `path` exists and is readable (the model directory's config.json).
bool file_exists(const std::string& path);

}  // namespace tolk::bench
