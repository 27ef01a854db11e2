// beam_search.cc — HF BeamSearchScorer semantics, early_stopping=False (NOTES.md §4.2).
//
// Rows are grouped by sentence: sentence i owns k consecutive rows. A sentence that is done
// leaves the batch (HF keeps it, fed with <pad>; rows never interact, so ids are unchanged).
#include <torch/torch.h>

#include "decoding/beam_hypotheses.h"
#include "decoding/generate.h"
#include "decoding/logits_processors.h"
#include "tolk/status.h"

namespace tolk::decoding {

std::vector<SequenceOutput> beam_search(const model::Transformer& model, const EncodedBatch& batch,
                                        const std::vector<SequenceInput>& inputs,
                                        const GenerationParams& p, const StopCheck& stop) {
  const int64_t N = static_cast<int64_t>(inputs.size()), k = p.beam_size;
  const int64_t V = model.config().vocab_size;
  // Every sentence's encoder output repeated k times (row i*k + j = beam j of sentence i).
  auto expand = torch::arange(N, torch::kInt64).repeat_interleave(k);
  model::DecoderState state = model.start_decoding(batch.encoder_out.index_select(0, expand),
                                                   batch.attention_mask.index_select(0, expand),
                                                   p.max_length);
  std::vector<BeamHypotheses> hyps(N, BeamHypotheses(static_cast<int>(k), p.length_penalty));
  std::vector<int64_t> active(N);  // row block i of the state belongs to sentence active[i]
  for (int64_t i = 0; i < N; ++i) active[i] = i;
  std::vector<std::vector<int64_t>> seqs(N * k, std::vector<int64_t>{p.decoder_start_token_id});
  std::vector<float> beam_scores(N * k, -1e9f);
  for (int64_t i = 0; i < N; ++i) beam_scores[i * k] = 0.0f;

  int64_t cur_len = 1;
  for (; cur_len < p.max_length && !active.empty(); ++cur_len) {
    if (stop) check_stop(stop);
    const int64_t A = static_cast<int64_t>(active.size()), R = A * k;
    auto tokens = torch::empty({R}, torch::kInt64);
    std::vector<int64_t> forced(R);
    for (int64_t r = 0; r < R; ++r) {
      tokens[r] = seqs[r].back();
      forced[r] = inputs[active[r / k]].forced_bos_id;
    }
    auto logits = model.decode_step(state, tokens);
    auto scores = torch::log_softmax(logits, -1).contiguous();
    apply_logits_processors(scores, seqs, forced, p);
    scores = scores + torch::tensor(beam_scores, torch::kFloat32).unsqueeze(1);
    auto [top_scores, top_ids] = scores.view({A, k * V}).topk(2 * k, 1, true, true);
    auto ts = top_scores.accessor<float, 2>();
    auto ti = top_ids.accessor<int64_t, 2>();

    std::vector<int64_t> next_active, source_rows, next_tokens;
    std::vector<float> next_scores;
    for (int64_t i = 0; i < A; ++i) {
      const int64_t sentence = active[i];
      std::vector<int64_t> rows, toks;
      std::vector<float> sc;
      for (int64_t rank = 0; rank < 2 * k && static_cast<int64_t>(rows.size()) < k; ++rank) {
        const int64_t beam = ti[i][rank] / V, token = ti[i][rank] % V;
        const int64_t row = i * k + beam;
        if (token == p.eos_token_id) {
          if (rank >= k) continue;  // only the first k ranks may finish a hypothesis
          hyps[sentence].add(seqs[row], ts[i][rank], cur_len);
        } else {
          rows.push_back(row);
          toks.push_back(token);
          sc.push_back(ts[i][rank]);
        }
      }
      if (static_cast<int64_t>(rows.size()) < k)
        throw Error(StatusCode::kInternal, "beam search: fewer than num_beams open candidates");
      if (hyps[sentence].is_done(ts[i][0], cur_len + 1)) continue;
      next_active.push_back(sentence);
      source_rows.insert(source_rows.end(), rows.begin(), rows.end());
      next_tokens.insert(next_tokens.end(), toks.begin(), toks.end());
      next_scores.insert(next_scores.end(), sc.begin(), sc.end());
    }
    std::vector<std::vector<int64_t>> next_seqs;
    for (size_t j = 0; j < source_rows.size(); ++j) {
      next_seqs.push_back(seqs[source_rows[j]]);
      next_seqs.back().push_back(next_tokens[j]);
    }
    if (!source_rows.empty()) state.select_rows(torch::tensor(source_rows, torch::kInt64));
    seqs = std::move(next_seqs);
    beam_scores = std::move(next_scores);
    active = std::move(next_active);
  }

  // Sentences still open at max_length offer every beam, scored at its own length.
  for (size_t i = 0; i < active.size(); ++i)
    for (int64_t j = 0; j < k; ++j) {
      const auto& s = seqs[i * k + j];
      hyps[active[i]].add(s, beam_scores[i * k + j], static_cast<int64_t>(s.size()) - 1);
    }

  std::vector<SequenceOutput> out(N);
  for (int64_t i = 0; i < N; ++i) {
    auto ranked = hyps[i].best_first();
    for (int h = 0; h < p.num_hypotheses && h < static_cast<int>(ranked.size()); ++h) {
      auto ids = ranked[h].second;
      if (static_cast<int64_t>(ids.size()) < p.max_length) ids.push_back(p.eos_token_id);
      out[i].hypotheses.push_back({std::move(ids), ranked[h].first});
    }
  }
  return out;
}

}  // namespace tolk::decoding
