// spm_in_process.cc — the fuzz build's SentencePieceModel: calls SentencePiece directly instead of
// dlopen()ing libtolk_spm.so.
//
// Why: text/sentencepiece_model.cc opens the shim with RTLD_DEEPBIND, which AddressSanitizer
// refuses (it aborts the process). The deep binding only matters when LibTorch's protobuf shares
// the process, and the tokenizer fuzzer has no LibTorch, so linking SentencePiece here is safe.
// The tokenizer fuzzer loads the same dev .model file on every execution, so the last parsed
// model is kept and shared; that keeps each execution to the JSON work being fuzzed.
#include <sentencepiece_processor.h>

#include <memory>
#include <mutex>
#include <string>

#include "text/sentencepiece_model.h"
#include "tolk/status.h"

namespace tolk::text {
namespace {

struct Cached {
  std::string serialized;
  std::shared_ptr<sentencepiece::SentencePieceProcessor> sp;
};

std::shared_ptr<sentencepiece::SentencePieceProcessor> load(const std::string& serialized) {
  static std::mutex mu;
  static Cached cache;
  std::lock_guard<std::mutex> lock(mu);
  if (cache.sp && cache.serialized == serialized) return cache.sp;
  auto sp = std::make_shared<sentencepiece::SentencePieceProcessor>();
  const auto status = sp->LoadFromSerializedProto(serialized);
  if (!status.ok()) throw Error(StatusCode::kInvalidModel, status.ToString());
  cache = {serialized, sp};
  return sp;
}

using Handle = std::shared_ptr<sentencepiece::SentencePieceProcessor>;
const sentencepiece::SentencePieceProcessor& get(void* handle) { return **static_cast<Handle*>(handle); }

}  // namespace

SentencePieceModel::SentencePieceModel(const std::string& serialized)
    : handle_(new Handle(load(serialized))) {}

SentencePieceModel::~SentencePieceModel() { delete static_cast<Handle*>(handle_); }

int SentencePieceModel::piece_size() const { return get(handle_).GetPieceSize(); }

std::string SentencePieceModel::id_to_piece(int id) const { return get(handle_).IdToPiece(id); }

std::vector<int> SentencePieceModel::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = get(handle_).Encode(text, &ids);
  if (!status.ok()) throw Error(StatusCode::kInternal, "SentencePiece encode failed: " + status.ToString());
  return ids;
}

}  // namespace tolk::text
