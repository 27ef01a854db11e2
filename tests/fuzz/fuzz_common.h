// fuzz_common.h — small helpers the fuzz harnesses share: handing bytes to path-based readers
// without touching the disk, and where the dev checkpoint lives.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace tolk_fuzz {

// A memfd reachable as "/proc/self/fd/N": tolk's readers take a path, and rewriting a memfd
// costs no disk I/O per execution. stat() through the link sees a regular file, like a real one.
class MemFile {
 public:
  explicit MemFile(const char* name) {
    fd_ = memfd_create(name, 0);
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  // Replaces the file's contents with `data`.
  void write(const uint8_t* data, size_t size) {
    if (ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// tests/data/dev: TOLK_FUZZ_DEV_DIR, else the path CMake compiled in.
inline std::string dev_dir() {
  if (const char* env = std::getenv("TOLK_FUZZ_DEV_DIR")) return env;
#ifdef TOLK_FUZZ_DEV_DIR_DEFAULT
  return TOLK_FUZZ_DEV_DIR_DEFAULT;
#else
  return "tests/data/dev";
#endif
}

}  // namespace tolk_fuzz
