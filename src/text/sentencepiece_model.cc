// sentencepiece_model.cc — loads libtolk_spm.so once, isolated, and calls through it.
#include "text/sentencepiece_model.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

#include "tolk/status.h"

namespace tolk::text {
namespace {

struct ShimApi {
  void* (*create)(const char*, size_t, char*, size_t) = nullptr;
  void (*destroy)(void*) = nullptr;
  int (*piece_size)(const void*) = nullptr;
  const char* (*id_to_piece)(const void*, int, size_t*) = nullptr;
  long (*encode)(const void*, const char*, size_t, int*, size_t, char*, size_t) = nullptr;
  std::string error;
};

// The shim sits next to libtolk.so (both in the build folder, both in the install's lib
// folder); TOLK_SPM_SHIM overrides the path.
std::string shim_path() {
  if (const char* env = std::getenv("TOLK_SPM_SHIM")) return env;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&shim_path), &info) && info.dli_fname) {
    std::string self = info.dli_fname;
    const auto slash = self.rfind('/');
    return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/libtolk_spm.so";
  }
  return "libtolk_spm.so";
}

const ShimApi& shim() {
  static ShimApi api;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = shim_path();
#if defined(TOLK_SPM_DLMOPEN)
    // Sanitizer builds: ASan and TSan refuse RTLD_DEEPBIND, so the shim (built without
    // instrumentation) gets a link-map namespace of its own instead, where SentencePiece's
    // protobuf cannot meet LibTorch's. Only plain C data crosses, so nothing allocated on one
    // side is freed on the other.
    void* lib = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
#else
    // RTLD_LOCAL keeps SentencePiece's protobuf out of the global namespace; RTLD_DEEPBIND makes
    // SentencePiece bind to its own copy before the process's (LibTorch's) protobuf.
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
#endif
    if (!lib) {
      const char* why = dlerror();
      api.error = "cannot load " + path + ": " + (why ? why : "unknown error");
      return;
    }
    api.create = reinterpret_cast<decltype(api.create)>(dlsym(lib, "tolk_spm_create"));
    api.destroy = reinterpret_cast<decltype(api.destroy)>(dlsym(lib, "tolk_spm_destroy"));
    api.piece_size = reinterpret_cast<decltype(api.piece_size)>(dlsym(lib, "tolk_spm_piece_size"));
    api.id_to_piece = reinterpret_cast<decltype(api.id_to_piece)>(dlsym(lib, "tolk_spm_id_to_piece"));
    api.encode = reinterpret_cast<decltype(api.encode)>(dlsym(lib, "tolk_spm_encode"));
    if (!api.create || !api.destroy || !api.piece_size || !api.id_to_piece || !api.encode)
      api.error = path + " lacks the tolk_spm_* functions";
  });
  if (!api.error.empty()) throw Error(StatusCode::kInternal, api.error);
  return api;
}

}  // namespace

SentencePieceModel::SentencePieceModel(const std::string& serialized) {
  char err[512] = {0};
  handle_ = shim().create(serialized.data(), serialized.size(), err, sizeof err);
  if (!handle_) throw Error(StatusCode::kInvalidModel, err);
}

SentencePieceModel::~SentencePieceModel() {
  if (handle_) shim().destroy(handle_);
}

int SentencePieceModel::piece_size() const { return shim().piece_size(handle_); }

std::string SentencePieceModel::id_to_piece(int id) const {
  size_t len = 0;
  const char* p = shim().id_to_piece(handle_, id, &len);
  return std::string(p, len);
}

std::vector<int> SentencePieceModel::encode(std::string_view text) const {
  char err[512] = {0};
  std::vector<int> ids(text.size() + 8);  // pieces never outnumber bytes + the dummy prefix
  long n = shim().encode(handle_, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
  if (n > static_cast<long>(ids.size())) {
    ids.resize(static_cast<size_t>(n));
    n = shim().encode(handle_, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
  }
  if (n < 0) throw Error(StatusCode::kInternal, std::string("SentencePiece encode failed: ") + err);
  ids.resize(static_cast<size_t>(n));
  return ids;
}

}  // namespace tolk::text
