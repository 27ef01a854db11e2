// pickle_vm.cc — the restricted pickle machine (see pickle_vm.h for the rules it enforces).
#include "model/pickle_vm.h"

#include <cstring>
#include <utility>

namespace tolk::model::pickle {

namespace {

// Names of every pickle opcode, so an error can say which one it met ("INST"), not only a byte.
const char* opcode_name(uint8_t op) {
  switch (op) {
    case '(': return "MARK";            case '.': return "STOP";
    case '0': return "POP";             case '1': return "POP_MARK";
    case '2': return "DUP";             case 'F': return "FLOAT";
    case 'I': return "INT";             case 'J': return "BININT";
    case 'K': return "BININT1";         case 'L': return "LONG";
    case 'M': return "BININT2";         case 'N': return "NONE";
    case 'P': return "PERSID";          case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";          case 'S': return "STRING";
    case 'T': return "BINSTRING";       case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";         case 'X': return "BINUNICODE";
    case 'a': return "APPEND";          case 'b': return "BUILD";
    case 'c': return "GLOBAL";          case 'd': return "DICT";
    case '}': return "EMPTY_DICT";      case 'e': return "APPENDS";
    case 'g': return "GET";             case 'h': return "BINGET";
    case 'i': return "INST";            case 'j': return "LONG_BINGET";
    case 'l': return "LIST";            case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";             case 'p': return "PUT";
    case 'q': return "BINPUT";          case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";         case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";     case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";        case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";  case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";         case 0x82: return "EXT1";
    case 0x83: return "EXT2";           case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";         case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";         case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";       case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";          case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";      case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";      case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";   case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";          case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

std::string hex_byte(uint8_t b) {
  static const char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 15];
}

}  // namespace

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') out += static_cast<char>(c);
    else out += "\\x" + hex_byte(c).substr(2);
  }
  return out;
}

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return "str";
    case Value::Kind::kTuple: return "tuple";
    case Value::Kind::kList: return "list";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kGlobal: return "global";
    case Value::Kind::kHost: return "object";
  }
  return "?";
}

Machine::Machine(Host& host, Limits limits) : host_(host), limits_(limits) {
  none_.kind = Value::Kind::kNone;
  true_.kind = false_.kind = Value::Kind::kBool;
  true_.i = 1;
}

Value* Machine::make(Value::Kind kind) {
  if (arena_.size() >= limits_.max_objects)
    throw PickleError("too many objects (limit " + std::to_string(limits_.max_objects) + ")");
  arena_.emplace_back();
  arena_.back().kind = kind;
  return &arena_.back();
}

const Value& Machine::run(const uint8_t* data, size_t size) {
  if (data_ != nullptr) throw PickleError("pickle machine reused");
  data_ = data;
  size_ = size;
  while (!stopped_) {
    if (pos_ >= size_)
      throw PickleError("pickle is truncated: no STOP opcode in its " + std::to_string(size_) +
                        " bytes");
    const size_t at = pos_;
    const uint8_t op = data_[pos_++];
    try {
      step(op);
    } catch (const PickleError& e) {
      const char* name = opcode_name(op);
      throw PickleError("pickle byte " + std::to_string(at) + ", opcode " +
                        (name ? std::string(name) + " (" + hex_byte(op) + ")"
                              : hex_byte(op) + " (unknown)") +
                        ": " + e.what());
    }
  }
  return *result_;
}

const uint8_t* Machine::take(uint64_t n, const char* what) {
  if (n > size_ - pos_)
    throw PickleError(std::string("truncated: ") + what + " needs " + std::to_string(n) +
                      " bytes but " + std::to_string(size_ - pos_) + " are left");
  const uint8_t* p = data_ + pos_;
  pos_ += static_cast<size_t>(n);
  return p;
}

uint64_t Machine::read_le(int bytes, const char* what) {
  const uint8_t* p = take(static_cast<uint64_t>(bytes), what);
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

std::string Machine::read_line(const char* what) {
  const size_t avail = size_ - pos_;
  const size_t scan = avail < limits_.max_global_len + 1 ? avail : limits_.max_global_len + 1;
  const void* nl = std::memchr(data_ + pos_, '\n', scan);
  if (nl == nullptr)
    throw PickleError(std::string(what) + " line is unterminated or longer than " +
                      std::to_string(limits_.max_global_len) + " bytes");
  const size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nl) - (data_ + pos_));
  std::string line(reinterpret_cast<const char*>(data_ + pos_), len);
  pos_ += len + 1;
  return line;
}

void Machine::push(Value* v) {
  if (stack_.size() >= limits_.max_stack)
    throw PickleError("stack too deep (limit " + std::to_string(limits_.max_stack) + ")");
  stack_.push_back(v);
}

// Python's unpickler starts a fresh stack at each MARK, so no opcode can reach below one.
Value* Machine::top() {
  const size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor) throw PickleError("stack underflow");
  return stack_.back();
}

Value* Machine::pop() {
  Value* v = top();
  stack_.pop_back();
  return v;
}

std::vector<Value*> Machine::pop_to_mark() {
  if (marks_.empty()) throw PickleError("no MARK on the stack");
  const size_t m = marks_.back();
  marks_.pop_back();
  std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return items;
}

Value* Machine::expect(Value* v, Value::Kind kind, const char* op) {
  if (!v->is(kind))
    throw PickleError(std::string(op) + " expects a " + kind_name(kind) + ", got a " +
                      kind_name(v->kind));
  return v;
}

void Machine::memo_put(uint64_t index, Value* v) {
  auto it = memo_.find(index);
  if (it != memo_.end()) {
    it->second = v;
    return;
  }
  if (memo_.size() >= limits_.max_memo)
    throw PickleError("memo too large (limit " + std::to_string(limits_.max_memo) + ")");
  memo_.emplace(index, v);
}

Value* Machine::memo_get(uint64_t index) {
  auto it = memo_.find(index);
  if (it == memo_.end()) throw PickleError("memo key " + std::to_string(index) + " is not set");
  return it->second;
}

void Machine::push_string(uint64_t len) {
  const uint8_t* p = take(len, "string");  // checked before any allocation
  Value* v = make(Value::Kind::kString);
  v->s.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
  push(v);
}

void Machine::push_global(const std::string& module, const std::string& name) {
  const int64_t id = host_.resolve_global(module, name);  // throws if not allowed
  Value* g = make(Value::Kind::kGlobal);
  g->i = id;
  g->s = module + "." + name;
  push(g);
}

void Machine::step(uint8_t op) {
  using K = Value::Kind;
  switch (op) {
    case 0x80: {  // PROTO
      const uint64_t proto = read_le(1, "PROTO");
      if (proto > 5) throw PickleError("unsupported pickle protocol " + std::to_string(proto));
      break;
    }
    case 0x95: {  // FRAME: only a read-ahead hint; the framed bytes follow inline
      if (read_le(8, "FRAME") > size_ - pos_) throw PickleError("frame runs past the end of data");
      break;
    }
    case '}': push(make(K::kDict)); break;
    case ')': push(make(K::kTuple)); break;
    case ']': push(make(K::kList)); break;
    case '(':
      if (marks_.size() >= limits_.max_marks) throw PickleError("too many open MARKs");
      marks_.push_back(stack_.size());
      break;
    case 't': {
      std::vector<Value*> items = pop_to_mark();
      Value* t = make(K::kTuple);
      t->items = std::move(items);
      push(t);
      break;
    }
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      std::vector<Value*> items(static_cast<size_t>(op - 0x84));
      for (size_t k = items.size(); k > 0; --k) items[k - 1] = pop();
      Value* t = make(K::kTuple);
      t->items = std::move(items);
      push(t);
      break;
    }
    case 'X': push_string(read_le(4, "BINUNICODE length")); break;
    case 0x8c: push_string(read_le(1, "SHORT_BINUNICODE length")); break;
    case 0x8d: push_string(read_le(8, "BINUNICODE8 length")); break;
    case 'J': case 'K': case 'M': {  // BININT (signed 32), BININT1, BININT2 (unsigned)
      const int bytes = op == 'J' ? 4 : op == 'K' ? 1 : 2;
      const uint64_t raw = read_le(bytes, "integer");
      Value* v = make(K::kInt);
      v->i = op == 'J' ? static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(raw)))
                       : static_cast<int64_t>(raw);
      push(v);
      break;
    }
    case 0x8a: {  // LONG1: little-endian two's complement of n bytes
      const uint64_t n = read_le(1, "LONG1 length");
      if (n > 8) throw PickleError("integer of " + std::to_string(n) + " bytes exceeds 64 bits");
      const uint64_t raw = n == 0 ? 0 : read_le(static_cast<int>(n), "LONG1 value");
      uint64_t u = raw;
      if (n > 0 && n < 8 && (raw >> (8 * n - 1)) & 1) u |= ~uint64_t{0} << (8 * n);  // sign-extend
      Value* v = make(K::kInt);
      std::memcpy(&v->i, &u, sizeof u);
      push(v);
      break;
    }
    case 'G': {  // BINFLOAT: big-endian IEEE double
      const uint8_t* p = take(8, "BINFLOAT");
      uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits = (bits << 8) | p[k];
      Value* v = make(K::kFloat);
      std::memcpy(&v->f, &bits, sizeof bits);
      push(v);
      break;
    }
    case 0x88: push(&true_); break;
    case 0x89: push(&false_); break;
    case 'N': push(&none_); break;
    case 'q': memo_put(read_le(1, "BINPUT"), top()); break;
    case 'r': memo_put(read_le(4, "LONG_BINPUT"), top()); break;
    case 0x94: memo_put(memo_.size(), top()); break;  // MEMOIZE
    case 'h': push(memo_get(read_le(1, "BINGET"))); break;
    case 'j': push(memo_get(read_le(4, "LONG_BINGET"))); break;
    case 'c': {
      std::string module = read_line("GLOBAL module");
      std::string name = read_line("GLOBAL name");
      push_global(module, name);
      break;
    }
    case 0x93: {  // STACK_GLOBAL
      const Value* name = expect(pop(), K::kString, "STACK_GLOBAL");
      const Value* module = expect(pop(), K::kString, "STACK_GLOBAL");
      push_global(module->s, name->s);
      break;
    }
    case 'R': {
      const Value* args = expect(pop(), K::kTuple, "REDUCE");
      const Value* callable = expect(pop(), K::kGlobal, "REDUCE");
      Value* result = host_.reduce(*this, *callable, *args);
      if (result == nullptr) throw PickleError("REDUCE of " + printable(callable->s) + " failed");
      push(result);
      break;
    }
    case 'b': {
      // Only OrderedDict reaches BUILD in torch.save output; its state is the `_metadata`
      // attribute (module versions), which weights do not need. The state is dropped, unread.
      pop();
      expect(top(), K::kDict, "BUILD");
      break;
    }
    case 's': {
      Value* value = pop();
      Value* key = pop();
      Value* dict = expect(top(), K::kDict, "SETITEM");
      dict->items.push_back(key);
      dict->items.push_back(value);
      break;
    }
    case 'u': {
      std::vector<Value*> items = pop_to_mark();
      if (items.size() % 2 != 0) throw PickleError("odd number of items for SETITEMS");
      Value* dict = expect(top(), K::kDict, "SETITEMS");
      dict->items.insert(dict->items.end(), items.begin(), items.end());
      break;
    }
    case 'a': {
      Value* value = pop();
      expect(top(), K::kList, "APPEND")->items.push_back(value);
      break;
    }
    case 'e': {
      std::vector<Value*> items = pop_to_mark();
      Value* list = expect(top(), K::kList, "APPENDS");
      list->items.insert(list->items.end(), items.begin(), items.end());
      break;
    }
    case 'Q': {
      const Value* pid = pop();
      Value* result = host_.persistent_load(*this, *pid);
      if (result == nullptr) throw PickleError("persistent load failed");
      push(result);
      break;
    }
    case '.':
      result_ = pop();
      stopped_ = true;
      break;
    default:
      throw PickleError("opcode not supported by this restricted reader");
  }
}

}  // namespace tolk::model::pickle
