// greedy_search.cc — HF greedy search and multinomial sampling (NOTES.md §4.1).
//
// Finished rows leave the batch at once (their cache rows are dropped): HF keeps feeding them
// <pad>, but no row ever attends to another, so the surviving rows' ids are unchanged.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>

#include "decoding/generate.h"
#include "decoding/logits_processors.h"
#include "tolk/status.h"

namespace tolk::decoding {

std::vector<SequenceOutput> greedy_search(const model::Transformer& model, const EncodedBatch& batch,
                                          const std::vector<SequenceInput>& inputs,
                                          const GenerationParams& p, const StopCheck& stop) {
  const int64_t B = static_cast<int64_t>(inputs.size());
  model::DecoderState state = model.start_decoding(batch.encoder_out, batch.attention_mask,
                                                   p.max_length);
  std::vector<std::vector<int64_t>> seqs(B, std::vector<int64_t>{p.decoder_start_token_id});
  std::vector<double> logprob_sum(B, 0.0);
  std::vector<int64_t> live(B);  // row r of the state belongs to sentence live[r]
  for (int64_t b = 0; b < B; ++b) live[b] = b;
  std::vector<at::Generator> generators;
  if (p.do_sample)
    for (int64_t b = 0; b < B; ++b) generators.push_back(at::detail::createCPUGenerator(p.seed));

  for (int64_t cur_len = 1; cur_len < p.max_length && !live.empty(); ++cur_len) {
    if (stop) check_stop(stop);
    const int64_t R = static_cast<int64_t>(live.size());
    auto tokens = torch::empty({R}, torch::kInt64);
    std::vector<std::vector<int64_t>> row_seqs;
    std::vector<int64_t> forced;
    for (int64_t r = 0; r < R; ++r) {
      tokens[r] = seqs[live[r]].back();
      row_seqs.push_back(seqs[live[r]]);
      forced.push_back(inputs[live[r]].forced_bos_id);
    }
    auto scores = model.decode_step(state, tokens).contiguous();
    apply_logits_processors(scores, row_seqs, forced, p);
    auto logp = torch::log_softmax(scores, -1);
    std::vector<int64_t> next(R);
    if (p.do_sample) {
      auto warped = scores.clone();
      apply_sampling_warpers(warped, p);
      auto probs = torch::softmax(warped, -1);
      for (int64_t r = 0; r < R; ++r)
        next[r] = torch::multinomial(probs[r], 1, false, generators[live[r]]).item<int64_t>();
    } else {
      auto best = scores.argmax(-1);
      for (int64_t r = 0; r < R; ++r) next[r] = best[r].item<int64_t>();
    }
    std::vector<int64_t> keep, keep_live;
    auto logp_a = logp.accessor<float, 2>();
    for (int64_t r = 0; r < R; ++r) {
      const int64_t b = live[r];
      seqs[b].push_back(next[r]);
      logprob_sum[b] += logp_a[r][next[r]];
      if (next[r] != p.eos_token_id) {
        keep.push_back(r);
        keep_live.push_back(b);
      }
    }
    if (static_cast<int64_t>(keep.size()) != R && !keep.empty())
      state.select_rows(torch::tensor(keep, torch::kInt64));
    live = std::move(keep_live);
  }

  std::vector<SequenceOutput> out(B);
  for (int64_t b = 0; b < B; ++b) {
    const double generated = static_cast<double>(seqs[b].size() - 1);
    out[b].hypotheses.push_back(
        {seqs[b], logprob_sum[b] / std::pow(generated, p.length_penalty)});
  }
  return out;
}

}  // namespace tolk::decoding
