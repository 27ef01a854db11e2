// vocabulary_rescoring.h — float32 re-scoring of the best candidates of low-precision logits.
//
// With bfloat16 weights the output projection runs in bfloat16, whose rounding moves logits by
// ~0.4 % of their size: enough to swap two close candidates. The few candidates a search can
// take are therefore re-scored against the float32 weights (Transformer::vocabulary_logits).
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace tolk::model {

// For each row r of logits [n, V] (float32): finds its k highest entries (NaN never counts;
// among equal values the lower index first) and replaces each by the float32 value of
// x[r]·head[j] (summed in double, then rounded). x is float32 [n, D], head float32 [V, D].
//
// Why a loop: LibTorch's topk copies and partially sorts every row (3.5 ms for 64 × 32,000 on
// this project's machine, one thread), then an index_select, a multiply and a sum follow; here
// each row is one pass that keeps k candidates (vocabulary_scan.h), spread over the intra-op
// threads.
void rescore_best_candidates(torch::Tensor& logits, const torch::Tensor& x, const torch::Tensor& head,
                             int64_t k);

}  // namespace tolk::model
