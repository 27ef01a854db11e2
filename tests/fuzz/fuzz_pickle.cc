// fuzz_pickle.cc — libFuzzer target for the restricted unpickler behind the `.bin` reader
// (model/pickle_vm.cc).
//
// The input is the raw data.pkl stream. read_torch_bin needs LibTorch's zip reader, so this target
// drives pickle::Machine directly with a host of its own that allows the same globals a state
// dict uses (OrderedDict, torch._utils._rebuild_*, torch.*Storage) and answers REDUCE and
// BINPERSID with host objects. The machine documents PickleError as its only failure, so that is
// all this harness catches: anything else escaping (std::bad_alloc, std::out_of_range, …), a hang,
// a leak or a memory error is a bug. The result graph is walked (cycle-safe) so that ASan checks
// every pointer the machine hands out.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "model/pickle_vm.h"

namespace {

using tolk::model::pickle::Host;
using tolk::model::pickle::Machine;
using tolk::model::pickle::PickleError;
using tolk::model::pickle::Value;
using Kind = Value::Kind;

class FuzzHost : public Host {
 public:
  int64_t resolve_global(const std::string& module, const std::string& name) override {
    static const char* const kAllowed[][2] = {
        {"collections", "OrderedDict"},     {"torch._utils", "_rebuild_tensor_v2"},
        {"torch._utils", "_rebuild_tensor"}, {"torch._utils", "_rebuild_parameter"},
        {"torch", "FloatStorage"},          {"torch", "HalfStorage"},
        {"torch", "BFloat16Storage"},       {"torch", "LongStorage"},
    };
    for (size_t i = 0; i < sizeof kAllowed / sizeof kAllowed[0]; ++i)
      if (module == kAllowed[i][0] && name == kAllowed[i][1]) return static_cast<int64_t>(i) + 1;
    throw PickleError("global not allowed");
  }

  Value* reduce(Machine& vm, const Value& callable, const Value& args) override {
    if (!callable.is(Kind::kGlobal) || !args.is(Kind::kTuple)) std::abort();  // VM's contract
    if (callable.i == 1) return vm.make(Kind::kDict);
    if (callable.i == 4) {  // _rebuild_parameter returns its first argument, as the real host does
      if (args.items.empty()) throw PickleError("no tensor");
      return args.items[0];
    }
    Value* v = vm.make(Kind::kHost);
    v->host_tag = 1;
    v->i = static_cast<int64_t>(args.items.size());
    return v;
  }

  Value* persistent_load(Machine& vm, const Value& pid) override {
    if (!pid.is(Kind::kTuple) || pid.items.size() != 5) throw PickleError("bad persistent id");
    Value* v = vm.make(Kind::kHost);
    v->host_tag = 2;
    return v;
  }
};

// Visits every reachable value once; reading each field lets ASan check the pointer.
size_t walk(const Value& root) {
  std::unordered_set<const Value*> seen;
  std::vector<const Value*> todo{&root};
  size_t bytes = 0;
  while (!todo.empty()) {
    const Value* v = todo.back();
    todo.pop_back();
    if (v == nullptr) std::abort();  // the machine never stores null children
    if (!seen.insert(v).second) continue;
    bytes += v->s.size() + static_cast<size_t>(v->kind);
    if (v->is(Kind::kDict) && v->items.size() % 2 != 0) std::abort();
    for (const Value* child : v->items) todo.push_back(child);
    (void)tolk::model::pickle::kind_name(v->kind);
  }
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzHost host;
  Machine vm(host);
  try {
    const Value& root = vm.run(data, size);
    volatile size_t sink = walk(root);
    (void)sink;
    // Error messages quote names through printable(); it must stay within printable ASCII.
    for (char c : tolk::model::pickle::printable(root.s))
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) std::abort();
  } catch (const PickleError& e) {
    // printable() must have escaped every byte the message quotes from the input.
    for (const char* p = e.what(); *p; ++p)
      if (*p == '\n' || *p == '\r') std::abort();
  }
  return 0;
}
