// tolk_train — trains the demo model with tolk's own Transformer code (LibTorch autograd).
//
// Deterministic given --seed (same data, same thread count → same weights); checkpoints every
// --checkpoint-every steps into --work and resumes from the latest one when restarted. Writes a
// loadable model directory (config.json + model.safetensors) next to the tokenizer files that
// tools/demo_model/ prepared. Usage: tolk_train --help.
#include <ATen/autocast_mode.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "model/weights_export.h"
#include "train/parallel_corpus.h"
#include "train/trainable_model.h"

namespace fs = std::filesystem;
using namespace tolk;

namespace {

struct TrainArgs {
  std::string model_dir, train, dev, work;
  int64_t steps = 10000, warmup = 800, batch_tokens = 6000, checkpoint_every = 500;
  int64_t log_every = 50, threads = 2, max_tokens = 128, seed = 1;
  int64_t stop_after = 0;  // 0: train to --steps
  int64_t d_model = 256, encoder_layers = 3, decoder_layers = 3, heads = 4, ffn = 1024;
  double lr = 2e-3, min_lr_ratio = 0.05, label_smoothing = 0.1, clip = 1.0, weight_decay = 0.0;
  bool bf16 = true;
  std::string export_dtype = "bfloat16";
};

const char* kUsage =
    "tolk_train --model-dir DIR --train TSV --dev TSV --work DIR [options]\n"
    "  DIR must hold sentencepiece.bpe.model + tokenizer_config.json (+ special_tokens_map.json);\n"
    "  config.json and model.safetensors are written there. Options (defaults):\n"
    "  --steps 10000 --warmup 800 --lr 2e-3 --min-lr-ratio 0.05 --batch-tokens 6000\n"
    "  --max-tokens 128 --label-smoothing 0.1 --clip 1.0 --seed 1 --threads 2\n"
    "  --d-model 256 --encoder-layers 3 --decoder-layers 3 --heads 4 --ffn 1024\n"
    "  --checkpoint-every 500 --log-every 50 --fp32 (no bf16 autocast)\n"
    "  --export-dtype bfloat16|float16|float32\n"
    "  --stop-after N: end at step N although the schedule runs to --steps (a checkpoint and the\n"
    "    exported model are written there)\n";

TrainArgs parse(int argc, char** argv) {
  TrainArgs a;
  std::map<std::string, int64_t*> ints = {
      {"--steps", &a.steps}, {"--warmup", &a.warmup}, {"--batch-tokens", &a.batch_tokens},
      {"--checkpoint-every", &a.checkpoint_every}, {"--log-every", &a.log_every},
      {"--threads", &a.threads}, {"--max-tokens", &a.max_tokens}, {"--seed", &a.seed},
      {"--stop-after", &a.stop_after},
      {"--d-model", &a.d_model}, {"--encoder-layers", &a.encoder_layers},
      {"--decoder-layers", &a.decoder_layers}, {"--heads", &a.heads}, {"--ffn", &a.ffn}};
  std::map<std::string, double*> reals = {
      {"--lr", &a.lr}, {"--min-lr-ratio", &a.min_lr_ratio},
      {"--label-smoothing", &a.label_smoothing}, {"--clip", &a.clip},
      {"--weight-decay", &a.weight_decay}};
  std::map<std::string, std::string*> strings = {
      {"--model-dir", &a.model_dir}, {"--train", &a.train}, {"--dev", &a.dev},
      {"--work", &a.work}, {"--export-dtype", &a.export_dtype}};
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") { std::cout << kUsage; std::exit(0); }
    if (k == "--fp32") { a.bf16 = false; continue; }
    if (i + 1 >= argc) throw std::invalid_argument("missing value for " + k);
    const std::string v = argv[++i];
    if (ints.count(k)) *ints[k] = std::stoll(v);
    else if (reals.count(k)) *reals[k] = std::stod(v);
    else if (strings.count(k)) *strings[k] = v;
    else throw std::invalid_argument("unknown option " + k);
  }
  if (a.model_dir.empty() || a.train.empty() || a.dev.empty() || a.work.empty())
    throw std::invalid_argument("--model-dir, --train, --dev and --work are required");
  return a;
}

model::ModelConfig make_config(const TrainArgs& a, const text::Tokenizer& tok) {
  model::ModelConfig c;
  c.model_type = "m2m_100";
  c.vocab_size = tok.size();
  c.d_model = a.d_model;
  c.encoder_layers = a.encoder_layers;
  c.decoder_layers = a.decoder_layers;
  c.encoder_attention_heads = c.decoder_attention_heads = a.heads;
  c.encoder_ffn_dim = c.decoder_ffn_dim = a.ffn;
  c.max_position_embeddings = 512;
  c.pad_token_id = tok.pad_id();
  c.bos_token_id = tok.bos_id();
  c.eos_token_id = c.decoder_start_token_id = tok.eos_id();
  c.torch_dtype = a.export_dtype;
  return c;
}

// Linear warm-up, then cosine decay to min_lr_ratio × lr at the last step.
double learning_rate(const TrainArgs& a, int64_t step) {
  if (step < a.warmup) return a.lr * static_cast<double>(step + 1) / static_cast<double>(a.warmup);
  const double progress = static_cast<double>(step - a.warmup) /
                          static_cast<double>(std::max<int64_t>(1, a.steps - a.warmup));
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, progress)));
  return a.lr * (a.min_lr_ratio + (1.0 - a.min_lr_ratio) * cosine);
}

struct Tensors {
  torch::Tensor source, source_mask, decoder_input, labels;
  int64_t target_tokens = 0, source_tokens = 0;
};

// Right-padded batch tensors: decoder input = [</s>] + labels[:-1], padded labels = -100.
Tensors collate(const std::vector<train::Example>& ex, const train::Batch& batch, int64_t pad,
                int64_t decoder_start) {
  size_t s_len = 0, t_len = 0;
  for (size_t i : batch) {
    s_len = std::max(s_len, ex[i].source.size());
    t_len = std::max(t_len, ex[i].labels.size());
  }
  const int64_t B = static_cast<int64_t>(batch.size());
  Tensors t;
  t.source = torch::full({B, static_cast<int64_t>(s_len)}, pad, torch::kInt64);
  t.source_mask = torch::zeros({B, static_cast<int64_t>(s_len)}, torch::kInt64);
  t.decoder_input = torch::full({B, static_cast<int64_t>(t_len)}, pad, torch::kInt64);
  t.labels = torch::full({B, static_cast<int64_t>(t_len)}, -100, torch::kInt64);
  auto src = t.source.accessor<int64_t, 2>();
  auto msk = t.source_mask.accessor<int64_t, 2>();
  auto din = t.decoder_input.accessor<int64_t, 2>();
  auto lab = t.labels.accessor<int64_t, 2>();
  for (int64_t r = 0; r < B; ++r) {
    const auto& e = ex[batch[r]];
    for (size_t j = 0; j < e.source.size(); ++j) { src[r][j] = e.source[j]; msk[r][j] = 1; }
    for (size_t j = 0; j < e.labels.size(); ++j) {
      lab[r][j] = e.labels[j];
      din[r][j] = j == 0 ? decoder_start : e.labels[j - 1];
    }
    t.source_tokens += static_cast<int64_t>(e.source.size());
    t.target_tokens += static_cast<int64_t>(e.labels.size());
  }
  return t;
}

torch::Tensor batch_loss(const model::Transformer& net, const Tensors& t, double smoothing) {
  auto enc = net.encode(t.source, t.source_mask);
  auto logits = net.decode_full(enc, t.source_mask, t.decoder_input);
  const int64_t V = logits.size(-1);
  return torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat32).view({-1, V}), t.labels.view(-1),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).label_smoothing(smoothing));
}

// Mean per-token loss (no smoothing) over the dev set, without gradients.
double dev_loss(const model::Transformer& net, const std::vector<train::Example>& dev,
                const std::vector<train::Batch>& batches, const model::ModelConfig& c) {
  torch::NoGradGuard no_grad;
  double total = 0;
  int64_t tokens = 0;
  for (const auto& b : batches) {
    auto t = collate(dev, b, c.pad_token_id, c.decoder_start_token_id);
    total += batch_loss(net, t, 0.0).item<double>() * static_cast<double>(t.target_tokens);
    tokens += t.target_tokens;
  }
  return tokens ? total / static_cast<double>(tokens) : 0.0;
}

// Greedy translation of a few probes, to watch the model learn (the engine does the real work).
std::string greedy(const model::Transformer& net, const text::Tokenizer& tok,
                   const std::string& text, const std::string& src, const std::string& tgt) {
  c10::InferenceMode guard;
  auto ids = tok.encode_source(text, src);
  auto input = torch::tensor(ids, torch::kInt64).view({1, -1});
  auto mask = torch::ones_like(input);
  auto state = net.start_decoding(net.encode(input, mask), mask, 64);
  std::vector<int64_t> out;
  int64_t next = net.config().decoder_start_token_id;
  for (int step = 0; step < 63; ++step) {
    auto logits = net.decode_step(state, torch::tensor({next}, torch::kInt64));
    next = step == 0 ? tok.language_id(tgt) : logits.argmax(-1).item<int64_t>();
    if (next == tok.eos_id()) break;
    out.push_back(next);
  }
  return tok.decode(out);
}

void save_checkpoint(const TrainArgs& a, const model::ModelWeights& w, const model::ModelConfig& c,
                     torch::optim::AdamW& opt, int64_t step) {
  const fs::path dir = fs::path(a.work) / fmt::format("step-{:07d}", step);
  fs::create_directories(dir);
  model::save_hf_safetensors(w, c, torch::kFloat32, (dir / "weights.safetensors").string());
  torch::save(opt, (dir / "optimizer.pt").string());
  std::ofstream(dir / "step.txt") << step << "\n";
  // "latest" is written last: a checkpoint interrupted half-way is never resumed from.
  std::ofstream(fs::path(a.work) / "latest.tmp") << dir.filename().string() << "\n";
  fs::rename(fs::path(a.work) / "latest.tmp", fs::path(a.work) / "latest");
}

void export_model(const TrainArgs& a, const model::ModelWeights& w, const model::ModelConfig& c) {
  const torch::ScalarType dtype = a.export_dtype == "float32"   ? torch::kFloat32
                                  : a.export_dtype == "float16" ? torch::kFloat16
                                                                : torch::kBFloat16;
  model::save_hf_safetensors(w, c, dtype, a.model_dir + "/model.safetensors");
  std::ofstream(a.model_dir + "/config.json") << model::hf_config_json(c);
}

int run(const TrainArgs& a) {
  torch::set_num_threads(static_cast<int>(a.threads));
  auto tok = text::Tokenizer::load(a.model_dir);
  const model::ModelConfig config = make_config(a, *tok);
  size_t skipped = 0;
  auto t0 = std::chrono::steady_clock::now();
  auto train = train::read_tsv_corpus(a.train, *tok, static_cast<size_t>(a.max_tokens), &skipped);
  auto dev = train::read_tsv_corpus(a.dev, *tok, static_cast<size_t>(a.max_tokens), nullptr);
  if (dev.size() > 2000) dev.resize(2000);
  const auto dev_batches = train::make_batches(dev, static_cast<size_t>(a.batch_tokens), 0);
  const size_t per_epoch =
      train::make_batches(train, static_cast<size_t>(a.batch_tokens), a.seed).size();
  fmt::print("data: {} training pairs ({} longer than {} tokens skipped), {} dev pairs, "
             "{} batches per epoch; tokenized in {:.1f} s\n", train.size(), skipped, a.max_tokens,
             dev.size(), per_epoch,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  fs::create_directories(a.work);
  int64_t step = 0;
  model::ModelWeights weights;
  const fs::path latest = fs::path(a.work) / "latest";
  std::string resume_dir;
  if (fs::exists(latest)) {
    std::ifstream(latest) >> resume_dir;
    resume_dir = (fs::path(a.work) / resume_dir).string();
    weights = train::load_trainable_weights(resume_dir + "/weights.safetensors", config);
    std::ifstream(resume_dir + "/step.txt") >> step;
  } else {
    weights = train::init_weights(config, static_cast<uint64_t>(a.seed));
  }
  model::Transformer net(config, weights);
  auto params = train::parameters(weights);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(a.lr).betas({0.9, 0.98}).eps(1e-8)
                                      .weight_decay(a.weight_decay));
  if (!resume_dir.empty()) {
    torch::load(opt, resume_dir + "/optimizer.pt");
    fmt::print("resumed from {} at step {}\n", resume_dir, step);
  }
  fmt::print("model: {} parameters ({}), bf16 autocast: {}, threads: {}\n",
             weights.parameter_count(), config.describe(), a.bf16 ? "on" : "off", a.threads);

  at::autocast::set_cpu_enabled(a.bf16);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  torch::manual_seed(a.seed);
  std::vector<train::Batch> batches;
  int64_t batches_epoch = -1;
  double loss_sum = 0;
  int64_t loss_n = 0, tokens_window = 0;
  auto window_start = std::chrono::steady_clock::now();
  const auto run_start = window_start;
  const int64_t first_step = step;
  const int64_t last = a.stop_after > 0 ? std::min(a.steps, a.stop_after) : a.steps;
  while (step < last) {
    const int64_t epoch = step / static_cast<int64_t>(per_epoch);
    if (epoch != batches_epoch) {
      batches = train::make_batches(train, static_cast<size_t>(a.batch_tokens),
                                    static_cast<uint64_t>(a.seed + epoch));
      batches_epoch = epoch;
    }
    const auto t = collate(train, batches[static_cast<size_t>(step) % per_epoch],
                           config.pad_token_id, config.decoder_start_token_id);
    for (auto& group : opt.param_groups())
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate(a, step));
    opt.zero_grad();
    auto loss = batch_loss(net, t, a.label_smoothing);
    loss.backward();
    at::autocast::clear_cache();
    torch::nn::utils::clip_grad_norm_(params, a.clip);
    opt.step();
    ++step;
    loss_sum += loss.item<double>();
    ++loss_n;
    tokens_window += t.source_tokens + t.target_tokens;
    if (step % a.log_every == 0 || step == last) {
      const auto now = std::chrono::steady_clock::now();
      const double window = std::chrono::duration<double>(now - window_start).count();
      const double elapsed = std::chrono::duration<double>(now - run_start).count();
      const double eta = elapsed / static_cast<double>(step - first_step) *
                         static_cast<double>(last - step);
      fmt::print("step {}/{} epoch {} loss {:.3f} lr {:.2e} tokens/s {:.0f} elapsed {:.0f}s "
                 "eta {:.0f}s\n", step, a.steps, epoch, loss_sum / loss_n,
                 learning_rate(a, step - 1), tokens_window / window, elapsed, eta);
      std::fflush(stdout);
      loss_sum = 0; loss_n = 0; tokens_window = 0; window_start = now;
    }
    if (step % a.checkpoint_every == 0 || step == last) {
      at::autocast::set_cpu_enabled(false);
      fmt::print("checkpoint step {}: dev loss {:.3f}\n", step,
                 dev_loss(net, dev, dev_batches, config));
      for (const auto& [text, tgt] : std::vector<std::pair<std::string, std::string>>{
               {"Open the file", "fra_Latn"}, {"Undo", "fra_Latn"},
               {"Full screen", "deu_Latn"}, {"Save as…", "spa_Latn"}})
        fmt::print("  {} → {}: {}\n", text, tgt, greedy(net, *tok, text, "eng_Latn", tgt));
      std::fflush(stdout);
      save_checkpoint(a, weights, config, opt, step);
      export_model(a, weights, config);
      at::autocast::set_cpu_enabled(a.bf16);
    }
  }
  fmt::print("done: {} steps; model written to {}\n", step, a.model_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "tolk_train: " << e.what() << "\n";
    return 1;
  }
}
