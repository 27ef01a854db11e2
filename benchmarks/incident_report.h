// incident_report.h — the incident scenario's report: per mode, the summary figures measured
// against the goals, as a table for the terminal and as JSON.
#pragma once

#include <string>
#include <vector>

#include "bench_util.h"
#include "incident_params.h"
#include "incident_row.h"

namespace tolk::bench {

inline constexpr double kGoalShortRatio = 1.2;  // continuous: short latency under load ≤ 1.2× idle
inline constexpr double kGoalLongRatio = 1.1;   // continuous: long time under load ≤ 1.1× alone

// The table of every mode and then each mode's details, as printed after the runs.
std::string render_table(const Params& p, const std::vector<Row>& rows);

// One mode for the JSON report: its summary (when it ran), engine stats, values and samples.
Json row_json(const Row& r);

}  // namespace tolk::bench
