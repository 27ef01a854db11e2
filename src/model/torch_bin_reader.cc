// torch_bin_reader.cc — the torch-specific half of reading pytorch_model.bin: which globals a
// state dict may name, what a storage persistent id means, how _rebuild_tensor_v2 builds a view,
// and the bounds checks that keep every view inside its storage. The pickle opcodes themselves
// are pickle_vm.cc's job; the zip is PyTorchStreamReader's.
#include "model/torch_bin_reader.h"

#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <utility>
#include <vector>

#include "model/pickle_vm.h"
#include "tolk/status.h"

namespace tolk::model {
namespace {

using pickle::Machine;
using pickle::PickleError;
using pickle::printable;
using pickle::Value;
using K = Value::Kind;

// Ids the host hands the machine for the allowed globals. Storage classes are kStorageBase + index
// into kStorageTypes.
enum GlobalId : int64_t { kOrderedDict = 1, kRebuildTensorV2, kRebuildTensor, kRebuildParameter };
constexpr int64_t kStorageBase = 100;

struct StorageType {
  const char* name;
  DType dtype;
};
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", DType::kF32}, {"HalfStorage", DType::kF16}, {"BFloat16Storage", DType::kBF16},
    {"DoubleStorage", DType::kF64}, {"LongStorage", DType::kI64}, {"IntStorage", DType::kI32},
    {"ShortStorage", DType::kI16}, {"CharStorage", DType::kI8}, {"ByteStorage", DType::kU8},
    {"BoolStorage", DType::kBool},
};

// Host-object tags (Value::host_tag).
constexpr int kTagStorage = 1;
constexpr int kTagTensor = 2;
// More dims than any weight has; bounds the work a hostile size tuple can ask for.
constexpr size_t kMaxDims = 64;

// One `data/<key>` record, read once and shared by every tensor viewing it.
struct Storage {
  c10::DataPtr bytes;
  DType dtype = DType::kF32;
  int64_t numel = 0;
};

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw PickleError(std::string(what) + " overflows 64 bits");
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw PickleError(std::string(what) + " overflows 64 bits");
  return r;
}

std::vector<int64_t> int_tuple(const Value& v, const char* what) {
  if (!v.is(K::kTuple))
    throw PickleError(std::string(what) + " must be a tuple, got a " + pickle::kind_name(v.kind));
  if (v.items.size() > kMaxDims)
    throw PickleError(std::string(what) + " has " + std::to_string(v.items.size()) + " dims");
  std::vector<int64_t> out;
  for (const Value* e : v.items) {
    if (!e->is(K::kInt))
      throw PickleError(std::string(what) + " holds a " + pickle::kind_name(e->kind));
    if (e->i < 0) throw PickleError(std::string(what) + " holds a negative value");
    out.push_back(e->i);
  }
  return out;
}

class TorchHost : public pickle::Host {
 public:
  explicit TorchHost(caffe2::serialize::PyTorchStreamReader& zip) : zip_(zip) {}

  int64_t resolve_global(const std::string& module, const std::string& name) override {
    if (module == "collections" && name == "OrderedDict") return kOrderedDict;
    if (module == "torch._utils" && name == "_rebuild_tensor_v2") return kRebuildTensorV2;
    if (module == "torch._utils" && name == "_rebuild_tensor") return kRebuildTensor;
    if (module == "torch._utils" && name == "_rebuild_parameter") return kRebuildParameter;
    if (module == "torch") {
      for (size_t k = 0; k < std::size(kStorageTypes); ++k)
        if (name == kStorageTypes[k].name) return kStorageBase + static_cast<int64_t>(k);
    }
    throw PickleError("pickle global '" + printable(module + "." + name) + "' is not allowed");
  }

  Value* reduce(Machine& vm, const Value& callable, const Value& args) override {
    switch (callable.i) {
      case kOrderedDict:  // OrderedDict(): the items follow as SETITEMS
        if (!args.items.empty()) throw PickleError("OrderedDict called with arguments");
        return vm.make(K::kDict);
      case kRebuildTensorV2: return rebuild_tensor(vm, args, "_rebuild_tensor_v2", 6, 7);
      case kRebuildTensor: return rebuild_tensor(vm, args, "_rebuild_tensor", 4, 4);
      case kRebuildParameter: {  // (tensor, requires_grad, backward_hooks): the tensor itself
        if (args.items.size() != 3 || !is_tensor(*args.items[0]))
          throw PickleError("_rebuild_parameter expects (tensor, requires_grad, hooks)");
        return args.items[0];
      }
      default:
        throw PickleError("pickle global '" + printable(callable.s) + "' cannot be called");
    }
  }

  // ('storage', <StorageType>, key, location, numel) → the storage, read from `data/<key>`.
  Value* persistent_load(Machine& vm, const Value& pid) override {
    const auto& it = pid.items;
    if (!pid.is(K::kTuple) || it.size() != 5 || !it[0]->is(K::kString) || it[0]->s != "storage")
      throw PickleError("persistent id is not a ('storage', type, key, location, numel) tuple");
    if (!it[1]->is(K::kGlobal) || it[1]->i < kStorageBase)
      throw PickleError("persistent id names '" + printable(it[1]->s) + "', not a storage type");
    if (!it[2]->is(K::kString) || !it[3]->is(K::kString) || !it[4]->is(K::kInt))
      throw PickleError("storage key and location must be str and numel an int");
    if (it[4]->i < 0) throw PickleError("storage numel is negative");
    const DType dtype = kStorageTypes[it[1]->i - kStorageBase].dtype;
    const std::string& key = it[2]->s;
    const int64_t numel = it[4]->i;

    auto found = by_key_.find(key);
    size_t index = 0;
    if (found != by_key_.end()) {  // torch.save memoizes, but a repeated id must agree
      index = found->second;
      if (storages_[index]->dtype != dtype || storages_[index]->numel != numel)
        throw PickleError("storage '" + printable(key) + "' is declared twice, differently");
    } else {
      index = storages_.size();
      storages_.push_back(load_storage(key, dtype, numel));
      by_key_.emplace(key, index);
    }
    Value* v = vm.make(K::kHost);
    v->host_tag = kTagStorage;
    v->i = static_cast<int64_t>(index);
    return v;
  }

  static bool is_tensor(const Value& v) { return v.is(K::kHost) && v.host_tag == kTagTensor; }
  const RawTensor& tensor(const Value& v) const { return tensors_.at(static_cast<size_t>(v.i)); }

 private:
  std::shared_ptr<Storage> load_storage(const std::string& key, DType dtype, int64_t numel) {
    const std::string record = "data/" + key;
    auto storage = std::make_shared<Storage>();
    size_t size = 0;
    try {
      if (!zip_.hasRecord(record))
        throw PickleError("storage record '" + printable(record) + "' is missing");
      std::tie(storage->bytes, size) = zip_.getRecord(record);
    } catch (const c10::Error& e) {
      throw PickleError("reading record '" + printable(record) + "': " +
                        e.what_without_backtrace());
    }
    const int64_t nbytes =
        checked_mul(numel, static_cast<int64_t>(dtype_size(dtype)), "storage size");
    if (static_cast<uint64_t>(nbytes) != size)
      throw PickleError("storage '" + printable(key) + "' declares " + std::to_string(numel) + " " +
                        dtype_name(dtype) + " elements (" + std::to_string(nbytes) +
                        " bytes) but its record holds " + std::to_string(size) + " bytes");
    storage->dtype = dtype;
    storage->numel = numel;
    return storage;
  }

  // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]]).
  // requires_grad, hooks and metadata are type-checked where cheap and otherwise ignored: hooks
  // are never called, and a weight needs neither gradients nor metadata.
  Value* rebuild_tensor(Machine& vm, const Value& args, const char* fn, size_t min_args,
                        size_t max_args) {
    const auto& a = args.items;
    if (a.size() < min_args || a.size() > max_args)
      throw PickleError(std::string(fn) + " called with " + std::to_string(a.size()) +
                        " arguments");
    if (!a[0]->is(K::kHost) || a[0]->host_tag != kTagStorage)
      throw PickleError(std::string(fn) + ": first argument is not a storage");
    if (!a[1]->is(K::kInt) || a[1]->i < 0)
      throw PickleError(std::string(fn) + ": storage offset is not a non-negative int");
    if (a.size() >= 6 && (!a[4]->is(K::kBool) || !a[5]->is(K::kDict)))
      throw PickleError(std::string(fn) + ": requires_grad must be a bool and hooks a dict");
    const std::shared_ptr<Storage>& storage = storages_[static_cast<size_t>(a[0]->i)];
    RawTensor t;
    t.dtype = storage->dtype;
    t.shape = int_tuple(*a[2], "tensor size");
    t.strides = int_tuple(*a[3], "tensor stride");
    if (t.shape.size() != t.strides.size())
      throw PickleError(std::string(fn) + ": size and stride have different lengths");
    const int64_t offset = a[1]->i;
    check_bounds(t.shape, t.strides, offset, storage->numel);

    const char* base = static_cast<const char*>(storage->bytes.get());
    t.data = base == nullptr ? nullptr : base + offset * static_cast<int64_t>(dtype_size(t.dtype));
    // Aliasing constructor: every view of this storage shares (and keeps alive) one buffer.
    t.owner = std::shared_ptr<const void>(storage, storage->bytes.get());
    tensors_.push_back(std::move(t));
    Value* v = vm.make(K::kHost);
    v->host_tag = kTagTensor;
    v->i = static_cast<int64_t>(tensors_.size() - 1);
    return v;
  }

  // Every element the view addresses must lie in [0, numel): the last one is at
  // offset + Σ (size_d - 1) * stride_d. An empty view addresses nothing but its offset must still
  // lie within the storage. The product of the non-zero dims must fit int64, as the safetensors
  // reader also guarantees, so consumers computing numel or strides cannot overflow. A view may
  // not have more elements than its storage: only a self-overlapping (expanded, stride-0) view
  // could, weights never are, and it would let a tiny file ask for a huge materialized tensor.
  static void check_bounds(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                           int64_t offset, int64_t numel) {
    int64_t nonzero = 1;
    bool empty = false;
    for (int64_t d : shape) {
      if (d == 0) empty = true;
      else nonzero = checked_mul(nonzero, d, "tensor element count");
    }
    if (empty) {
      if (offset > numel) throw PickleError("empty tensor's offset lies past its storage");
      return;
    }
    if (nonzero > numel)
      throw PickleError("tensor has " + std::to_string(nonzero) +
                        " elements, more than its storage's " + std::to_string(numel));
    int64_t last = offset;
    for (size_t d = 0; d < shape.size(); ++d)
      last = checked_add(last, checked_mul(shape[d] - 1, strides[d], "tensor extent"),
                         "tensor extent");
    if (last >= numel)
      throw PickleError("tensor view (offset " + std::to_string(offset) + ", last element " +
                        std::to_string(last) + ") runs past its storage of " +
                        std::to_string(numel) + " elements");
  }

  caffe2::serialize::PyTorchStreamReader& zip_;
  std::vector<std::shared_ptr<Storage>> storages_;
  std::map<std::string, size_t> by_key_;
  std::vector<RawTensor> tensors_;
};

// Rejects what is not a torch zip before LibTorch sees it, with a message a user can act on.
void check_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st))
    throw Error(StatusCode::kFileNotFound, path + ": file not found");
  if (!std::filesystem::is_regular_file(st))
    throw Error(StatusCode::kFileNotFound, path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(StatusCode::kFileNotFound, path + ": cannot open file");
  char head[14] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  if (got == 0) throw Error(StatusCode::kInvalidModel, path + ": file is empty");
  if (got >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return;
  // Legacy torch.save: a protocol-2 pickle of the magic number 0x1950a86a20f9469cfc6c.
  static const char kLegacy[14] = {'\x80', '\x02', '\x8a', '\x0a', '\x6c', '\xfc', '\x9c',
                                   '\x46', '\xf9', '\x20', '\x6a', '\xa8', '\x50', '\x19'};
  if (got == sizeof head && std::memcmp(head, kLegacy, sizeof head) == 0)
    throw Error(StatusCode::kUnsupportedModel,
                path + ": legacy (pre-1.6, non-zip) torch.save format is not supported; "
                       "re-save it with torch >= 1.6 or convert it to safetensors");
  throw Error(StatusCode::kInvalidModel, path + ": not a zip archive, so not a torch.save file");
}

RawTensorMap read_checked(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader zip(path);
  if (zip.hasRecord("byteorder")) {
    auto [ptr, size] = zip.getRecord("byteorder");
    const std::string order(static_cast<const char*>(ptr.get()), size);
    if (order != "little")
      throw Error(StatusCode::kUnsupportedModel,
                  path + ": storages are stored '" + printable(order) + "'-endian; only little "
                         "is supported");
  }
  if (!zip.hasRecord("data.pkl"))
    throw Error(StatusCode::kInvalidModel, path + ": archive has no data.pkl record");
  auto [pkl, pkl_size] = zip.getRecord("data.pkl");

  TorchHost host(zip);
  Machine vm(host);
  const Value& root = vm.run(static_cast<const uint8_t*>(pkl.get()), pkl_size);
  if (!root.is(K::kDict))
    throw PickleError(std::string("top-level object is a ") + pickle::kind_name(root.kind) +
                      ", expected a dict of name -> tensor");
  RawTensorMap out;
  for (size_t k = 0; k + 1 < root.items.size(); k += 2) {
    const Value& key = *root.items[k];
    const Value& value = *root.items[k + 1];
    if (!key.is(K::kString))
      throw PickleError(std::string("state dict key is a ") + pickle::kind_name(key.kind));
    if (!TorchHost::is_tensor(value))
      throw PickleError("state dict entry '" + printable(key.s) + "' is a " +
                        pickle::kind_name(value.kind) + ", not a tensor");
    if (!out.emplace(key.s, host.tensor(value)).second)
      throw PickleError("state dict has two entries named '" + printable(key.s) + "'");
  }
  return out;
}

}  // namespace

RawTensorMap read_torch_bin(const std::string& path) {
  check_file(path);
  try {
    return read_checked(path);
  } catch (const Error&) {
    throw;
  } catch (const PickleError& e) {
    throw Error(StatusCode::kInvalidModel, path + ": " + e.what());
  } catch (const c10::Error& e) {
    throw Error(StatusCode::kInvalidModel,
                path + ": cannot read it as a torch zip archive: " + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw Error(StatusCode::kInvalidModel,
                path + ": out of memory while reading (a record claims an impossible size?)");
  } catch (const std::exception& e) {
    throw Error(StatusCode::kInvalidModel, path + ": " + e.what());
  }
}

}  // namespace tolk::model
