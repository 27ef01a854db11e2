// source_groups.cc — see source_groups.h.
#include "decoding/source_groups.h"

#include <algorithm>
#include <numeric>

namespace tolk::decoding {

std::vector<std::vector<size_t>> source_length_groups(const std::vector<int64_t>& lengths,
                                                      int64_t min_tokens, int64_t max_tokens) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // Stable: equal lengths keep the caller's order, so a batch's grouping is reproducible.
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> groups;
  int64_t longest = 0;
  for (const size_t i : order) {
    const int64_t len = std::max<int64_t>(1, lengths[i]);
    if (!groups.empty()) {
      const auto count = static_cast<int64_t>(groups.back().size());
      const bool fits = (count + 1) * longest <= max_tokens;
      const bool small = count * longest < min_tokens;
      if (fits && (small || 5 * len >= 4 * longest)) {
        groups.back().push_back(i);
        continue;
      }
    }
    groups.push_back({i});
    longest = len;
  }
  return groups;
}

}  // namespace tolk::decoding
