// pickle_vm.h — a restricted pickle machine for reading untrusted torch.save data.
//
// Python's pickle is a program: GLOBAL + REDUCE calls any importable function. A weight file from
// the internet must never be able to do that, so this machine implements only the opcodes that
// torch.save emits (protocol 2, plus the few protocol 4 ones) and never calls anything itself.
// Every GLOBAL, REDUCE, BINPERSID goes to a Host that decides what the name means; a host that does
// not recognise a global throws. The machine knows nothing of torch (see torch_bin_reader.cc).
//
// Hostile-input rules it enforces: every length is checked against the bytes left before anything
// is allocated; stack, mark stack, memo and object count are bounded; every operand is type
// checked; any other opcode is an error naming it. Objects live in an arena owned by the machine
// and refer to each other by raw pointer, so cyclic (a list appended to itself) or deeply nested
// input can neither leak nor overflow the C++ stack on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace tolk::model::pickle {

// Thrown for any malformed, hostile or unsupported pickle. The caller adds the file name.
class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Value {
  enum class Kind : uint8_t {
    kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kHost
  };
  Kind kind = Kind::kNone;
  // kBool (0/1), kInt, kGlobal (the id the host returned), kHost (the host's handle).
  int64_t i = 0;
  // kHost: the host's own tag telling what the handle indexes.
  int host_tag = 0;
  double f = 0.0;
  // kString: the text; kGlobal: "module.name".
  std::string s;
  // kTuple / kList: the elements; kDict: keys and values interleaved (k0, v0, k1, v1, …).
  std::vector<Value*> items;

  bool is(Kind k) const { return kind == k; }
  size_t dict_size() const { return items.size() / 2; }
};

// Human-readable kind name for error messages ("str", "tuple", …).
const char* kind_name(Value::Kind kind);
// `s` with bytes outside printable ASCII (and backslash) escaped as \xNN, so names taken from a
// hostile file cannot inject control characters into error messages and logs.
std::string printable(const std::string& s);

class Machine;

// What a GLOBAL, REDUCE or BINPERSID means. Implementations throw PickleError to refuse.
class Host {
 public:
  virtual ~Host() = default;
  // Returns an id for an allowed global; throws for any other.
  virtual int64_t resolve_global(const std::string& module, const std::string& name) = 0;
  // REDUCE: `callable` is a kGlobal value, `args` a kTuple.
  virtual Value* reduce(Machine& vm, const Value& callable, const Value& args) = 0;
  // BINPERSID: `pid` is whatever was on the stack.
  virtual Value* persistent_load(Machine& vm, const Value& pid) = 0;
};

struct Limits {
  size_t max_stack = size_t{1} << 20;    // values on the stack at once
  size_t max_marks = size_t{1} << 16;    // open MARKs
  size_t max_memo = size_t{1} << 20;     // memo entries
  size_t max_objects = size_t{1} << 21;  // objects created in total (bounds memory to ~200 MB)
  size_t max_global_len = 256;           // bytes of one GLOBAL module or name line
};

class Machine {
 public:
  explicit Machine(Host& host, Limits limits = Limits());
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Runs `data` up to STOP and returns the unpickled object. It lives as long as the machine.
  // Call once per machine. Throws PickleError naming the byte offset and the problem.
  const Value& run(const uint8_t* data, size_t size);

  // Allocates a new object in the arena (for hosts building results). Counts toward max_objects.
  Value* make(Value::Kind kind);

 private:
  void step(uint8_t op);
  // Input readers: each checks the bytes left first.
  const uint8_t* take(uint64_t n, const char* what);
  uint64_t read_le(int bytes, const char* what);
  std::string read_line(const char* what);
  // Stack helpers; pops never go below the innermost MARK.
  void push(Value* v);
  Value* pop();
  Value* top();
  std::vector<Value*> pop_to_mark();
  Value* expect(Value* v, Value::Kind kind, const char* op);
  void memo_put(uint64_t index, Value* v);
  Value* memo_get(uint64_t index);
  void push_string(uint64_t len);
  void push_global(const std::string& module, const std::string& name);

  Host& host_;
  Limits limits_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;
  bool stopped_ = false;
  Value* result_ = nullptr;
  std::deque<Value> arena_;  // deque: stable addresses, no per-object allocation
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
  Value none_, true_, false_;  // shared immutable singletons
};

}  // namespace tolk::model::pickle
