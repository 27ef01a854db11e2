// option_resolver.h — TranslationOptions + generation_config.json + tolk defaults → params.
#pragma once

#include "decoding/generation_params.h"
#include "model/model_config.h"
#include "tolk/options.h"

namespace tolk::engine {

// Every range is checked here, so a bad option fails before any work (kInvalidArgument).
// Precedence: the request's option, then generation_config.json, then tolk's default.
// max length: max_new_tokens, else generation_config's max_new_tokens or max_length, else 200
// new tokens; never beyond max_position_embeddings decoder positions.
decoding::GenerationParams resolve_generation_params(const TranslationOptions& options,
                                                     const model::GenerationDefaults& defaults,
                                                     const model::ModelConfig& config);

}  // namespace tolk::engine
