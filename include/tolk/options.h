// tolk/options.h — the knobs of an engine, a loaded model and one translation.
//
// Plain structs with defaults. Where a TranslationOptions field is unset (std::nullopt), the
// model's generation_config.json decides, then tolk's documented default.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace tolk {

// Process-wide settings. LibTorch's thread pools are global to the process, so the engine sets
// them once, when it is created (0 = leave LibTorch's current setting alone). Creating an engine
// also puts OpenBLAS, where it is LibTorch's BLAS, on the calling thread: tolk spreads products
// over LibTorch's OpenMP threads itself, and a second pool would compete with them for the cores.
struct EngineOptions {
  int intra_threads = 0;
  std::string log_level = "warn";  // "debug", "info", "warn", "error", "off"
  // Threads that prepare translate_async requests (split, tokenize, hand the sentences to the
  // model) and publish their results. In continuous and pool modes a request holds no thread
  // while its sentences wait or decode, so this does not bound how many async requests batch
  // together; in exclusive mode a request holds one until the model's lock has run it.
  int async_threads = 4;
  // Async requests open at once (submitted, result not yet published) beyond this → kQueueFull.
  int64_t max_queued_requests = 10000;
};

// How a model's requests are executed.
enum class ExecutionMode {
  kExclusive,   // one inference at a time per model, FIFO-fair lock
  kPool,        // N workers over one shared copy of the weights
  kContinuous,  // iteration-level batching
};

// How a request's text becomes sentences (each decoded as its own sequence, then re-joined).
enum class SentenceSplitting {
  kOff,          // the whole text is one sequence
  kPunctuation,  // split after . ! ? … (per-language abbreviations), 。！？ and line breaks
};

// What happens to a sentence longer than max_input_tokens.
enum class LongSentencePolicy {
  kReject,  // the request fails with kInputTooLong
  kSplit,   // cut at clause punctuation, then whitespace, into pieces that fit
};

struct ModelOptions {
  ExecutionMode mode = ExecutionMode::kContinuous;
  int workers = 1;                     // pool mode: number of workers
  int threads_per_worker = 0;          // pool mode: intra-op threads of each worker (0 = leave)
  std::string compute_type = "float32";
  std::string device = "cpu";
  // NllbTokenizer's legacy_behaviour ([pieces, </s>, lang]); unset = tokenizer_config.json's.
  std::optional<bool> legacy_behaviour;
  // Longest accepted source, in tokens including the language code and </s>.
  // 0 = the model's max_position_embeddings.
  int64_t max_input_tokens = 0;
  int64_t max_input_bytes = 1 << 20;   // longest accepted text, in bytes
  SentenceSplitting sentence_splitting = SentenceSplitting::kPunctuation;
  LongSentencePolicy long_sentences = LongSentencePolicy::kReject;
  int64_t max_sentences_per_request = 10000;
  // Requests queued or running on this model (sync, batch and async alike) beyond this are
  // refused at once with kQueueFull. 0 = no per-model limit (the engine's async limit applies).
  int64_t max_queued_requests = 0;

  // Continuous mode (DESIGN.md "Continuous batching").
  int64_t max_batch_sequences = 64;    // live sentences in the running batch
  int64_t max_batch_tokens = 16384;    // Σ over live rows of (source + max decode length) tokens
  // Padded source tokens per encoder job (one layer a unit). 512: a 64-sentence burst of the
  // 60M model encoded in jobs of 128 made continuous mode 12–17 % slower than one static batch
  // (bf16, 2 cores: products of 128 rows run well below their rate at 512), of 512 within
  // −5…+6 %; an interactive arrival waits for one such layer (a few ms).
  int64_t encode_chunk_tokens = 512;
  int64_t batch_window_ms = 0;         // idle model: wait this long to gather a burst
  // While interactive work is live, bulk sentences sit out (kept in their slots) and bulk
  // newcomers wait; once interactive work has been live for bulk_grace_ms without a break,
  // bulk gets bulk_min_share of the steps again, so it always finishes.
  double bulk_min_share = 0.1;
  int64_t bulk_grace_ms = 500;
  int64_t aging_ms = 2000;             // a waiting sentence moves up one class per aging_ms
  int64_t max_queued_sentences = 100000;  // waiting sentences beyond this → kQueueFull
};

enum class Priority { kInteractive, kNormal, kBulk };

// One finished sentence of a request, streamed before the whole request ends.
struct SentenceUpdate {
  size_t text_index = 0;       // which text of the call (0 for translate_sync / async)
  size_t sentence_index = 0;   // which sentence of that text
  size_t sentence_count = 0;   // sentences the text was split into
  std::string translation;     // this sentence's translation (best hypothesis)
};
// Runs on an engine thread as each sentence finishes, in no particular order across texts;
// it must return quickly and must not call back into the engine for the same model.
using SentenceCallback = std::function<void(const SentenceUpdate&)>;

struct TranslationOptions {
  std::optional<int> beam_size;                // num_beams; default 1 (greedy)
  std::optional<int> num_hypotheses;           // n-best size, ≤ beam_size; default 1
  std::optional<int64_t> max_new_tokens;       // default: generation_config, else 200
  std::optional<int64_t> min_new_tokens;       // default 0
  std::optional<double> length_penalty;        // default 1.0 (beam search only)
  std::optional<double> repetition_penalty;    // default 1.0 (off)
  std::optional<int64_t> no_repeat_ngram_size; // default 0 (off)
  std::optional<bool> sampling;                // do_sample; default false
  std::optional<int64_t> sampling_topk;        // default 50 when sampling (HF's default)
  std::optional<double> sampling_topp;         // default 1.0
  std::optional<double> temperature;           // default 1.0
  std::optional<uint64_t> seed;                // sampling seed; default: random
  bool cleanup_tokenization_spaces = true;     // HF's decode clean-up rules
  Priority priority = Priority::kNormal;
  int64_t timeout_ms = 0;                      // 0 = no deadline
  SentenceCallback on_sentence;                // optional streaming of finished sentences
};

}  // namespace tolk
