// source_groups.h — which sentences to encode together.
//
// An encoder batch is padded to its longest source, and the padding costs as much as real
// tokens. One batch of 64 test-split sentences (5 to 174 source tokens) held 11,136 padded
// tokens for 2,212 real ones; its encoder pass took longer than decoding 31 tokens for all of
// them. Sentences of similar length encoded together waste little: CTranslate2 and fairseq
// sort by length for the same reason.
#pragma once

#include <cstdint>
#include <vector>

namespace tolk::decoding {

// Splits sentences (given their source lengths) into encoder batches: indices into `lengths`,
// longest sources first. A batch takes the next-longest sentence while its padded size stays
// within max_tokens and either the batch is still small (under min_tokens padded, where a
// bigger matrix product pays for some padding) or the newcomer is at least 80 % as long as
// the batch's longest. Every index appears exactly once.
std::vector<std::vector<size_t>> source_length_groups(const std::vector<int64_t>& lengths,
                                                      int64_t min_tokens = 256,
                                                      int64_t max_tokens = 4096);

}  // namespace tolk::decoding
