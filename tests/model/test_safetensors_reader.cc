// Tests for the safetensors reader and writer: the dev checkpoint, writer round trips, and every
// hostile-header case the reader must refuse with kInvalidModel instead of crashing.
#include <catch2/catch.hpp>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "model/safetensors_reader.h"
#include "tolk/status.h"

namespace fs = std::filesystem;
using tolk::Error;
using tolk::StatusCode;
using namespace tolk::model;

namespace {

const std::string kDevModel = std::string(TOLK_TEST_DATA_DIR) + "/dev/model.safetensors";

// A fresh directory per test case, removed afterwards.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tolk-st-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A safetensors file with header `json` (N = its exact size) and `data_len` zero bytes of data.
std::string file_with_header(const std::string& json, size_t data_len) {
  return le64(json.size()) + json + std::string(data_len, '\0');
}

// Reading `path` must throw `code` with a message naming the file and containing `needle`.
void expect_error(const std::string& path, StatusCode code, const std::string& needle) {
  try {
    read_safetensors(path);
    FAIL("no error; expected: " << needle);
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(e.code() == code);
    CHECK(std::string(e.what()).find(path) == 0);
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  }
}

void expect_invalid_header(const TempDir& dir, const std::string& json, size_t data_len, const std::string& needle) {
  INFO("header: " << json.substr(0, 200));
  const std::string path = dir.file("hostile.safetensors");
  write_bytes(path, file_with_header(json, data_len));
  expect_error(path, StatusCode::kInvalidModel, needle);
}

std::string entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return R"({"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets + "}";
}

}  // namespace

TEST_CASE("safetensors: the dev checkpoint loads zero-copy", "[safetensors]") {
  std::map<std::string, std::string> metadata;
  RawTensorMap tensors = read_safetensors(kDevModel, &metadata);
  REQUIRE(tensors.size() == 89);
  CHECK(metadata == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK(tensors.count("__metadata__") == 0);

  const RawTensor& shared = tensors.at("model.shared.weight");
  CHECK(shared.dtype == DType::kF32);
  CHECK(shared.shape == std::vector<int64_t>{454, 64});
  CHECK(shared.strides.empty());
  CHECK(shared.numel() == 454 * 64);
  float first[4];
  std::memcpy(first, shared.data, sizeof first);
  CHECK(first[0] == 0.19202229380607605f);
  CHECK(first[1] == 0.22894087433815002f);
  CHECK(first[2] == -0.30919015407562256f);
  CHECK(first[3] == 0.08449151366949081f);
  const RawTensor& ln_bias = tensors.at("model.decoder.layer_norm.bias");
  CHECK(ln_bias.shape == std::vector<int64_t>{64});
  float b0;
  std::memcpy(&b0, ln_bias.data, sizeof b0);
  CHECK(b0 == 0.07649457454681396f);

  // Zero copy: every tensor shares one owner (the mapping) and points inside its data section.
  const auto file_size = fs::file_size(kDevModel);
  const auto* base = static_cast<const char*>(shared.owner.get());
  REQUIRE(base != nullptr);
  CHECK(static_cast<const char*>(shared.data) == base + 8 + 9552 + 670720);
  for (const auto& [name, t] : tensors) {
    INFO(name);
    CHECK(t.dtype == DType::kF32);
    CHECK(t.owner.get() == shared.owner.get());
    const auto* p = static_cast<const char*>(t.data);
    CHECK(p >= base + 8 + 9552);
    CHECK(p + t.numel() * 4 <= base + file_size);
  }

  // The mapping stays alive while any tensor does.
  RawTensor kept = tensors.at("model.shared.weight");
  tensors.clear();
  float again;
  std::memcpy(&again, kept.data, sizeof again);
  CHECK(again == first[0]);
}

TEST_CASE("safetensors: writer round trip with F32, F16, BF16 and others", "[safetensors]") {
  TempDir dir;
  const std::vector<float> f32 = {1.5f, -2.25f, 3.0f, 0.0f, 1e-3f, -7.0f};
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x7BFF, 0x0001};  // 1, -2, 65504, tiny
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC040, 0x7F7F};         // 1, -3, ~3.39e38
  const std::vector<int64_t> i64 = {-1, 1LL << 40};
  const std::vector<uint8_t> flags = {1, 0, 1};

  auto make = [](DType d, std::vector<int64_t> shape, const void* data) {
    RawTensor t;
    t.dtype = d;
    t.shape = std::move(shape);
    t.data = data;
    return t;
  };
  const std::vector<std::pair<std::string, RawTensor>> in = {
      {"w.f32", make(DType::kF32, {2, 3}, f32.data())},
      {"w.f16", make(DType::kF16, {4}, f16.data())},
      {"a.bf16", make(DType::kBF16, {3, 1}, bf16.data())},
      {"ids", make(DType::kI64, {2}, i64.data())},
      {"mask", make(DType::kBool, {3}, flags.data())},
      {"scalar", make(DType::kF32, {}, f32.data())},
      {"empty", make(DType::kF32, {0, 5}, nullptr)},
  };
  const std::string path = dir.file("rt.safetensors");
  write_safetensors(path, in, {{"format", "pt"}, {"note", "round trip"}});

  // Header layout as Hugging Face writes it: N a multiple of 8, __metadata__ first.
  std::ifstream raw(path, std::ios::binary);
  unsigned char len[8];
  raw.read(reinterpret_cast<char*>(len), 8);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  CHECK(n % 8 == 0);
  std::string header(n, '\0');
  raw.read(header.data(), static_cast<std::streamsize>(n));
  CHECK(header.rfind(R"({"__metadata__":{"format":"pt","note":"round trip"})", 0) == 0);

  std::map<std::string, std::string> meta;
  RawTensorMap out = read_safetensors(path, &meta);
  CHECK(meta.at("note") == "round trip");
  REQUIRE(out.size() == in.size());
  for (const auto& [name, t] : in) {
    INFO(name);
    const RawTensor& r = out.at(name);
    CHECK(r.dtype == t.dtype);
    CHECK(r.shape == t.shape);
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype);
    if (bytes > 0) CHECK(std::memcmp(r.data, t.data, bytes) == 0);
  }

  SECTION("no metadata: no __metadata__ key") {
    write_safetensors(path, {in[0]}, {});
    std::map<std::string, std::string> m{{"stale", "x"}};
    CHECK(read_safetensors(path, &m).size() == 1);
    CHECK(m.empty());
  }
  SECTION("writer refuses bad input") {
    auto code_of = [&](const std::vector<std::pair<std::string, RawTensor>>& ts) {
      try {
        write_safetensors(path, ts, {});
      } catch (const Error& e) {
        return e.code();
      }
      return StatusCode::kOk;
    };
    CHECK(code_of({in[0], in[0]}) == StatusCode::kInvalidArgument);
    CHECK(code_of({{"__metadata__", in[0].second}}) == StatusCode::kInvalidArgument);
    RawTensor strided = in[0].second;
    strided.strides = {1, 2};  // column-major view of [2,3]
    CHECK(code_of({{"s", strided}}) == StatusCode::kInvalidArgument);
    strided.strides = {3, 1};  // row-major: fine
    CHECK(code_of({{"s", strided}}) == StatusCode::kOk);
    RawTensor null_data = in[0].second;
    null_data.data = nullptr;
    CHECK(code_of({{"n", null_data}}) == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("safetensors: rewriting the dev checkpoint reproduces Hugging Face's bytes", "[safetensors]") {
  TempDir dir;
  std::map<std::string, std::string> metadata;
  const RawTensorMap tensors = read_safetensors(kDevModel, &metadata);
  const std::string path = dir.file("rewrite.safetensors");
  write_safetensors(path, {tensors.begin(), tensors.end()}, metadata);  // sorted by name, as HF writes it
  auto slurp = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string original = slurp(kDevModel);
  CHECK(original.size() == 796504);
  CHECK(slurp(path) == original);
}

TEST_CASE("safetensors: unusual but valid files load", "[safetensors]") {
  TempDir dir;
  const std::string path = dir.file("ok.safetensors");
  SECTION("unaligned data, gaps, any order, unknown fields, null metadata") {
    const std::string json = "{\"__metadata__\":null,\"b\":" + entry("F32", "[2]", "[1,9]") + ",\"a\":" +
                             entry("U8", "[1]", "[0,1]") + ",\"z\":" + entry("F16", "[0,3]", "[9,9]") +
                             ",\"c\":{\"dtype\":\"I16\",\"extra\":{\"x\":[1,[2]]},\"shape\":[1],"
                             "\"data_offsets\":[12,14]}}   ";
    std::string bytes = file_with_header(json, 16);
    const float vals[2] = {0.5f, -4.0f};
    std::memcpy(&bytes[8 + json.size() + 1], vals, sizeof vals);
    write_bytes(path, bytes);
    RawTensorMap t = read_safetensors(path);
    REQUIRE(t.size() == 4);
    const auto* base = static_cast<const char*>(t.at("a").owner.get());
    CHECK(static_cast<const char*>(t.at("b").data) == base + 8 + json.size() + 1);  // odd address
    float got[2];
    std::memcpy(got, t.at("b").data, sizeof got);
    CHECK(got[0] == 0.5f);
    CHECK(got[1] == -4.0f);
    CHECK(t.at("z").numel() == 0);
  }
  SECTION("no tensors at all") {
    write_bytes(path, file_with_header("{}      ", 0));
    CHECK(read_safetensors(path).empty());
  }
}

TEST_CASE("safetensors: missing or unreadable files are kFileNotFound", "[safetensors]") {
  TempDir dir;
  expect_error(dir.file("nope.safetensors"), StatusCode::kFileNotFound, "cannot open");
  expect_error(dir.path.string(), StatusCode::kFileNotFound, "regular file");
}

TEST_CASE("safetensors: hostile length prefixes are kInvalidModel", "[safetensors]") {
  TempDir dir;
  const std::string path = dir.file("hostile.safetensors");
  write_bytes(path, "");
  expect_error(path, StatusCode::kInvalidModel, "too short");
  write_bytes(path, std::string("\x10\0\0\0\0\0\0", 7));  // 7 bytes
  expect_error(path, StatusCode::kInvalidModel, "too short");
  write_bytes(path, le64(1ULL << 60) + "{}");
  expect_error(path, StatusCode::kInvalidModel, "exceeds the limit");
  write_bytes(path, le64(~0ULL) + "{}");
  expect_error(path, StatusCode::kInvalidModel, "exceeds the limit");
  write_bytes(path, le64(100'000'001) + "{}");
  expect_error(path, StatusCode::kInvalidModel, "exceeds the limit");
  write_bytes(path, le64(3) + "{}");  // one byte short of the claimed header
  expect_error(path, StatusCode::kInvalidModel, "exceeds the file");
  write_bytes(path, le64(0));
  expect_error(path, StatusCode::kInvalidModel, "not valid JSON");
}

TEST_CASE("safetensors: hostile headers are kInvalidModel naming the problem", "[safetensors]") {
  TempDir dir;
  const std::string ok = entry("F32", "[2]", "[0,8]");

  // Not JSON, or not an object.
  expect_invalid_header(dir, "{not json", 0, "not valid JSON");
  expect_invalid_header(dir, "{\"a\":" + ok, 8, "not valid JSON");         // truncated
  expect_invalid_header(dir, "{\"a\":" + ok + "} xx", 8, "not valid JSON");  // trailing garbage
  expect_invalid_header(dir, "{\"\xff\xfe\":" + ok + "}", 8, "not valid JSON");  // invalid UTF-8
  expect_invalid_header(dir, std::string("{\"a\":") + ok + std::string("}\0\0", 3), 8, "not valid JSON");
  expect_invalid_header(dir, "{\"a\":" + ok + "}" + std::string(1, '\0') + "{\"b\":1}", 8, "NUL byte");
  expect_invalid_header(dir, "[1,2]", 0, "not a JSON object");
  expect_invalid_header(dir, "\"str\"", 0, "not a JSON object");
  expect_invalid_header(dir, "{\"a\":5}", 0, "entry for tensor 'a' is not an object");
  expect_invalid_header(dir, "{\"a\":[1]}", 0, "entry for tensor 'a' is not an object");

  // dtype.
  expect_invalid_header(dir, "{\"a\":" + entry("F8_E4M3", "[2]", "[0,2]") + "}", 2, "unknown dtype 'F8_E4M3'");
  expect_invalid_header(dir, "{\"a\":" + entry("f32", "[2]", "[0,8]") + "}", 8, "unknown dtype 'f32'");
  expect_invalid_header(dir, R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8, "dtype is not a string");

  // shape.
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "5", "[0,8]") + "}", 8, "shape is not a list");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[-1,2]", "[0,8]") + "}", 8, "non-negative integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[1.5]", "[0,8]") + "}", 8, "non-negative integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[\"2\"]", "[0,8]") + "}", 8, "non-negative integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[[2]]", "[0,8]") + "}", 8, "non-negative integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") + "}", 4, "rank exceeds 8");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[18446744073709551615]", "[0,8]") + "}", 8, "too large");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[4294967296,4294967296,4]", "[0,8]") + "}", 8, "overflows");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[4611686018427387904]", "[0,8]") + "}", 8, "overflows");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[0,4294967296,4294967296]", "[0,0]") + "}", 0, "overflows");

  // data_offsets.
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "8") + "}", 8, "data_offsets is not a list");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[0]") + "}", 8, "two integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[0,8,8]") + "}", 8, "two integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[-8,0]") + "}", 8, "two non-negative integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[0,8.0]") + "}", 8, "two non-negative integers");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[0]", "[8,0]") + "}", 8, "begin is after end");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[0,8]") + "}", 7, "past the end of the data section");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[0,18446744073709551615]") + "}", 8, "past the end");
  expect_invalid_header(dir, "{\"a\":" + entry("F32", "[2]", "[0,12]") + "}", 12, "span 12 bytes but F32");
  expect_invalid_header(dir, "{\"a\":" + entry("BF16", "[2]", "[0,8]") + "}", 8, "needs 4");

  // Missing and repeated fields, overlap, duplicates.
  expect_invalid_header(dir, R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8, "tensor 'a': missing dtype");
  expect_invalid_header(dir, R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8, "missing shape");
  expect_invalid_header(dir, R"({"a":{"dtype":"F32","shape":[2]}})", 8, "missing data_offsets");
  expect_invalid_header(dir, R"({"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8,
                        "field 'dtype' repeated");
  expect_invalid_header(dir, "{\"a\":" + ok + ",\"b\":" + entry("F32", "[2]", "[4,12]") + "}", 12,
                        "tensors 'a' and 'b' overlap");
  expect_invalid_header(dir, "{\"a\":" + ok + ",\"b\":" + entry("U8", "[1]", "[7,8]") + "}", 8, "overlap");
  expect_invalid_header(dir, "{\"a\":" + ok + ",\"b\":" + entry("F32", "[2]", "[0,8]") + "}", 8, "overlap");
  expect_invalid_header(dir, "{\"a\":" + ok + ",\"a\":" + entry("F32", "[2]", "[8,16]") + "}", 16,
                        "duplicate tensor name 'a'");

  // __metadata__.
  expect_invalid_header(dir, R"({"__metadata__":{"k":5}})", 0, "__metadata__: value of 'k' is not a string");
  expect_invalid_header(dir, R"({"__metadata__":{"k":{"x":"y"}}})", 0, "value of 'k' is not a string");
  expect_invalid_header(dir, R"({"__metadata__":"pt"})", 0, "__metadata__ is not an object");
  expect_invalid_header(dir, R"({"__metadata__":{"k":"a","k":"b"}})", 0, "duplicate key 'k'");
  expect_invalid_header(dir, R"({"__metadata__":{},"__metadata__":{}})", 0, "duplicate key '__metadata__'");

  // A deeply nested unknown field cannot grow the parser's stack without bound.
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  expect_invalid_header(dir, R"({"a":{"x":)" + deep + R"(,"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8,
                        "nested too deeply");
  expect_invalid_header(dir, std::string(100000, '['), 0, "not a JSON object");
}
