// incident_report.cc — see incident_report.h.
#include "incident_report.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace tolk::bench {

namespace {

// ---- summary ------------------------------------------------------------------------------

// A number field of the engine's stats JSON, e.g. "longest_unit_ms" (first occurrence; NaN if
// absent). A plain text search: the bench does not link a JSON library.
double stats_number(const std::string& stats, const std::string& key) {
  const std::string quoted = "\"" + key + "\"";
  auto at = stats.find(quoted);
  if (at == std::string::npos) return kNaN;
  at = stats.find(':', at + quoted.size());
  if (at == std::string::npos) return kNaN;
  const char* begin = stats.c_str() + at + 1;
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  return end == begin ? kNaN : v;
}

struct Summary {
  double short_alone = kNaN, short_p50 = kNaN, short_p95 = kNaN, short_max = kNaN;
  double long_alone = kNaN, long_load = kNaN;
  double r_short_p50 = kNaN, r_short_p95 = kNaN, r_long = kNaN;
  double longest_extra_wait = kNaN, max_engine_queue = kNaN;
  double engine_longest_unit = kNaN;  // stats() "longest_unit_ms", over the whole mode's run
  // stats() "longest_unit_an_interactive_waited_for_ms": the longest unit that ended while an
  // interactive sentence waited (continuous mode only)
  double engine_blocking_unit = kNaN;
  int overlapped = 0, samples = 0, short_first = 0;
};

Summary summarize(const Row& r) {
  Summary s;
  s.short_alone = median(r.samples("short_alone_ms"));
  s.long_alone = median(r.samples("long_alone_ms"));
  const auto& load = r.samples("short_load_ms");
  const auto& queue = r.samples("short_load_queue_ms");
  const auto& overlap = r.samples("overlapped");
  const auto& first = r.samples("short_finished_first");
  std::vector<double> under, under_queue;
  for (size_t i = 0; i < load.size(); ++i) {
    if (i < overlap.size() && overlap[i] == 0) continue;  // the long one had already ended
    under.push_back(load[i]);
    if (i < queue.size()) under_queue.push_back(queue[i]);
  }
  for (double f : first) s.short_first += f != 0;
  s.samples = static_cast<int>(load.size());
  s.overlapped = static_cast<int>(under.size());
  s.short_p50 = percentile(under, 50);
  s.short_p95 = percentile(under, 95);
  s.short_max = max_of(under);
  s.long_load = median(r.samples("long_load_ms"));
  s.r_short_p50 = s.short_p50 / s.short_alone;
  s.r_short_p95 = s.short_p95 / s.short_alone;
  s.r_long = s.long_load / s.long_alone;
  s.longest_extra_wait = s.short_max - s.short_alone;
  s.max_engine_queue = max_of(under_queue);
  s.engine_longest_unit = stats_number(r.text("engine_stats"), "longest_unit_ms");
  s.engine_blocking_unit =
      stats_number(r.text("engine_stats"), "longest_unit_an_interactive_waited_for_ms");
  return s;
}

std::string fmt_num(double v, const char* spec) {
  return std::isnan(v) ? std::string("-") : fmt::format(fmt::runtime(spec), v);
}

std::string ratio_cell(double v, double goal, bool judge) {
  if (std::isnan(v)) return "-";
  std::string s = fmt::format("{:.2f}x", v);
  if (judge) s += v <= goal ? " (met)" : " (MISSED)";
  return s;
}

}  // namespace

std::string render_table(const Params& p, const std::vector<Row>& rows) {
  std::string out;
  out += fmt::format(
      "\nincident: {} long sentences x {} new tokens (bulk) + {} short request(s) of 1 sentence x "
      "{} new tokens (interactive) per long one, {} repeats, arrivals +{}..{} ms\n",
      p.long_sentences, p.long_tokens, p.shorts_per_long, p.short_tokens, p.repeats,
      p.offset_min_ms, p.offset_max_ms);
  out += fmt::format("goals (continuous): short latency under load <= {:.1f}x idle (p50 and p95), "
                     "long time under load <= {:.1f}x alone\n\n",
                     kGoalShortRatio, kGoalLongRatio);
  const std::string header = fmt::format(
      "{:<11}| {:<17}| {:<17}| {:<17}| {:>6} | {:>7} | {:>21} | {:>16} | {:>24}\n", "mode",
      "short p50 ratio", "short p95 ratio", "long ratio", "RSS MB", "peak MB",
      "longest extra wait ms", "engine longest unit ms", "unit an arrival waited ms");
  out += header;
  out += std::string(header.size() - 1, '-') + "\n";
  for (const auto& r : rows) {
    const std::string mode = r.text("mode");
    if (!r.text("error").empty() && r.samples("short_load_ms").empty()) {
      out += fmt::format("{:<11}| error: {}\n", mode, r.text("error"));
      continue;
    }
    const Summary s = summarize(r);
    const bool judge = mode == "continuous";
    out += fmt::format("{:<11}| {:<17}| {:<17}| {:<17}| {:>6} | {:>7} | {:>21} | {:>16} | {:>24}\n", mode,
                       ratio_cell(s.r_short_p50, kGoalShortRatio, judge),
                       ratio_cell(s.r_short_p95, kGoalShortRatio, judge),
                       ratio_cell(s.r_long, kGoalLongRatio, judge),
                       fmt_num(r.get("rss_after_load_mib"), "{:.0f}"),
                       fmt_num(r.get("peak_rss_mib"), "{:.0f}"),
                       fmt_num(s.longest_extra_wait, "{:.0f}"),
                       fmt_num(s.engine_longest_unit, "{:.0f}"),
                       fmt_num(s.engine_blocking_unit, "{:.1f}"));
  }
  out += "\ndetails (ms):\n";
  for (const auto& r : rows) {
    const std::string mode = r.text("mode");
    out += fmt::format("  {} [{}]\n", mode, r.text("settings"));
    if (!r.text("error").empty()) out += fmt::format("    error: {}\n", r.text("error"));
    if (r.samples("short_alone_ms").empty()) continue;
    const Summary s = summarize(r);
    // The engine's own count (TranslationResult::source_tokens) when it reports one, else the
    // calibration's (through the length check).
    auto range = [](const std::vector<double>& v) {
      return v.empty() || max_of(v) <= 0 ? std::string("?") : fmt::format("{}..{}", min_of(v), max_of(v));
    };
    std::string long_src = range(r.samples("engine_long_source_tokens"));
    if (long_src == "?") long_src = range(r.samples("long_source_tokens"));
    std::string short_src = range(r.samples("engine_short_source_tokens"));
    if (short_src == "?") short_src = fmt_num(r.get("short_source_tokens"), "{:.0f}");
    out += fmt::format(
        "    source tokens: long {} each, short {}; generated: long {}..{}, short {}..{}\n",
        long_src, short_src, fmt_num(r.get("long_generated_min"), "{:.0f}"),
        fmt_num(r.get("long_generated_max"), "{:.0f}"), fmt_num(r.get("short_generated_min"), "{:.0f}"),
        fmt_num(r.get("short_generated_max"), "{:.0f}"));
    // Idle runs before the load come first in short_alone_ms, those after it last.
    std::string idle_split;
    const auto& alone = r.samples("short_alone_ms");
    const auto& after = r.samples("short_alone_after_ms");
    if (!after.empty() && after.size() < alone.size())
      idle_split = fmt::format(" (before the load {:.1f}, after {:.1f})",
                               median(std::vector<double>(alone.begin(), alone.end() - static_cast<long>(after.size()))),
                               median(after));
    out += fmt::format(
        "    short: idle median {}{} | under load p50 {} p95 {} max {} | engine queue_ms max {}\n",
        fmt_num(s.short_alone, "{:.1f}"), idle_split, fmt_num(s.short_p50, "{:.1f}"), fmt_num(s.short_p95, "{:.1f}"),
        fmt_num(s.short_max, "{:.1f}"), fmt_num(s.max_engine_queue, "{:.1f}"));
    out += fmt::format(
        "    long:  alone median {} | under load median {}\n"
        "    samples under load: {} of {} (short sent before the long one ended); short finished "
        "first in {}\n",
        fmt_num(s.long_alone, "{:.0f}"), fmt_num(s.long_load, "{:.0f}"), s.overlapped, s.samples,
        s.short_first);
    out += fmt::format(
        "    memory: RSS before load {} MiB, after load {} MiB, at end {} MiB, peak {} MiB{}; load "
        "{} ms\n",
        fmt_num(r.get("rss_before_load_mib"), "{:.0f}"), fmt_num(r.get("rss_after_load_mib"), "{:.0f}"),
        fmt_num(r.get("rss_end_mib"), "{:.0f}"), fmt_num(r.get("peak_rss_mib"), "{:.0f}"),
        r.get("peak_reset") == 1 ? " (since just before load)" : " (process lifetime)",
        fmt_num(r.get("load_ms"), "{:.0f}"));
    out += fmt::format("    machine load average: {} at start, {} at end\n", r.text("load_average_start"),
                       r.text("load_average_end"));
  }
  return out;
}

Json row_json(const Row& r) {
  Json j = Json::object();
  j.set("mode", r.text("mode"));
  j.set("settings", r.text("settings"));
  j.set("load_average_start", r.text("load_average_start"));
  j.set("load_average_end", r.text("load_average_end"));
  j.set("error", r.text("error").empty() ? Json() : Json(r.text("error")));
  if (!r.samples("short_alone_ms").empty()) {
    const Summary s = summarize(r);
    Json sum = Json::object();
    sum.set("short_alone_median_ms", s.short_alone);
    sum.set("short_under_load_p50_ms", s.short_p50);
    sum.set("short_under_load_p95_ms", s.short_p95);
    sum.set("short_under_load_max_ms", s.short_max);
    sum.set("short_p50_ratio", s.r_short_p50);
    sum.set("short_p95_ratio", s.r_short_p95);
    sum.set("long_alone_median_ms", s.long_alone);
    sum.set("long_under_load_median_ms", s.long_load);
    sum.set("long_ratio", s.r_long);
    sum.set("longest_extra_wait_ms", s.longest_extra_wait);
    sum.set("engine_queue_max_ms", s.max_engine_queue);
    sum.set("engine_longest_unit_ms", s.engine_longest_unit);
    sum.set("engine_longest_unit_an_interactive_waited_for_ms", s.engine_blocking_unit);
    sum.set("samples", s.samples);
    sum.set("samples_under_load", s.overlapped);
    sum.set("short_finished_first", s.short_first);
    if (r.text("mode") == "continuous") {
      sum.set("goal_short_met", s.r_short_p50 <= kGoalShortRatio && s.r_short_p95 <= kGoalShortRatio);
      sum.set("goal_long_met", s.r_long <= kGoalLongRatio);
    }
    j.set("summary", sum);
  }
  const std::string stats = r.text("engine_stats");
  if (!stats.empty()) {
    // TranslatorEngine::stats() is documented to be a JSON object; anything else stays a string.
    const bool object = stats.find_first_not_of(" \t") != std::string::npos &&
                        stats[stats.find_first_not_of(" \t")] == '{' &&
                        stats[stats.find_last_not_of(" \t")] == '}';
    j.set("engine_stats", object ? Json::raw(stats) : Json(stats));
  }
  Json values = Json::object();
  for (const auto& [k, v] : r.num) values.set(k, v);
  j.set("values", values);
  Json samples = Json::object();
  for (const auto& [k, v] : r.vec) samples.set(k, v);
  j.set("samples", samples);
  return j;
}

}  // namespace tolk::bench
