// sentencepiece_model.h — a loaded SentencePiece model, reached through libtolk_spm.so.
//
// See spm_shim/tolk_spm_shim.cc for why SentencePiece lives in its own dlopen()ed module.
// Immutable after construction; encode() and id_to_piece() are safe from many threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tolk::text {

class SentencePieceModel {
 public:
  // Parses a serialized model. Throws tolk::Error: kInvalidModel (with SentencePiece's reason)
  // when the bytes are not a model, kInternal when the shim module cannot be loaded.
  explicit SentencePieceModel(const std::string& serialized);
  ~SentencePieceModel();
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  int piece_size() const;
  std::string id_to_piece(int id) const;
  std::vector<int> encode(std::string_view text) const;  // sp.encode(text) as piece ids

 private:
  void* handle_ = nullptr;
};

}  // namespace tolk::text
