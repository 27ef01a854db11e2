// safetensors_reader.cc — see safetensors_reader.h.
//
// The header is parsed with nlohmann's SAX interface rather than into a DOM: a hostile 100 MB
// header of tiny JSON values would expand to gigabytes as a DOM, while the SAX handler below keeps
// only what a valid header needs (name, dtype, ≤ 8 dims, 2 offsets per tensor) and rejects any
// structure a valid header cannot have as soon as it appears.
#include "model/safetensors_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "tolk/status.h"

// Tensor bytes are handed out as they lie in the file (little-endian), without conversion.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tolk reads safetensors on little-endian hosts only");

namespace tolk::model {
namespace {

[[noreturn]] void invalid(const std::string& file, const std::string& what) {
  throw Error(StatusCode::kInvalidModel, file + ": " + what);
}

bool dtype_from_name(const std::string& s, DType* out) {
  static const std::pair<const char*, DType> kNames[] = {
      {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16}, {"F64", DType::kF64},
      {"I64", DType::kI64}, {"I32", DType::kI32}, {"I16", DType::kI16},   {"I8", DType::kI8},
      {"U8", DType::kU8},   {"BOOL", DType::kBool}};
  for (const auto& [name, dtype] : kNames) {
    if (s == name) {
      *out = dtype;
      return true;
    }
  }
  return false;
}

// Bytes of a tensor of `shape` and `dtype`, or false on overflow. Also requires the product of the
// non-zero dims to fit int64, so that consumers computing strides of an empty tensor (e.g. shape
// [0, 2^40, 2^40]) cannot overflow either.
bool checked_nbytes(const std::vector<int64_t>& shape, DType dtype, uint64_t* nbytes) {
  uint64_t numel = 1, nonzero = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) return false;
    overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel);
    if (d > 0) overflow |= __builtin_mul_overflow(nonzero, static_cast<uint64_t>(d), &nonzero);
  }
  overflow |= __builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(dtype)), nbytes);
  const uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return !overflow && nonzero <= kMax && *nbytes <= kMax;
}

struct Entry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// SAX handler for the header. Depth 1 is the top object, depth 2 a tensor entry or __metadata__,
// depth 3 a shape or data_offsets list. Anything else is rejected on the spot, except the values
// of unknown fields inside a tensor entry, which are skipped (the reference implementation ignores
// unknown fields too). Errors are thrown as tolk::Error, which propagates out of sax_parse.
class HeaderHandler final : public nlohmann::json_sax<nlohmann::json> {
 public:
  HeaderHandler(const std::string& file, uint64_t data_len) : file_(file), data_len_(data_len) {}

  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  bool complete = false;  // the top-level object was closed

  bool null() override {
    // "__metadata__": null is what serde writes for an absent Option; accept it as "no metadata".
    if (depth_ == 1 && key1_ == "__metadata__" && skip_ == 0) return metadata_seen();
    return scalar("null");
  }
  bool boolean(bool) override { return scalar("a boolean"); }
  bool number_integer(number_integer_t v) override {
    return v >= 0 ? number_unsigned(static_cast<uint64_t>(v)) : scalar("a negative number");
  }
  bool number_float(number_float_t, const string_t&) override { return scalar("a non-integer number"); }
  bool binary(binary_t&) override { return scalar("binary data"); }

  bool number_unsigned(number_unsigned_t v) override {
    if (skip_ > 0 || depth_ != 3) return scalar("a number");
    if (field_ == Field::kShape) {
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("shape dimension too large");
      if (cur_.shape.size() >= kMaxSafetensorsRank)
        fail("rank exceeds " + std::to_string(kMaxSafetensorsRank));
      cur_.shape.push_back(static_cast<int64_t>(v));
    } else {
      if (offsets_seen_ >= 2) fail("data_offsets must be two integers");
      (offsets_seen_++ == 0 ? cur_.begin : cur_.end) = v;
    }
    return true;
  }

  bool string(string_t& v) override {
    if (skip_ > 0 || depth_ != 2 || field_ == Field::kShape || field_ == Field::kOffsets) return scalar("a string");
    if (in_metadata_) {
      metadata[key2_] = std::move(v);
    } else if (field_ == Field::kDtype) {
      if (!dtype_from_name(v, &cur_.dtype)) fail("unknown dtype '" + v + "'");
    }
    field_ = Field::kNone;  // also ends the skipped value of an unknown field
    return true;
  }

  bool key(string_t& k) override {
    if (skip_ > 0) return true;
    if (depth_ == 1) {
      key1_ = std::move(k);
    } else if (depth_ == 2 && in_metadata_) {
      if (metadata.count(k) != 0) fail("duplicate key '" + k + "'");
      key2_ = std::move(k);
    } else {  // depth 2, tensor entry
      Field f = k == "dtype" ? Field::kDtype
                : k == "shape" ? Field::kShape
                : k == "data_offsets" ? Field::kOffsets
                : Field::kUnknown;
      if (f != Field::kUnknown) {
        const unsigned bit = 1u << static_cast<unsigned>(f);
        if (fields_seen_ & bit) fail("field '" + k + "' repeated");
        fields_seen_ |= bit;
      }
      field_ = f;
    }
    return true;
  }

  bool start_object(std::size_t) override {
    if (skip_ > 0 || (depth_ == 2 && field_ == Field::kUnknown)) return enter_skip();
    if (depth_ == 0) {
      depth_ = 1;
    } else if (depth_ == 1) {
      depth_ = 2;
      if (key1_ == "__metadata__") {
        metadata_seen();
        in_metadata_ = true;
      } else {
        cur_ = Entry();
        cur_.name = key1_;
        fields_seen_ = 0;
        offsets_seen_ = 0;
      }
      field_ = Field::kNone;
    } else {
      scalar("an object");
    }
    return true;
  }

  bool end_object() override {
    if (skip_ > 0) return leave_skip();
    if (depth_ == 1) {
      depth_ = 0;
      complete = true;
    } else if (in_metadata_) {
      depth_ = 1;
      in_metadata_ = false;
    } else {
      finish_entry();  // before leaving depth 2, so errors name the tensor
      depth_ = 1;
    }
    return true;
  }

  bool start_array(std::size_t) override {
    if (skip_ > 0 || (depth_ == 2 && field_ == Field::kUnknown)) return enter_skip();
    if (depth_ != 2 || in_metadata_ || (field_ != Field::kShape && field_ != Field::kOffsets))
      return scalar("a list");
    depth_ = 3;
    return true;
  }

  bool end_array() override {
    if (skip_ > 0) return leave_skip();
    if (field_ == Field::kOffsets && offsets_seen_ != 2) fail("data_offsets must be two integers");
    depth_ = 2;
    field_ = Field::kNone;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    invalid(file_, std::string("header is not valid JSON (") + ex.what() + ")");
  }

 private:
  // Bit positions in fields_seen_ follow this order.
  enum class Field : unsigned { kDtype, kShape, kOffsets, kUnknown, kNone };

  [[noreturn]] void fail(const std::string& what) const {
    if (depth_ <= 1 && !in_metadata_) invalid(file_, what);
    invalid(file_, (in_metadata_ ? std::string("__metadata__") : "tensor '" + cur_.name + "'") + ": " + what);
  }

  // A value that is not a container arrived (or a container where none may be): accept it only
  // as the value of an unknown tensor field; otherwise say what was expected where.
  bool scalar(const char* what) {
    if (skip_ > 0) return true;
    if (depth_ == 2 && !in_metadata_ && field_ == Field::kUnknown) {
      field_ = Field::kNone;
      return true;
    }
    const std::string got = std::string(" (got ") + what + ")";
    if (depth_ == 0) fail("header is not a JSON object" + got);
    if (depth_ == 1 && key1_ == "__metadata__") fail("__metadata__ is not an object" + got);
    if (depth_ == 1) fail("entry for tensor '" + key1_ + "' is not an object" + got);
    if (in_metadata_) fail("value of '" + key2_ + "' is not a string" + got);
    if (field_ == Field::kDtype) fail("dtype is not a string" + got);
    if (field_ == Field::kShape)
      fail(depth_ == 2 ? "shape is not a list" + got : "shape is not a list of non-negative integers" + got);
    fail(depth_ == 2 ? "data_offsets is not a list" + got : "data_offsets must be two non-negative integers" + got);
  }

  bool metadata_seen() {
    if (metadata_done_) invalid(file_, "duplicate key '__metadata__'");
    metadata_done_ = true;
    return true;
  }

  bool enter_skip() {
    // Bounded so a deeply nested unknown value cannot make the parser's own stack grow unchecked.
    if (++skip_ > 64) fail("unknown field nested too deeply");
    return true;
  }
  bool leave_skip() {
    if (--skip_ == 0) field_ = Field::kNone;
    return true;
  }

  // Validates a complete tensor entry against the data section as soon as it closes, so invalid
  // entries never accumulate in memory.
  void finish_entry() {
    if (!(fields_seen_ & 1u)) fail("missing dtype");
    if (!(fields_seen_ & 2u)) fail("missing shape");
    if (!(fields_seen_ & 4u)) fail("missing data_offsets");
    uint64_t nbytes = 0;
    if (!checked_nbytes(cur_.shape, cur_.dtype, &nbytes)) fail("size of shape overflows");
    const std::string range = "data_offsets [" + std::to_string(cur_.begin) + ", " + std::to_string(cur_.end) + "]";
    if (cur_.begin > cur_.end) fail(range + ": begin is after end");
    if (cur_.end > data_len_)
      fail(range + " run past the end of the data section (" + std::to_string(data_len_) + " bytes)");
    if (cur_.end - cur_.begin != nbytes)
      fail(range + " span " + std::to_string(cur_.end - cur_.begin) + " bytes but " + dtype_name(cur_.dtype) +
           " of this shape needs " + std::to_string(nbytes));
    entries.push_back(std::move(cur_));
  }

  const std::string& file_;
  const uint64_t data_len_;
  int depth_ = 0;  // open containers, not counting skipped ones
  int skip_ = 0;   // open containers inside a skipped value
  bool in_metadata_ = false;
  bool metadata_done_ = false;
  std::string key1_, key2_;
  Field field_ = Field::kNone;
  unsigned fields_seen_ = 0;
  int offsets_seen_ = 0;
  Entry cur_;
};

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

RawTensorMap read_safetensors(const std::string& path) { return read_safetensors(path, nullptr); }

RawTensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(StatusCode::kFileNotFound, path + ": cannot open (" + std::strerror(err) + ")");
  }
  FdCloser closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(StatusCode::kFileNotFound, path + ": not a readable regular file");
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) invalid(path, "file is " + std::to_string(file_size) + " bytes, too short for a header length");

  void* addr = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) {
    const int err = errno;
    throw Error(StatusCode::kInternal, path + ": mmap failed (" + std::strerror(err) + ")");
  }
  // The mapping outlives the descriptor (closed by `closer`); every tensor shares this owner.
  std::shared_ptr<const void> owner(addr, [file_size](const void* p) { ::munmap(const_cast<void*>(p), file_size); });
  const auto* bytes = static_cast<const unsigned char*>(addr);

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > kMaxSafetensorsHeaderBytes)
    invalid(path, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                      std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  if (header_len > file_size - 8)
    invalid(path, "header length " + std::to_string(header_len) + " exceeds the file (" + std::to_string(file_size) +
                      " bytes)");

  const uint64_t data_start = 8 + header_len;
  HeaderHandler handler(path, file_size - data_start);
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  // nlohmann's lexer takes a NUL byte as end of input, which would silently drop whatever follows.
  if (std::memchr(text, '\0', header_len) != nullptr) invalid(path, "header is not valid JSON (contains a NUL byte)");
  const bool ok = nlohmann::json::sax_parse(text, text + header_len, &handler);
  if (!ok || !handler.complete) invalid(path, "header is not valid JSON");

  // Overlap check on non-empty ranges, in file order. Empty tensors occupy no bytes.
  std::vector<const Entry*> order;
  order.reserve(handler.entries.size());
  for (const Entry& e : handler.entries)
    if (e.end > e.begin) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i]->begin < order[i - 1]->end)
      invalid(path, "data of tensors '" + order[i - 1]->name + "' and '" + order[i]->name + "' overlap");
  }

  RawTensorMap out;
  for (Entry& e : handler.entries) {
    RawTensor t;
    t.dtype = e.dtype;
    t.shape = std::move(e.shape);
    // Possibly unaligned; see the header comment.
    t.data = bytes + data_start + e.begin;
    t.owner = owner;
    // nlohmann's SAX parser reports every key, so a repeated name is caught here rather than
    // silently keeping one of the two (which a DOM parse would do).
    if (!out.emplace(e.name, std::move(t)).second) invalid(path, "duplicate tensor name '" + e.name + "'");
  }
  if (metadata != nullptr) *metadata = std::move(handler.metadata);
  return out;
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, RawTensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  auto bad = [](const std::string& name, const std::string& what) {
    throw Error(StatusCode::kInvalidArgument, "write_safetensors: tensor '" + name + "': " + what);
  };
  // ordered_json keeps insertion order, so __metadata__ comes first and tensors follow the order
  // of `tensors`, which is also the order of their data.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> seen;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") bad(name, "reserved name");
    if (!seen.insert(name).second) bad(name, "duplicate name");
    if (t.shape.size() > kMaxSafetensorsRank) bad(name, "rank too large");
    uint64_t nbytes = 0;
    if (!checked_nbytes(t.shape, t.dtype, &nbytes)) bad(name, "invalid shape");
    if (!t.strides.empty()) {
      if (t.strides.size() != t.shape.size()) bad(name, "strides do not match shape");
      int64_t expect = 1;
      for (size_t i = t.shape.size(); i-- > 0;) {
        if (t.shape[i] > 1 && t.strides[i] != expect) bad(name, "not contiguous");
        expect *= t.shape[i];
      }
    }
    if (nbytes > 0 && t.data == nullptr) bad(name, "null data");
    header[name] = {{"dtype", dtype_name(t.dtype)},
                    {"shape", t.shape},
                    {"data_offsets", nlohmann::ordered_json::array({offset, offset + nbytes})}};
    sizes.push_back(nbytes);
    offset += nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  unsigned char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(static_cast<uint64_t>(text.size()) >> (8 * i));
  out.write(reinterpret_cast<const char*>(len_bytes), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (size_t i = 0; i < tensors.size(); ++i)
    out.write(static_cast<const char*>(tensors[i].second.data), static_cast<std::streamsize>(sizes[i]));
  out.close();
  if (!out) throw Error(StatusCode::kInternal, path + ": cannot write safetensors file");
}

}  // namespace tolk::model
