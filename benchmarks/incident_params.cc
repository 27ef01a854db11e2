// incident_params.cc — see incident_params.h. The usage text lives here, beside the parser and
// the JSON of the parameters, so that a flag's help, parsing and report field stay together.
#include "incident_params.h"

#include <fmt/format.h>
#include <unistd.h>

#include <stdexcept>

namespace tolk::bench {

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

bool file_exists(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

namespace {

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

}  // namespace

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

}  // namespace tolk::bench
