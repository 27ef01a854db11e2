// incident_workload.h — the incident scenario's texts: a long batch and a short request made
// of ordinary words, their lengths calibrated in tokens with the model's own tokenizer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "incident_params.h"
#include "incident_row.h"  // kNaN
#include "tolk/engine.h"

namespace tolk::bench {

struct Workload {
  std::vector<std::string> long_texts;
  std::string short_text;
  int64_t long_words = 0, short_words = 0;
  std::vector<double> long_source_tokens;  // empty when counting failed
  double short_source_tokens = kNaN;
};

// p.long_sentences long texts of about p.long_source_tokens tokens each and one short text of
// about p.short_source_tokens, drawn from p.seed. The tokens are counted on `engine` with a
// second copy of the model, loaded here and unloaded again.
Workload plan_workload(TranslatorEngine& engine, const Params& p);

}  // namespace tolk::bench
