// sequence_search.cc — greedy, sampling and beam search per sentence (NOTES.md §4).
//
// HF runs one search over a padded batch and keeps feeding finished rows <pad>; rows never
// attend to each other, so running each sentence's search on its own rows gives the same ids.
#include "decoding/sequence_search.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "decoding/beam_hypotheses.h"
#include "decoding/logits_processors.h"
#include "model/vocabulary_scan.h"
#include "tolk/status.h"

namespace tolk::decoding {
namespace {

// Greedy search and multinomial sampling (NOTES.md §4.1): one row.
class GreedySearch final : public SequenceSearch {
 public:
  GreedySearch(const SequenceInput& in, const GenerationParams& p)
      : p_(p), forced_(in.forced_bos_id), seq_{p.decoder_start_token_id} {
    if (p.do_sample) generator_ = at::detail::createCPUGenerator(p.seed);
    done_ = p_.max_length <= 1;
  }

  int64_t rows() const override { return 1; }
  std::vector<int64_t> next_tokens() const override { return {seq_.back()}; }
  bool done() const override { return done_; }

  std::vector<int64_t> step(const torch::Tensor& logits) override {
    // The row is this sentence's own (the batch decoder hands each search its rows, which
    // nobody reads after it): the processors work on it in place.
    auto scores = logits.is_contiguous() && logits.scalar_type() == torch::kFloat32 ? logits
                                                                                     : logits.contiguous().to(torch::kFloat32);
    apply_logits_processors(scores, {seq_}, {forced_}, p_);
    int64_t next = 0;
    float logp = 0;
    if (p_.do_sample) {
      // The score is the processed distribution's, taken before the warpers change it.
      const auto all = torch::log_softmax(scores, -1);
      apply_sampling_warpers(scores, p_);
      next = torch::multinomial(torch::softmax(scores, -1)[0], 1, false, generator_).item<int64_t>();
      logp = all[0][next].item<float>();
    } else {
      // argmax and log_softmax[next] = x[next] − logsumexp(x) without materialising the
      // log-softmax row: two passes over the row (vocabulary_scan.h).
      const float* row = scores.data_ptr<float>();
      const int64_t V = scores.size(1);
      const model::RowMax best = model::first_argmax(row, V);
      next = best.index;
      logp = best.value - model::log_sum_exp(row, V, best.value);
    }
    seq_.push_back(next);
    logprob_sum_ += logp;
    done_ = next == p_.eos_token_id || static_cast<int64_t>(seq_.size()) >= p_.max_length;
    return {0};
  }

  SequenceOutput result() const override {
    const double generated = static_cast<double>(seq_.size() - 1);
    SequenceOutput out;
    out.hypotheses.push_back({seq_, logprob_sum_ / std::pow(generated, p_.length_penalty)});
    return out;
  }

 private:
  GenerationParams p_;
  int64_t forced_;
  std::vector<int64_t> seq_;
  double logprob_sum_ = 0.0;
  bool done_ = false;
  at::Generator generator_;
};

// HF BeamSearchScorer semantics with early_stopping=False (NOTES.md §4.2): k rows.
class BeamSearch final : public SequenceSearch {
 public:
  BeamSearch(const SequenceInput& in, const GenerationParams& p)
      : p_(p), k_(p.beam_size), forced_(in.forced_bos_id),
        hyps_(p.beam_size, p.length_penalty),
        seqs_(static_cast<size_t>(p.beam_size), std::vector<int64_t>{p.decoder_start_token_id}),
        beam_scores_(static_cast<size_t>(p.beam_size), -1e9f) {
    beam_scores_[0] = 0.0f;  // identical beams at the start: only the first may expand
    if (p_.max_length <= 1) finish_open_beams();
  }

  int64_t rows() const override { return k_; }
  bool done() const override { return done_; }
  std::vector<int64_t> next_tokens() const override {
    std::vector<int64_t> t;
    for (const auto& s : seqs_) t.push_back(s.back());
    return t;
  }

  std::vector<int64_t> step(const torch::Tensor& logits) override {
    const int64_t V = logits.size(1);
    const int64_t cur_len = static_cast<int64_t>(seqs_[0].size());
    auto scores = torch::log_softmax(logits, -1).contiguous();
    apply_logits_processors(scores, seqs_, std::vector<int64_t>(k_, forced_), p_);
    scores = scores + torch::tensor(beam_scores_, torch::kFloat32).unsqueeze(1);
    auto [top_scores, top_ids] = scores.view({1, k_ * V}).topk(2 * k_, 1, true, true);
    auto ts = top_scores.accessor<float, 2>();
    auto ti = top_ids.accessor<int64_t, 2>();
    std::vector<int64_t> rows, toks;
    std::vector<float> sc;
    for (int64_t rank = 0; rank < 2 * k_ && static_cast<int64_t>(rows.size()) < k_; ++rank) {
      const int64_t beam = ti[0][rank] / V, token = ti[0][rank] % V;
      if (token == p_.eos_token_id) {
        if (rank >= k_) continue;  // only the first k ranks may finish a hypothesis
        hyps_.add(seqs_[beam], ts[0][rank], cur_len);
      } else {
        rows.push_back(beam);
        toks.push_back(token);
        sc.push_back(ts[0][rank]);
      }
    }
    if (static_cast<int64_t>(rows.size()) < k_)
      throw Error(StatusCode::kInternal, "beam search: fewer than num_beams open candidates");
    if (hyps_.is_done(ts[0][0], cur_len + 1)) {
      done_ = true;
      return identity();
    }
    std::vector<std::vector<int64_t>> next;
    for (int64_t j = 0; j < k_; ++j) {
      next.push_back(seqs_[rows[j]]);
      next.back().push_back(toks[j]);
    }
    seqs_ = std::move(next);
    beam_scores_ = std::move(sc);
    if (cur_len + 1 >= p_.max_length) finish_open_beams();
    return rows;
  }

  SequenceOutput result() const override {
    SequenceOutput out;
    auto ranked = hyps_.best_first();
    for (int h = 0; h < p_.num_hypotheses && h < static_cast<int>(ranked.size()); ++h) {
      auto ids = ranked[h].second;
      if (static_cast<int64_t>(ids.size()) < p_.max_length) ids.push_back(p_.eos_token_id);
      out.hypotheses.push_back({std::move(ids), ranked[h].first});
    }
    return out;
  }

 private:
  std::vector<int64_t> identity() const {
    std::vector<int64_t> r(static_cast<size_t>(k_));
    std::iota(r.begin(), r.end(), 0);
    return r;
  }
  // At max_length every open beam is offered, scored at its own length.
  void finish_open_beams() {
    for (int64_t j = 0; j < k_; ++j)
      hyps_.add(seqs_[j], beam_scores_[j], static_cast<int64_t>(seqs_[j].size()) - 1);
    done_ = true;
  }

  GenerationParams p_;
  int64_t k_;
  int64_t forced_;
  BeamHypotheses hyps_;
  std::vector<std::vector<int64_t>> seqs_;
  std::vector<float> beam_scores_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<SequenceSearch> SequenceSearch::create(const SequenceInput& input,
                                                       const GenerationParams& params) {
  if (params.beam_size > 1) return std::make_unique<BeamSearch>(input, params);
  return std::make_unique<GreedySearch>(input, params);
}

}  // namespace tolk::decoding
