// tolk_spm_shim.cc — a C face for SentencePiece, built as its own module (libtolk_spm.so).
//
// Why a separate module: Debian's libsentencepiece embeds and exports a copy of protobuf 3.14,
// while LibTorch links the system protobuf 3.21. Loaded side by side in one symbol namespace,
// each binds to the other's symbols and the process dies in static initialisation. tolk
// therefore never links SentencePiece itself: it dlopen()s this module with RTLD_LOCAL |
// RTLD_DEEPBIND (see sentencepiece_model.cc), so SentencePiece keeps its own protobuf and
// LibTorch keeps the system one. Only plain C types cross this boundary.
#include <sentencepiece_processor.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

namespace {
void set_error(char* err, size_t errlen, const std::string& message) {
  if (!err || errlen == 0) return;
  std::strncpy(err, message.c_str(), errlen - 1);
  err[errlen - 1] = '\0';
}
}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* tolk_spm_create(const char* data, size_t len,
                                                             char* err, size_t errlen) {
  try {
    auto* sp = new sentencepiece::SentencePieceProcessor();
    const auto status = sp->LoadFromSerializedProto(std::string_view(data, len));
    if (!status.ok()) {
      set_error(err, errlen, status.ToString());
      delete sp;
      return nullptr;
    }
    return sp;
  } catch (const std::exception& e) {
    set_error(err, errlen, e.what());
    return nullptr;
  }
}

__attribute__((visibility("default"))) void tolk_spm_destroy(void* handle) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(handle);
}

__attribute__((visibility("default"))) int tolk_spm_piece_size(const void* handle) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->GetPieceSize();
}

// The piece's bytes stay valid as long as the model does.
__attribute__((visibility("default"))) const char* tolk_spm_id_to_piece(const void* handle, int id,
                                                                        size_t* len) {
  const std::string& piece =
      static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->IdToPiece(id);
  *len = piece.size();
  return piece.data();
}

// Writes up to `cap` ids and returns how many there are (call again with a larger buffer when
// that exceeds cap), or -1 with `err` set.
__attribute__((visibility("default"))) long tolk_spm_encode(const void* handle, const char* text,
                                                           size_t len, int* ids, size_t cap,
                                                           char* err, size_t errlen) {
  try {
    std::vector<int> pieces;
    const auto status = static_cast<const sentencepiece::SentencePieceProcessor*>(handle)->Encode(
        std::string_view(text, len), &pieces);
    if (!status.ok()) {
      set_error(err, errlen, status.ToString());
      return -1;
    }
    for (size_t i = 0; i < pieces.size() && i < cap; ++i) ids[i] = pieces[i];
    return static_cast<long>(pieces.size());
  } catch (const std::exception& e) {
    set_error(err, errlen, e.what());
    return -1;
  }
}

}  // extern "C"
