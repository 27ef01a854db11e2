// vocabulary_scan.h — one-pass scans over a row of float32 logits (one entry per vocabulary
// token): the argmax, the log-sum-exp and the k best entries a search step needs.
//
// Why by hand: a greedy step over 256 rows × 32,000 tokens spent ~28 ms (one thread) in a
// scalar argmax, LibTorch's logsumexp (an allocation and a reduction set-up per row) and a
// scalar top-k, more than the step's attention. These run 16 lanes at a time where the CPU has
// AVX-512 (plain loops elsewhere) and give the same answers either way.
#pragma once

#include <cstdint>
#include <vector>

namespace tolk::model {

struct RowMax {
  int64_t index = 0;  // torch.argmax's answer: the first maximum, or the first NaN if any
  float value = 0;    // row[index]
};

// n ≥ 1.
RowMax first_argmax(const float* row, int64_t n);

// log Σ exp(row[j]) given max = the row's maximum (first_argmax's value), computed as
// max + log Σ exp(row[j] − max) like torch.logsumexp; an infinite or NaN max is returned as it
// is (torch gives +inf, −inf and NaN there too). Agrees with torch.logsumexp to ~1e-6 relative.
float log_sum_exp(const float* row, int64_t n, float max);

// The k highest entries of row[0, n), best first, into val/idx (resized to how many there are:
// fewer than k only if the row has fewer than k entries that are not NaN). NaN never counts;
// among equal values the lower index comes first, so the answer is torch.topk's on the row with
// NaN replaced by −inf, ties broken by index.
void best_of_row(const float* row, int64_t n, int64_t k, std::vector<float>& val,
                 std::vector<int64_t>& idx);

// Process-wide: false makes every scan take its plain loop even where AVX-512 exists, so tests
// and side-by-side benchmarks can compare the two on one machine. Default true.
void set_vectorized_vocabulary_scans(bool enabled);

}  // namespace tolk::model
