// generate() vs Hugging Face: greedy, beam (lp 1.0 and 0.5), n-best with scores, the padded
// batch, and batch vs one-by-one (different lengths and target languages in one batch).
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "../support/reference_data.h"
#include "decoding/generate.h"
#include "model/transformer.h"

using namespace tolk;

namespace {

const model::Transformer& dev_model() {
  static auto m = model::Transformer::load(test::dev_dir());
  return *m;
}

decoding::GenerationParams params(int beams, double lp = 1.0, int hyps = 1) {
  decoding::GenerationParams p;
  p.beam_size = beams;
  p.num_hypotheses = hyps;
  p.length_penalty = lp;
  p.max_length = 21;  // max_new_tokens = 20
  return p;
}

decoding::SequenceInput input_of(const nlohmann::json& c) {
  return {test::ids_of(c["src_input_ids"]), c["forced_bos_token_id"].get<int64_t>()};
}

}  // namespace

TEST_CASE("greedy sequences match HF for every case", "[decoding][parity]") {
  for (const auto& name : test::case_names()) {
    INFO("case " << name);
    const auto& c = test::reference()["cases"][name];
    auto out = decoding::generate(dev_model(), {input_of(c)}, params(1));
    CHECK(out[0].hypotheses[0].ids == test::ids_of(c["greedy"]["sequence"]));
  }
}

TEST_CASE("beam search sequences, n-best and scores match HF for every case", "[decoding][parity]") {
  double worst_score = 0;
  for (const auto& name : test::case_names()) {
    INFO("case " << name);
    const auto& c = test::reference()["cases"][name];
    auto out = decoding::generate(dev_model(), {input_of(c)}, params(4));
    CHECK(out[0].hypotheses[0].ids == test::ids_of(c["beam4"]["sequence"]));
    const double d = std::abs(out[0].hypotheses[0].score - c["beam4"]["sequence_score"].get<double>());
    CHECK(d <= 1e-5);
    worst_score = std::max(worst_score, d);

    auto nbest = decoding::generate(dev_model(), {input_of(c)}, params(4, 1.0, 4));
    const auto& ref = c["beam4_nbest"];
    REQUIRE(nbest[0].hypotheses.size() == ref["sequences"].size());
    for (size_t h = 0; h < ref["sequences"].size(); ++h) {
      CHECK(nbest[0].hypotheses[h].ids == test::strip_pads(test::ids_of(ref["sequences"][h])));
      const double dn = std::abs(nbest[0].hypotheses[h].score - ref["sequence_scores"][h].get<double>());
      CHECK(dn <= 1e-5);
      worst_score = std::max(worst_score, dn);
    }

    auto lp = decoding::generate(dev_model(), {input_of(c)}, params(4, 0.5));
    CHECK(lp[0].hypotheses[0].ids == test::ids_of(c["beam4_lp0.5"]["sequence"]));
    const double dl = std::abs(lp[0].hypotheses[0].score - c["beam4_lp0.5"]["sequence_score"].get<double>());
    CHECK(dl <= 1e-5);
    worst_score = std::max(worst_score, dl);
  }
  std::printf("[parity] beam scores: worst |diff| %.3g\n", worst_score);
}

TEST_CASE("the padded batch decodes to HF's sequences", "[decoding][parity]") {
  const auto& pb = test::reference()["pad_batch"];
  std::vector<decoding::SequenceInput> inputs;
  for (const auto& name : pb["cases"]) inputs.push_back(input_of(test::reference()["cases"][name.get<std::string>()]));
  auto greedy = decoding::generate(dev_model(), inputs, params(1));
  auto beam = decoding::generate(dev_model(), inputs, params(4));
  for (size_t b = 0; b < inputs.size(); ++b) {
    INFO("row " << b);
    CHECK(greedy[b].hypotheses[0].ids == test::strip_pads(test::ids_of(pb["greedy_sequences"][b])));
    CHECK(beam[b].hypotheses[0].ids == test::strip_pads(test::ids_of(pb["beam4_sequences"][b])));
    CHECK(std::abs(beam[b].hypotheses[0].score - pb["beam4_sequence_scores"][b].get<double>()) <= 1e-5);
  }
}

TEST_CASE("a mixed batch (lengths and target languages) equals one-by-one", "[decoding]") {
  std::vector<decoding::SequenceInput> inputs;
  for (const auto& name : test::case_names()) inputs.push_back(input_of(test::reference()["cases"][name]));
  // A second copy of two cases aimed at other languages: deu_Latn (292) and spa_Latn (411).
  inputs.push_back({inputs[0].source_ids, 292});
  inputs.push_back({inputs[1].source_ids, 411});
  for (int beams : {1, 4}) {
    auto batched = decoding::generate(dev_model(), inputs, params(beams));
    for (size_t i = 0; i < inputs.size(); ++i) {
      INFO("beams " << beams << " input " << i);
      auto single = decoding::generate(dev_model(), {inputs[i]}, params(beams));
      CHECK(batched[i].hypotheses[0].ids == single[0].hypotheses[0].ids);
      CHECK(std::abs(batched[i].hypotheses[0].score - single[0].hypotheses[0].score) <= 1e-5);
      CHECK(batched[i].hypotheses[0].ids[1] == inputs[i].forced_bos_id);
    }
  }
}
