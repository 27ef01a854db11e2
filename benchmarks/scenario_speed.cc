// scenario_speed.cc — `tolk_bench --scenario throughput | latency | scaling | efficiency`:
// how fast tolk translates, per compute type, beam size and thread count, and how close that
// comes to the matrix-product rate the `gemm` scenario measures on the same machine.
//
// Two models: the 60M NLLB-shaped random model (realistic cost; its decode lengths are forced
// from the reference translations, since it rarely emits </s>) and the demo model (real
// translations, its own lengths). Sentences come from the demo model's test split.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>

#include "gemm_probe.h"
#include "scenarios.h"
#include "workload.h"

namespace tolk::bench {

const char* const kThroughputSummary = "sentences/s and tokens/s over the test split";
const char* const kThroughputFlags =
    "      --model DIR / --demo DIR  the 60M random model / the demo model ('-' skips one)\n"
    "      --test PATH             test split (default DEMO/eval/test.tsv), eng_Latn -> fra_Latn\n"
    "      --sentences N           sentences per pass (default 1000)\n"
    "      --compute-types LIST    default float32,bfloat16,int8\n"
    "      --beams LIST            default 1,4;   --threads LIST  default 1,2\n"
    "      --repeats N             passes per configuration, median reported (default 1)\n";
const char* const kLatencySummary = "one short sentence on an idle engine: p50/p95 vs the GEMM bound";
const char* const kLatencyFlags =
    "      --model DIR / --demo DIR, --compute-types LIST, --threads LIST (as throughput)\n"
    "      --runs N                timed translations per configuration (default 20)\n";
const char* const kScalingSummary = "tokens/s against batch size and against input length";
const char* const kScalingFlags =
    "      --model DIR             default the 60M random model\n"
    "      --compute-types LIST    default float32,bfloat16;  --threads N  default 2\n"
    "      --batches LIST          default 1,2,4,8,16,32,64,128\n"
    "      --lengths LIST          source tokens, default 8,16,32,64,128,256,512\n";
const char* const kEfficiencySummary =
    "batched decoding GFLOP/s / gemm peak; continuous vs one static batch";
const char* const kEfficiencyFlags =
    "      --model DIR, --test PATH, --compute-types LIST, --threads N (default 2)\n"
    "      --batch N               sentences decoded together (default 64)\n"
    "      --tokens N              forced new tokens per sentence (default 64)\n"
    "      --repeats N             default 3\n";

namespace {

constexpr const char* kDemoDefault = "models/tolk-demo-en-fr-de-es";
constexpr const char* kShortText = "Open the file and save your changes.";

struct Common {
  std::string model, demo, test;
};

Common common_flags(Flags& f) {
  Common c;
  c.model = f.get_string("model", default_bench_model());
  c.demo = f.get_string("demo", kDemoDefault);
  c.test = f.get_string("test", (c.demo == "-" ? std::string(kDemoDefault) : c.demo) + "/eval/test.tsv");
  return c;
}

std::unique_ptr<TranslatorEngine> make_engine(int64_t threads) {
  EngineOptions eo;
  eo.intra_threads = static_cast<int>(threads);
  eo.async_threads = 256;  // every sentence of a pass in flight: the model batches them
  eo.max_queued_requests = 100000;
  return std::make_unique<TranslatorEngine>(eo);
}

ModelOptions model_options(const std::string& compute_type, ExecutionMode mode, int64_t batch) {
  ModelOptions mo;
  mo.mode = mode;
  mo.compute_type = compute_type;
  mo.sentence_splitting = SentenceSplitting::kOff;  // one test line = one sequence
  mo.max_batch_sequences = batch;
  mo.max_batch_tokens = int64_t{1} << 22;           // the batch is bounded by sequences only
  return mo;
}

struct Subject {
  std::string label, dir;
  bool forced;  // decode lengths forced (the random model)
};

std::vector<Subject> subjects(const Common& c) {
  std::vector<Subject> out;
  if (c.model != "-") out.push_back({"60M-random", c.model, true});
  if (c.demo != "-") out.push_back({"demo", c.demo, false});
  if (out.empty()) throw std::invalid_argument("both --model and --demo are '-'");
  return out;
}

TranslationOptions decode_options(int64_t beam) {
  TranslationOptions o;
  o.beam_size = static_cast<int>(beam);
  o.max_new_tokens = 128;
  return o;
}

}  // namespace

int run_throughput(Flags& flags, const Context& ctx) {
  const Common c = common_flags(flags);
  const auto types = compute_type_list(flags);
  const auto beams = int_list(flags, "beams", "1,4");
  const auto threads = int_list(flags, "threads", "1,2");
  const auto n = int_list(flags, "sentences", "1000").at(0);
  const auto repeats = int_list(flags, "repeats", "1").at(0);
  require_all_flags_used(flags);
  const auto sentences = read_test_split(c.test, "eng_Latn", "fra_Latn", static_cast<size_t>(n));
  fmt::print("{} sentences eng_Latn -> fra_Latn from {}, continuous mode, max 64 live\n\n",
             sentences.size(), c.test);
  fmt::print("{:<11} {:<9} {:>4} {:>3} {:>9} {:>10} {:>11} {:>10}\n", "model", "type", "beam",
             "thr", "seconds", "sent/s", "gen tok/s", "same/fp32");
  Json rows = Json::array();
  int status = 0;
  for (const auto& subject : subjects(c)) {
    for (const int64_t beam : beams) {
      for (const int64_t t : threads) {
        std::vector<std::string> fp32_outputs;
        for (const auto& type : types) {
          auto engine = make_engine(t);
          engine->load_model("m", subject.dir, model_options(type, ExecutionMode::kContinuous, 64));
          std::vector<double> secs;
          PassTotals last;
          for (int64_t r = 0; r < repeats; ++r) {
            last = translate_pass(*engine, "m", sentences, decode_options(beam), subject.forced);
            secs.push_back(last.seconds);
          }
          const double s = median(secs);
          if (type == "float32") fp32_outputs = last.outputs;
          double same = -1;
          if (!subject.forced && !fp32_outputs.empty() && type != "float32") {
            int64_t equal = 0;
            for (size_t i = 0; i < last.outputs.size(); ++i) equal += last.outputs[i] == fp32_outputs[i];
            same = 100.0 * static_cast<double>(equal) / static_cast<double>(last.outputs.size());
          }
          if (last.failures) status = 1;
          fmt::print("{:<11} {:<9} {:>4} {:>3} {:>9.2f} {:>10.1f} {:>11.0f} {:>10}{}\n", subject.label,
                     engine->model_info("m").compute_type, beam, t, s, last.sentences / s,
                     last.generated_tokens / s, same < 0 ? "-" : fmt::format("{:.1f}%", same),
                     last.failures ? fmt::format("  ({} failed: {})", last.failures, last.first_error) : "");
          std::fflush(stdout);
          rows.push(Json::object().set("model", subject.label).set("compute_type", type)
                        .set("ran_as", engine->model_info("m").compute_type).set("beam", beam)
                        .set("threads", t).set("seconds", s).set("seconds_each", secs)
                        .set("sentences", last.sentences).set("source_tokens", last.source_tokens)
                        .set("generated_tokens", last.generated_tokens)
                        .set("sentences_per_s", last.sentences / s)
                        .set("generated_tokens_per_s", last.generated_tokens / s)
                        .set("identical_to_float32_pct", same < 0 ? Json() : Json(same))
                        .set("failures", last.failures));
        }
      }
    }
  }
  Json body = Json::object();
  body.set("sentences", static_cast<int64_t>(sentences.size())).set("test_split", c.test).set("rows", rows);
  return write_json_report(ctx, "throughput", body) | status;
}

// The time one sentence would take if every linear layer ran at the rate `gemm` measures for
// its shape and row count: encoder products at `source` rows, decoder products at one row.
// `hot_ms` times each decoder product alone in a loop, its matrix staying in cache between
// calls; `streamed_ms` times a whole step's products over distinct matrices in order
// (decoder_step_products_ms), as a real step reads them. Both are lower bounds; the streamed
// one is the tighter, and the one the latency goal is judged against.
struct LatencyBound {
  double hot_ms = 0, streamed_ms = 0;
};

LatencyBound gemm_bound_ms(const ModelShape& m, const std::string& type, int threads, int64_t source,
                           int64_t generated) {
  std::map<std::pair<std::string, int64_t>, double> rate;
  auto ms = [&](const GemmShape& s, int64_t rows) {
    auto key = std::make_pair(s.name + std::to_string(s.out) + "x" + std::to_string(s.in), rows);
    if (!rate.count(key)) rate[key] = gemm_gflops(type, rows, s, threads, 3, 0.05);
    return 2.0 * rows * s.out * s.in / (rate[key] * 1e9) * 1e3;
  };
  const int64_t d = m.d_model;
  const GemmShape qkv{"qkv", 3 * d, d}, out{"out", d, d}, kv{"kv", 2 * d, d},
      efc1{"efc1", m.encoder_ffn, d}, efc2{"efc2", d, m.encoder_ffn}, dfc1{"dfc1", m.decoder_ffn, d},
      dfc2{"dfc2", d, m.decoder_ffn}, head{"head", m.vocab, d};
  double source_side = m.encoder_layers * (ms(qkv, source) + ms(out, source) + ms(efc1, source) + ms(efc2, source));
  source_side += m.decoder_layers * ms(kv, source);
  const double hot_step =
      m.decoder_layers * (ms(qkv, 1) + 3 * ms(out, 1) + ms(dfc1, 1) + ms(dfc2, 1)) + ms(head, 1);
  const double streamed_step = decoder_step_products_ms(type, m, threads, 3);
  return {source_side + generated * hot_step, source_side + generated * streamed_step};
}

int run_latency(Flags& flags, const Context& ctx) {
  const Common c = common_flags(flags);
  const auto types = compute_type_list(flags);
  const auto threads = int_list(flags, "threads", "1,2");
  const auto runs = int_list(flags, "runs", "20").at(0);
  require_all_flags_used(flags);
  fmt::print("\"{}\" eng_Latn -> fra_Latn, greedy, translate_sync on an idle engine, {} runs\n"
             "(60M-random: 8 new tokens, forced)\n\n", kShortText, runs);
  fmt::print("{:<11} {:<9} {:>3} {:>5} {:>4} {:>9} {:>9} {:>11} {:>8} {:>10} {:>8}\n", "model",
             "type", "thr", "src", "gen", "p50 ms", "p95 ms", "GEMM bound", "p50/bnd", "hot bound",
             "p50/hot");
  Json rows = Json::array();
  for (const auto& subject : subjects(c)) {
    const ModelShape shape = read_model_shape(subject.dir);
    for (const int64_t t : threads) {
      for (const auto& type : types) {
        auto engine = make_engine(t);
        engine->load_model("m", subject.dir, model_options(type, ExecutionMode::kExclusive, 64));
        TranslationOptions o;
        if (subject.forced) o.min_new_tokens = o.max_new_tokens = 8;
        std::vector<double> ms;
        TranslationResult r;
        for (int64_t i = 0; i < runs + 3; ++i) {
          const auto start = Clock::now();
          r = engine->translate_sync("m", kShortText, "eng_Latn", "fra_Latn", o);
          if (i >= 3) ms.push_back(ms_since(start));
        }
        if (!r.ok()) throw std::runtime_error("latency: " + r.error);
        const std::string ran_as = engine->model_info("m").compute_type;
        engine.reset();
        const LatencyBound bound = gemm_bound_ms(shape, ran_as, static_cast<int>(t),
                                                 r.source_tokens, r.generated_tokens);
        const double p50 = percentile(ms, 50), p95 = percentile(ms, 95);
        fmt::print("{:<11} {:<9} {:>3} {:>5} {:>4} {:>9.2f} {:>9.2f} {:>11.2f} {:>8.2f} {:>10.2f} {:>8.2f}\n",
                   subject.label, ran_as, t, r.source_tokens, r.generated_tokens, p50, p95,
                   bound.streamed_ms, p50 / bound.streamed_ms, bound.hot_ms, p50 / bound.hot_ms);
        std::fflush(stdout);
        rows.push(Json::object().set("model", subject.label).set("compute_type", ran_as)
                      .set("threads", t).set("source_tokens", r.source_tokens)
                      .set("generated_tokens", r.generated_tokens).set("p50_ms", p50)
                      .set("p95_ms", p95).set("gemm_bound_ms", bound.streamed_ms)
                      .set("p50_over_bound", p50 / bound.streamed_ms)
                      .set("gemm_bound_hot_ms", bound.hot_ms).set("p50_over_hot_bound", p50 / bound.hot_ms)
                      .set("samples_ms", ms));
      }
    }
  }
  Json body = Json::object();
  body.set("text", kShortText).set("rows", rows);
  return write_json_report(ctx, "latency", body);
}

int run_scaling(Flags& flags, const Context& ctx) {
  const std::string model = flags.get_string("model", default_bench_model());
  const auto types = compute_type_list(flags, "float32,bfloat16");
  const auto t = int_list(flags, "threads", "2").at(0);
  const auto batches = int_list(flags, "batches", "1,2,4,8,16,32,64,128");
  const auto lengths = int_list(flags, "lengths", "8,16,32,64,128,256,512");
  require_all_flags_used(flags);
  Json rows = Json::array();
  for (const auto& type : types) {
    auto engine = make_engine(t);
    engine->load_model("m", model, model_options(type, ExecutionMode::kContinuous, 128));
    const std::string ran_as = engine->model_info("m").compute_type;
    fmt::print("{} ({} threads): batch of B copies of one sentence, 32 new tokens each (forced)\n"
               "{:>6} {:>9} {:>11}\n", ran_as, t, "B", "seconds", "gen tok/s");
    TranslationOptions o;
    o.min_new_tokens = o.max_new_tokens = 32;
    for (const int64_t b : batches) {
      std::vector<Sentence> batch(static_cast<size_t>(b),
                                  Sentence{"eng_Latn", "fra_Latn", kShortText, ""});
      translate_pass(*engine, "m", batch, o, false);  // warm-up (cache growth, kernels)
      const auto p = translate_pass(*engine, "m", batch, o, false);
      fmt::print("{:>6} {:>9.3f} {:>11.0f}\n", b, p.seconds, p.generated_tokens / p.seconds);
      std::fflush(stdout);
      rows.push(Json::object().set("compute_type", ran_as).set("threads", t).set("axis", "batch")
                    .set("batch", b).set("seconds", p.seconds)
                    .set("generated_tokens_per_s", p.generated_tokens / p.seconds));
    }
    // Input length: a text of repeated words, calibrated to the tokenizer.
    TranslationOptions one;
    one.min_new_tokens = one.max_new_tokens = 1;
    const std::string word = "translation ";
    std::string probe;
    for (int i = 0; i < 50; ++i) probe += word;
    const auto calib = engine->translate_sync("m", probe, "eng_Latn", "fra_Latn", one);
    const double per_word = static_cast<double>(calib.source_tokens - 2) / 50.0;
    fmt::print("{:>6} {:>9} {:>13} (one sentence, 16 new tokens)\n", "src", "ms", "src tok/s");
    TranslationOptions sixteen;
    sixteen.min_new_tokens = sixteen.max_new_tokens = 16;
    for (const int64_t len : lengths) {
      const int64_t words = std::max<int64_t>(1, static_cast<int64_t>((len - 2) / per_word));
      std::string text;
      for (int64_t i = 0; i < words; ++i) text += word;
      engine->translate_sync("m", text, "eng_Latn", "fra_Latn", sixteen);  // warm-up
      std::vector<double> ms;
      TranslationResult r;
      for (int i = 0; i < 3; ++i) {
        const auto start = Clock::now();
        r = engine->translate_sync("m", text, "eng_Latn", "fra_Latn", sixteen);
        ms.push_back(ms_since(start));
      }
      if (!r.ok()) throw std::runtime_error("scaling: " + r.error);
      const double m = median(ms);
      fmt::print("{:>6} {:>9.2f} {:>13.0f}\n", r.source_tokens, m, r.source_tokens / (m / 1e3));
      std::fflush(stdout);
      rows.push(Json::object().set("compute_type", ran_as).set("threads", t).set("axis", "length")
                    .set("source_tokens", r.source_tokens).set("ms", m)
                    .set("source_tokens_per_s", r.source_tokens / (m / 1e3)));
    }
    fmt::print("\n");
  }
  Json body = Json::object();
  body.set("model", model).set("rows", rows);
  return write_json_report(ctx, "scaling", body);
}

int run_efficiency(Flags& flags, const Context& ctx) {
  const std::string model = flags.get_string("model", default_bench_model());
  const std::string test = flags.get_string("test", std::string(kDemoDefault) + "/eval/test.tsv");
  const auto types = compute_type_list(flags);
  const auto t = int_list(flags, "threads", "2").at(0);
  const auto batch = int_list(flags, "batch", "64").at(0);
  const auto tokens = int_list(flags, "tokens", "64").at(0);
  const auto repeats = int_list(flags, "repeats", "3").at(0);
  require_all_flags_used(flags);
  const ModelShape shape = read_model_shape(model);
  const auto sentences = read_test_split(test, "eng_Latn", "fra_Latn", static_cast<size_t>(batch));
  std::vector<std::string> texts;
  for (const auto& s : sentences) texts.push_back(s.source);
  TranslationOptions o;
  o.min_new_tokens = o.max_new_tokens = tokens;
  fmt::print("{} sentences x {} new tokens (forced), {} threads; FLOPs counted by "
             "translation_flops (gemm_probe.h); peak: the median of {} probes before the runs and "
             "{} after them\n\n", sentences.size(), tokens, t, repeats, repeats);
  fmt::print("{:<9} {:>10} {:>12} {:>9} {:>12} {:>12} {:>10}\n", "type", "peak GF/s",
             "achieved GF/s", "of peak", "static s", "continuous s", "cont/stat");
  Json rows = Json::array();
  for (const auto& type : types) {
    // The peak is probed `repeats` times before the runs and as many times after them, and the
    // median of all those probes divides: this VM's speed drifts by tens of percent within
    // minutes (one run's int8 probes ranged 748-1,074 GFLOP/s), and a peak taken only before
    // the runs moved the fraction by as much (int8 at 256 sentences: 47 % in one suite run,
    // 59 % in a run of the scenario alone). The probes stay outside the static/continuous pairs
    // so that nothing but those two runs sits between a pair's runs.
    std::vector<double> peaks;
    const auto measure_peaks = [&] {
      for (int64_t r = 0; r < repeats; ++r) {
        double best = 0;  // the best of the model's shapes
        for (const auto& s : model_gemm_shapes(shape))
          best = std::max(best, gemm_gflops(type, 256, s, static_cast<int>(t), 1));
        peaks.push_back(best);
      }
    };
    measure_peaks();
    auto engine = make_engine(t);
    engine->load_model("cont", model, model_options(type, ExecutionMode::kContinuous, batch));
    engine->load_model("static", model, model_options(type, ExecutionMode::kExclusive, batch));
    const std::string ran_as = engine->model_info("cont").compute_type;
    std::vector<double> cont, stat, pair_ratio;
    PassTotals p;
    translate_pass(*engine, "cont", sentences, o, false);  // warm-up
    engine->translate_batch("static", texts, "eng_Latn", "fra_Latn", o);
    const auto run_static = [&] {
      const auto start = Clock::now();
      const auto results = engine->translate_batch("static", texts, "eng_Latn", "fra_Latn", o);
      stat.push_back(ms_since(start) / 1e3);
      for (const auto& x : results)
        if (!x.ok()) throw std::runtime_error("efficiency: " + x.error);
    };
    const auto run_continuous = [&] {
      p = translate_pass(*engine, "cont", sentences, o, false);
      cont.push_back(p.seconds);
    };
    for (int64_t r = 0; r < repeats; ++r) {
      // This VM's speed drifts by tens of percent within minutes: each continuous run is
      // compared with the static run next to it, in alternating order (static first in even
      // pairs, continuous first in odd ones) so that a steady drift favours neither, and the
      // median of those ratios is reported.
      if (r % 2 == 0) {
        run_static();
        run_continuous();
      } else {
        run_continuous();
        run_static();
      }
      pair_ratio.push_back(cont.back() / stat.back());
    }
    measure_peaks();
    const double peak = median(peaks);
    double flops = 0;
    for (size_t i = 0; i < p.source_each.size(); ++i)
      flops += translation_flops(shape, p.source_each[i], p.generated_each[i], 1);
    const double best = std::min(median(cont), median(stat));
    const double achieved = flops / best / 1e9;
    fmt::print("{:<9} {:>10.1f} {:>12.1f} {:>8.1f}% {:>12.3f} {:>12.3f} {:>10.3f}\n", ran_as, peak,
               achieved, 100 * achieved / peak, median(stat), median(cont), median(pair_ratio));
    std::fflush(stdout);
    rows.push(Json::object().set("compute_type", ran_as).set("threads", t).set("gemm_peak_gflops", peak)
                  .set("gemm_peak_gflops_each", peaks)
                  .set("flops", flops).set("achieved_gflops", achieved)
                  .set("fraction_of_peak", achieved / peak).set("static_seconds", stat)
                  .set("continuous_seconds", cont)
                  .set("continuous_over_static", median(pair_ratio))
                  .set("continuous_over_static_each_pair", pair_ratio));
  }
  Json body = Json::object();
  body.set("model", model).set("batch", batch).set("tokens", tokens).set("rows", rows);
  return write_json_report(ctx, "efficiency", body);
}

}  // namespace tolk::bench
