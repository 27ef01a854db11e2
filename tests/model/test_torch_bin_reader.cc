// Tests of read_torch_bin: the real dev pytorch_model.bin against model.safetensors, hand-built
// valid archives for the less common paths, and hostile archives that must be refused cleanly.
#include <caffe2/serialize/inline_container.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/torch_bin_reader.h"
#include "tolk/status.h"
#include "../support/pickle_builder.h"

namespace fs = std::filesystem;
using tolk::Error;
using tolk::StatusCode;
using tolk::model::DType;
using tolk::model::RawTensorMap;
using tolk::model::read_torch_bin;

using tolk::test::Pickle;

namespace {

const std::string kDataDir = TOLK_TEST_DATA_DIR;
const std::string kBin = kDataDir + "/dev-bin/pytorch_model.bin";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A scratch directory removed at scope exit.
struct TempDir {
  fs::path dir;
  TempDir() {
    static int counter = 0;
    dir = fs::temp_directory_path() /
          ("tolk_binreader_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
};


std::string float_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// Writes a valid torch zip (prefix = file stem) holding data.pkl and the given records.
std::string write_zip(const TempDir& tmp, const std::string& pkl,
                      const std::map<std::string, std::string>& records = {},
                      const std::string& name = "model.bin") {
  const std::string path = (tmp.dir / name).string();
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pkl.data(), pkl.size());
  for (const auto& [rec, bytes] : records) writer.writeRecord(rec, bytes.data(), bytes.size());
  writer.writeEndOfFile();
  return path;
}

// One F32 storage "0" of four floats, for the hostile pickles that need a real storage.
std::map<std::string, std::string> four_floats() { return {{"data/0", float_bytes({1, 2, 3, 4})}}; }

void expect_error(const std::string& path, StatusCode code, const std::string& needle) {
  try {
    read_torch_bin(path);
    FAIL("no error for " << needle);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(static_cast<int>(e.code()) == static_cast<int>(code));
    CHECK_THAT(e.what(), Catch::Matchers::Contains(needle));
    CHECK_THAT(e.what(), Catch::Matchers::Contains(fs::path(path).filename().string()));
  }
}

void expect_invalid(const std::string& pkl, const std::string& needle,
                    const std::map<std::string, std::string>& records = four_floats()) {
  TempDir tmp;
  expect_error(write_zip(tmp, pkl, records), StatusCode::kInvalidModel, needle);
}

}  // namespace

TEST_CASE("read_torch_bin reads the dev pytorch_model.bin", "[torch_bin]") {
  const RawTensorMap m = read_torch_bin(kBin);
  CHECK(m.size() == 92);  // 89 tensors + 3 tied aliases
  const auto& shared = m.at("model.shared.weight");
  CHECK(shared.dtype == DType::kF32);
  CHECK(shared.shape == std::vector<int64_t>{454, 64});
  CHECK(shared.strides == std::vector<int64_t>{64, 1});
  CHECK(shared.numel() == 454 * 64);
  for (const char* alias : {"lm_head.weight", "model.encoder.embed_tokens.weight",
                            "model.decoder.embed_tokens.weight"}) {
    INFO(alias);
    CHECK(m.at(alias).data == shared.data);
    CHECK(m.at(alias).owner.get() == shared.owner.get());
    CHECK(m.at(alias).shape == shared.shape);
  }
  CHECK(m.at("model.decoder.layer_norm.bias").shape == std::vector<int64_t>{64});
}

TEST_CASE("read_torch_bin values equal model.safetensors byte for byte", "[torch_bin]") {
  const RawTensorMap m = read_torch_bin(kBin);
  const std::string st = slurp(kDataDir + "/dev/model.safetensors");
  REQUIRE(st.size() > 8);
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | static_cast<unsigned char>(st[size_t(k)]);
  const auto header = nlohmann::json::parse(st.substr(8, n));
  size_t compared = 0;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    INFO(name);
    REQUIRE(m.count(name) == 1);
    const auto& t = m.at(name);
    CHECK(std::string(tolk::model::dtype_name(t.dtype)) == info["dtype"].get<std::string>());
    CHECK(t.shape == info["shape"].get<std::vector<int64_t>>());
    const auto begin = info["data_offsets"][0].get<size_t>();
    const auto end = info["data_offsets"][1].get<size_t>();
    REQUIRE(end - begin == static_cast<size_t>(t.numel()) * tolk::model::dtype_size(t.dtype));
    CHECK(std::memcmp(t.data, st.data() + 8 + n + begin, end - begin) == 0);
    ++compared;
  }
  CHECK(compared == 89);
}

TEST_CASE("read_torch_bin handles shared storages, views and other dtypes", "[torch_bin]") {
  TempDir tmp;
  // "a" and "b" view one storage at different offsets; "t" is a transposed (strided) view;
  // "h" is F16; "s" a scalar; "e" empty. Written with protocol-4 opcodes where torch would.
  Pickle p;
  p.proto().op('\x95').le(0, 8).ordered_dict().op('(');  // FRAME (an empty one suffices)
  p.tensor("a", "0", 6, 0, {2}, {1}).tensor("b", "0", 6, 2, {2, 2}, {2, 1});
  p.tensor("t", "0", 6, 0, {3, 2}, {1, 3}).tensor("h", "1", 2, 1, {1}, {1}, "HalfStorage");
  p.tensor("s", "0", 6, 5, {}, {}).tensor("e", "0", 6, 6, {0, 4}, {4, 1});
  p.tensor("z", "0", 6, 4, {3}, {0});  // a small stride-0 view is fine
  // A protocol-4 style entry: SHORT_BINUNICODE, MEMOIZE, BINGET, STACK_GLOBAL, _rebuild_parameter.
  p.op('\x8c').le(1, 1).raw("x").op('\x8c').le(12, 1).raw("torch._utils").op('\x94');
  p.op('\x8c').le(18, 1).raw("_rebuild_parameter").op('\x93').op('(');
  p.op('h').le(0, 1).op('\x8c').le(18, 1).raw("_rebuild_tensor_v2").op('\x93');  // memo 0
  p.op('(').op('(').str("storage");
  p.global("torch", "FloatStorage").str("0").str("cpu").integer(6).op('t').op('Q');
  p.integer(3).ints({1}).ints({1}).op('\x88').op('}').op('t').op('R');
  p.op('\x88').op('}').op('t').op('R');
  p.op('u');
  // BUILD with an OrderedDict _metadata state, as some HF files carry
  p.op('}').str("_metadata").op('}').op('s').op('b').op('.');
  const std::string path = write_zip(tmp, p.b, {{"data/0", float_bytes({0, 1, 2, 3, 4, 5})},
                                                {"data/1", std::string("\x00\x3c\x00\x40", 4)}});
  const RawTensorMap m = read_torch_bin(path);
  REQUIRE(m.size() == 8);
  const float* base = static_cast<const float*>(m.at("a").data);
  CHECK(base[1] == 1.0f);
  CHECK(static_cast<const float*>(m.at("b").data) == base + 2);
  CHECK(m.at("b").owner.get() == m.at("a").owner.get());
  CHECK(m.at("t").strides == std::vector<int64_t>{1, 3});
  CHECK(*static_cast<const float*>(m.at("s").data) == 5.0f);
  CHECK(m.at("s").numel() == 1);
  CHECK(m.at("e").numel() == 0);
  CHECK(m.at("z").strides == std::vector<int64_t>{0});
  CHECK(*static_cast<const float*>(m.at("z").data) == 4.0f);
  CHECK(m.at("h").dtype == DType::kF16);
  CHECK(*static_cast<const uint16_t*>(m.at("h").data) == 0x4000);  // 2.0 in half
  CHECK(*static_cast<const float*>(m.at("x").data) == 3.0f);
}

TEST_CASE("read_torch_bin refuses files that are not torch zips", "[torch_bin][hostile]") {
  TempDir tmp;
  expect_error((tmp.dir / "missing.bin").string(), StatusCode::kFileNotFound, "not found");
  expect_error(tmp.dir.string(), StatusCode::kFileNotFound, "not a regular file");
  expect_error(tmp.file("empty.bin", ""), StatusCode::kInvalidModel, "empty");
  expect_error(tmp.file("text.bin", "this is not a zip at all"), StatusCode::kInvalidModel,
               "not a zip");
  const std::string legacy("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  expect_error(tmp.file("legacy.bin", legacy), StatusCode::kUnsupportedModel, "legacy");
  const std::string real = slurp(kBin);
  expect_error(tmp.file("cut.bin", real.substr(0, real.size() / 2)), StatusCode::kInvalidModel,
               "zip");
  expect_error(tmp.file("stub.bin", "PK\x03\x04junk"), StatusCode::kInvalidModel, "zip");
  // A zip without data.pkl, and one with big-endian storages.
  {
    caffe2::serialize::PyTorchStreamWriter w((tmp.dir / "nopkl.bin").string());
    w.writeRecord("data/0", "abcd", 4);
  }
  expect_error((tmp.dir / "nopkl.bin").string(), StatusCode::kInvalidModel, "data.pkl");
  Pickle ok;
  ok.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).end_dict();
  auto records = four_floats();
  records["byteorder"] = "big";
  expect_error(write_zip(tmp, ok.b, records, "big.bin"), StatusCode::kUnsupportedModel, "big");
}

TEST_CASE("read_torch_bin refuses globals outside the allow-list", "[torch_bin][hostile]") {
  // The classic payload: os.system("...") via GLOBAL + REDUCE. Refused at GLOBAL, so never run.
  Pickle os_system;
  os_system.proto().global("os", "system").str("touch /tmp/tolk_pwned").op('\x85').op('R').op('.');
  expect_invalid(os_system.b, "pickle global 'os.system' is not allowed");
  Pickle eval;
  eval.proto().global("builtins", "eval").str("1+1").op('\x85').op('R').op('.');
  expect_invalid(eval.b, "'builtins.eval' is not allowed");
  // The same through STACK_GLOBAL (protocol 4).
  Pickle stack_global;
  stack_global.proto().str("posix").str("system").op('\x93').str("id").op('\x85').op('R').op('.');
  expect_invalid(stack_global.b, "'posix.system' is not allowed");
  // Hidden inside an otherwise valid state dict, after a good tensor.
  Pickle hidden;
  hidden.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).str("v");
  hidden.global("subprocess", "Popen").str("sh").op('\x85').op('R').end_dict();
  expect_invalid(hidden.b, "'subprocess.Popen' is not allowed");
  // A control character in the name is escaped, not echoed.
  Pickle ctrl;
  ctrl.proto().global("os\x1b[2J", "system").op('.');
  expect_invalid(ctrl.b, "os\\x1b[2J.system");
  // An allowed class used in the wrong role.
  Pickle call_storage;
  call_storage.proto().global("torch", "FloatStorage").op(')').op('R').op('.');
  expect_invalid(call_storage.b, "cannot be called");
  CHECK_FALSE(fs::exists("/tmp/tolk_pwned"));
}

TEST_CASE("read_torch_bin refuses storages and views out of bounds", "[torch_bin][hostile]") {
  Pickle numel_too_big;
  numel_too_big.begin_dict().tensor("w", "0", 1000, 0, {1000}, {1}).end_dict();
  expect_invalid(numel_too_big.b, "but its record holds 16 bytes");
  Pickle numel_overflow;
  numel_overflow.begin_dict().tensor("w", "0", int64_t{1} << 62, 0, {1}, {1}).end_dict();
  expect_invalid(numel_overflow.b, "overflows");
  Pickle stride_past;
  stride_past.begin_dict().tensor("w", "0", 4, 0, {2, 2}, {3, 1}).end_dict();
  expect_invalid(stride_past.b, "runs past its storage");
  Pickle offset_past;
  offset_past.begin_dict().tensor("w", "0", 4, 3, {2}, {1}).end_dict();
  expect_invalid(offset_past.b, "runs past its storage");
  Pickle empty_offset_past;
  empty_offset_past.begin_dict().tensor("w", "0", 4, 9, {0}, {1}).end_dict();
  expect_invalid(empty_offset_past.b, "offset lies past");
  Pickle huge_extent;
  huge_extent.begin_dict()
      .tensor("w", "0", 4, 0, {int64_t{1} << 40, int64_t{1} << 40}, {int64_t{1} << 40, 1})
      .end_dict();
  expect_invalid(huge_extent.b, "overflows");
  Pickle expanded;  // stride-0 view with more elements than its storage holds
  expanded.begin_dict().tensor("w", "0", 4, 0, {1000000}, {0}).end_dict();
  expect_invalid(expanded.b, "more than its storage");
  Pickle empty_huge;  // empty, but its non-zero dims overflow int64
  empty_huge.begin_dict()
      .tensor("w", "0", 4, 0, {0, int64_t{1} << 40, int64_t{1} << 40}, {1, 1, 1})
      .end_dict();
  expect_invalid(empty_huge.b, "overflows");
  Pickle negative_size;
  negative_size.begin_dict().tensor("w", "0", 4, 0, {-1}, {1}).end_dict();
  expect_invalid(negative_size.b, "negative");
  Pickle negative_stride;
  negative_stride.begin_dict().tensor("w", "0", 4, 3, {2}, {-1}).end_dict();
  expect_invalid(negative_stride.b, "negative");
  Pickle rank_mismatch;
  rank_mismatch.begin_dict().tensor("w", "0", 4, 0, {2, 2}, {1}).end_dict();
  expect_invalid(rank_mismatch.b, "different lengths");
  Pickle missing_record;
  missing_record.begin_dict().tensor("w", "7", 4, 0, {4}, {1}).end_dict();
  expect_invalid(missing_record.b, "'data/7' is missing");
  Pickle conflicting;
  conflicting.begin_dict().tensor("w", "0", 4, 0, {4}, {1});
  conflicting.tensor("v", "0", 2, 0, {2}, {1}).end_dict();
  expect_invalid(conflicting.b, "declared twice");
}

TEST_CASE("read_torch_bin refuses malformed pickles", "[torch_bin][hostile]") {
  Pickle valid;
  valid.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).end_dict();
  expect_invalid(valid.b.substr(0, valid.b.size() / 2), "truncated");
  expect_invalid(valid.b.substr(0, valid.b.size() - 1), "no STOP");
  expect_invalid(Pickle().proto().op('X').le(0xfffffff0u, 4).raw("abc").b, "needs 4294967280");
  expect_invalid(Pickle().proto().op('\x8d').le(~uint64_t{0}, 8).b, "truncated");
  expect_invalid(Pickle().proto().op('i').raw("os\nsystem\n").b, "INST");
  expect_invalid(Pickle().proto().op('\xff').b, "0xff (unknown)");
  expect_invalid(Pickle().proto().raw("]K\x01" "a.").b, "top-level object is a list");
  expect_invalid(Pickle().proto().op('}').str("w").integer(1).op('s').op('.').b,
                 "'w' is a int, not a tensor");
  expect_invalid(Pickle().proto().op('h').le(5, 1).b, "memo key 5 is not set");
  expect_invalid(Pickle().proto().op('R').b, "stack underflow");
  expect_invalid(Pickle().proto().op('}').op('(').str("k").op('u').b, "odd number");
  expect_invalid(Pickle().proto().op('}').op('(').op('s').b, "stack underflow");  // below MARK
  expect_invalid(Pickle().proto().ordered_dict().op('N').op('R').b, "REDUCE expects a tuple");
  expect_invalid(Pickle().proto().str("x").op(')').op('R').b, "expects a global");
  expect_invalid(Pickle().proto().op('c').raw(std::string(1000, 'a')).b, "unterminated");
  expect_invalid(Pickle().proto().op('\x8a').op('\x09').le(0, 9).b, "exceeds 64 bits");
  expect_invalid(Pickle().proto().op('\x80').op('\x07').b, "protocol 7");
  expect_invalid(Pickle().proto().global("torch._utils", "_rebuild_tensor_v2").op(')').op('R').b,
                 "called with 0 arguments");
  Pickle not_storage;  // persistent id naming a non-storage class
  not_storage.proto().op('(').str("storage").global("collections", "OrderedDict").str("0");
  not_storage.str("cpu").integer(4).op('t').op('Q').op('.');
  expect_invalid(not_storage.b, "not a storage type");
  Pickle bad_pid;  // storage key given as an int
  bad_pid.proto().op('(').str("storage").global("torch", "FloatStorage").integer(0);
  bad_pid.str("cpu").integer(4).op('t').op('Q').op('.');
  expect_invalid(bad_pid.b, "key and location must be str");
  Pickle str_size;  // size tuple (4,) rewritten as ('4',)
  str_size.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).end_dict();
  const auto at = str_size.b.find(std::string("(K\x04t", 4));
  REQUIRE(at != std::string::npos);
  str_size.b.replace(at, 4, std::string("(X\x01\x00\x00\x00" "4t", 8));
  expect_invalid(str_size.b, "tensor size holds a str");
  Pickle duplicate;
  duplicate.begin_dict().tensor("w", "0", 4, 0, {4}, {1}).tensor("w", "0", 4, 0, {4}, {1});
  expect_invalid(duplicate.end_dict().b, "two entries named 'w'");
}

TEST_CASE("read_torch_bin survives resource-exhaustion pickles", "[torch_bin][hostile]") {
  // 200k nested one-tuples: no recursion on teardown, no crash.
  Pickle nested;
  nested.proto().op('N').raw(std::string(200000, '\x85')).op('.');
  expect_invalid(nested.b, "top-level object is a tuple");
  // A list that contains itself: no leak, no crash.
  expect_invalid(Pickle().proto().raw(std::string("]q\0h\0a.", 7)).b,
                 "top-level object is a list");
  // More pushes than the stack allows.
  expect_invalid(Pickle().proto().raw(std::string((1 << 20) + 1, 'N')).op('.').b,
                 "stack too deep");
  // Memo puts to many distinct indices are bounded too (checked via LONG_BINPUT).
  Pickle memo;
  memo.proto().op('N');
  for (uint32_t k = 0; k <= (1u << 20); ++k) memo.op('r').le(k, 4);
  expect_invalid(memo.op('.').b, "memo too large");
}
