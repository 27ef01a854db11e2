// pickle_builder.h — builds pickle bytes opcode by opcode, the way torch.save (protocol 2)
// lays them out, for tests of the restricted pytorch_model.bin reader (valid and hostile files).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tolk::test {

// Assembles pickle bytes opcode by opcode, the way torch.save (protocol 2) lays them out.
struct Pickle {
  std::string b;
  Pickle& op(char c) { b += c; return *this; }
  Pickle& raw(const std::string& s) { b += s; return *this; }
  Pickle& le(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) b += static_cast<char>(k < 8 ? (v >> (8 * k)) & 0xff : 0);
    return *this;
  }
  Pickle& proto() { return op('\x80').op('\x02'); }
  Pickle& global(const std::string& m, const std::string& n) {
    return op('c').raw(m + "\n" + n + "\n");
  }
  Pickle& str(const std::string& s) { return op('X').le(s.size(), 4).raw(s); }
  Pickle& integer(int64_t v) {
    if (v >= 0 && v < 256) return op('K').le(static_cast<uint64_t>(v), 1);
    return op('\x8a').op('\x08').le(static_cast<uint64_t>(v), 8);  // LONG1, 8 bytes
  }
  Pickle& ints(const std::vector<int64_t>& v) {
    op('(');
    for (int64_t x : v) integer(x);
    return op('t');
  }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
  // name → _rebuild_tensor_v2(storage(key, numel), offset, size, stride, False, OrderedDict()).
  Pickle& tensor(const std::string& name, const std::string& key, int64_t numel, int64_t offset,
                 const std::vector<int64_t>& size, const std::vector<int64_t>& stride,
                 const std::string& storage_type = "FloatStorage") {
    str(name).global("torch._utils", "_rebuild_tensor_v2").op('(');
    op('(').str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel);
    op('t').op('Q').integer(offset).ints(size).ints(stride).op('\x89').ordered_dict();
    return op('t').op('R');
  }
  Pickle& begin_dict() { return proto().ordered_dict().op('('); }
  Pickle& end_dict() { return op('u').op('.'); }
};

}  // namespace tolk::test
