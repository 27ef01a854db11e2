// generation_params.h — fully resolved decoding settings for one generate() call.
//
// The engine resolves TranslationOptions against generation_config.json and tolk's defaults;
// decoding/ only ever sees concrete values.
#pragma once

#include <cstdint>
#include <optional>

namespace tolk::decoding {

struct GenerationParams {
  int beam_size = 1;
  int num_hypotheses = 1;
  int64_t max_length = 201;          // total output length, counting decoder_start (HF max_length)
  int64_t min_new_tokens = 0;        // HF MinNewTokensLengthLogitsProcessor (lang token counts)
  double length_penalty = 1.0;
  double repetition_penalty = 1.0;
  int64_t no_repeat_ngram_size = 0;
  bool do_sample = false;
  int64_t top_k = 50;
  double top_p = 1.0;
  double temperature = 1.0;
  uint64_t seed = 0;
  // Token ids from the model's config.
  int64_t decoder_start_token_id = 2;
  int64_t eos_token_id = 2;
  int64_t pad_token_id = 1;
};

}  // namespace tolk::decoding
