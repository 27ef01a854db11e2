// parallel_corpus.cc — see parallel_corpus.h.
#include "train/parallel_corpus.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

namespace tolk::train {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return fields;
}

}  // namespace

std::vector<Example> read_tsv_corpus(const std::string& path, const text::Tokenizer& tokenizer,
                                     size_t max_tokens, size_t* skipped) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Example> out;
  std::string line;
  size_t line_no = 0, dropped = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto f = split_tabs(line);
    if (f.size() != 4) throw std::runtime_error(fmt::format("{}:{}: expected 4 fields", path, line_no));
    Example e{tokenizer.encode_source(f[2], f[0]), tokenizer.encode_target(f[3], f[1])};
    if (e.source.size() > max_tokens || e.labels.size() > max_tokens) {
      ++dropped;
      continue;
    }
    out.push_back(std::move(e));
  }
  if (skipped) *skipped = dropped;
  return out;
}

std::vector<Batch> make_batches(const std::vector<Example>& examples, size_t max_batch_tokens,
                                uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  // Shuffle first so equal lengths come in a seed-dependent order, then a stable sort by length
  // keeps padding low.
  std::shuffle(order.begin(), order.end(), rng);
  auto longest = [&](size_t i) {
    return std::max(examples[i].source.size(), examples[i].labels.size());
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return longest(a) < longest(b); });
  std::vector<Batch> batches;
  Batch current;
  size_t current_max = 0;
  for (size_t i : order) {
    const size_t len = longest(i);
    const size_t new_max = std::max(current_max, len);
    if (!current.empty() && new_max * (current.size() + 1) > max_batch_tokens) {
      batches.push_back(std::move(current));
      current.clear();
      current_max = 0;
    }
    current.push_back(i);
    current_max = std::max(current_max, len);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

}  // namespace tolk::train
