#!/usr/bin/env python3
"""make_seeds.py — writes the committed seed corpora under tests/fuzz/corpus/.

Seeds are small valid inputs plus slightly broken ones (each aimed at one check in the readers),
so the fuzzers start past the format's front door. Standard library only. Rerun after changing
it; the output is deterministic. Usage: python3 tests/fuzz/make_seeds.py
"""
import json
import os
import pickle
import struct
import sys
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEV = os.path.join(ROOT, "tests", "data", "dev")
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def dev(name):
    with open(os.path.join(DEV, name), "rb") as f:
        return f.read()


# --- safetensors -------------------------------------------------------------------------------
def safetensors(header, data=b"", pad=True, length=None):
    h = json.dumps(header, separators=(",", ":")).encode() if not isinstance(header, bytes) else header
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def st_seeds():
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.25)
    i64 = struct.pack("<q", 7)
    good = {"__metadata__": {"format": "pt"},
            "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
            "n": {"dtype": "I64", "shape": [], "data_offsets": [16, 24]}}
    put("safetensors", "valid_two_tensors", safetensors(good, f32 + i64))
    put("safetensors", "valid_empty", safetensors({}))
    put("safetensors", "valid_zero_dim", safetensors(
        {"z": {"dtype": "BF16", "shape": [0, 4], "data_offsets": [0, 0]},
         "b": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}, b"\x01\x00\x01"))
    put("safetensors", "header_len_2p60", safetensors(good, f32 + i64, length=1 << 60))
    put("safetensors", "header_len_past_eof", safetensors(good, f32 + i64, length=4096))
    put("safetensors", "truncated_data", safetensors(good, f32))
    put("safetensors", "overlapping", safetensors(
        {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
         "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32))
    put("safetensors", "shape_mismatch", safetensors(
        {"a": {"dtype": "F16", "shape": [3], "data_offsets": [0, 8]}}, f32[:8]))
    put("safetensors", "huge_shape", safetensors(
        {"a": {"dtype": "F64", "shape": [1 << 40, 1 << 40, 16], "data_offsets": [0, 8]}}, f32[:8]))
    put("safetensors", "bad_dtype", safetensors(
        {"a": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, f32[:4]))
    put("safetensors", "negative_offset", safetensors(
        {"a": {"dtype": "U8", "shape": [4], "data_offsets": [-4, 0]}}, f32[:4]))
    put("safetensors", "dup_name", safetensors(
        b'{"a":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},'
        b'"a":{"dtype":"I8","shape":[1],"data_offsets":[1,2]}}', b"\x01\x02"))
    put("safetensors", "not_utf8_header", safetensors(b'{"\xff\xfe":{}}'))
    put("safetensors", "short", b"\x10\x00\x00")


# --- pickle (data.pkl of torch.save) -------------------------------------------------------------
def fake_torch():
    """Module objects named like torch's, so the stdlib pickler emits torch.save's globals."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    def _rebuild_tensor_v2(*a):
        pass

    class FloatStorage:
        pass

    class HalfStorage:
        pass

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    for cls in (FloatStorage, HalfStorage):
        cls.__module__ = "torch"
        cls.__qualname__ = cls.__name__
        setattr(torch, cls.__name__, cls)
    torch._utils = utils
    sys.modules["torch"] = torch
    sys.modules["torch._utils"] = utils
    return torch, utils


class Tensor:
    def __init__(self, storage_type, key, numel, offset, size, stride):
        self.args = (storage_type, key, numel, offset, size, stride)

    def __reduce__(self):
        st, key, numel, offset, size, stride = self.args
        import collections
        return (sys.modules["torch._utils"]._rebuild_tensor_v2,
                (Storage(st, key, numel), offset, size, stride, False, collections.OrderedDict()))


class Storage:
    def __init__(self, st, key, numel):
        self.pid = ("storage", st, key, "cpu", numel)


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, Storage) else None


def dumps(obj, protocol=2):
    import io
    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def pickle_seeds():
    import collections
    torch, _ = fake_torch()
    sd = collections.OrderedDict()
    sd["w"] = Tensor(torch.FloatStorage, "0", 4, 0, (2, 2), (2, 1))
    sd["w_t"] = Tensor(torch.FloatStorage, "0", 4, 0, (2, 2), (1, 2))
    sd["b"] = Tensor(torch.HalfStorage, "1", 3, 1, (2,), (1,))
    put("pickle", "state_dict_p2", dumps(sd, 2))
    put("pickle", "state_dict_p4", dumps(sd, 4))  # FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL
    with zipfile.ZipFile(os.path.join(ROOT, "tests", "data", "dev-bin", "pytorch_model.bin")) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        put("pickle", "dev_data_pkl", z.read(name))
    put("pickle", "plain_values", pickle.dumps(
        [None, True, False, 1, -1, 255, 65535, 1 << 40, -(1 << 70), 1.5, "é", (1,), (1, 2), (1, 2, 3),
         {"k": [1]}], 2))
    put("pickle", "cyclic_list", b"\x80\x02]q\x00h\x00a.")   # a list appended to itself
    put("pickle", "deep_nesting", b"\x80\x02" + b"(" * 2000 + b")" + b"t" * 2000 + b".")
    put("pickle", "os_system", b"cos\nsystem\n(S'echo hi'\ntR.")
    put("pickle", "truncated", dumps(sd, 2)[:60])
    put("pickle", "binunicode_huge_len", b"\x80\x02X\xff\xff\xff\x7fabc.")
    put("pickle", "memo_get_missing", b"\x80\x02h\x05.")


# --- config.json / generation_config.json --------------------------------------------------------
def config_seeds():
    put("config_json", "dev_config.json", dev("config.json"))
    put("config_json", "dev_generation_config.json", dev("generation_config.json"))
    c = json.loads(dev("config.json"))
    for name, change in [("heads_not_dividing", {"encoder_attention_heads": 3}),
                         ("vocab_u64", {"vocab_size": 18446744073709551615}),
                         ("eos_out_of_range", {"eos_token_id": 454}),
                         ("gelu_new_eps", {"activation_function": "gelu_new", "layer_norm_eps": 1e-6}),
                         ("wrong_types", {"d_model": "64", "scale_embedding": 1}),
                         ("other_arch", {"model_type": "bart"})]:
        put("config_json", name, json.dumps({**c, **change}, indent=1))
    put("config_json", "generation_full", json.dumps(
        {"max_length": 200, "num_beams": 4, "eos_token_id": [2], "forced_bos_token_id": 300,
         "early_stopping": "never", "length_penalty": 1.0, "top_p": 0.9, "do_sample": False}))
    put("config_json", "not_object", "[1, 2, 3]")
    put("config_json", "truncated", dev("config.json")[:200])


# --- tokenizer_config.json / special_tokens_map.json (first byte: the layout, see the harness) ---
def tokenizer_seeds():
    cfg, stm = dev("tokenizer_config.json"), dev("special_tokens_map.json")
    put("tokenizer_json", "dev_config_alone", b"\x00" + cfg)
    put("tokenizer_json", "dev_config_with_map", b"\x02" + cfg)
    put("tokenizer_json", "dev_map_with_config", b"\x03" + stm)
    put("tokenizer_json", "dev_map_alone", b"\x01" + stm)
    small = {"added_tokens_decoder": {
        "0": {"content": "<s>"}, "1": {"content": "<pad>"}, "2": {"content": "</s>"},
        "3": {"content": "<unk>"}, "251": {"content": "eng_Latn", "special": True},
        "460": {"content": "<mask>", "lstrip": True}},
        "additional_special_tokens": ["xyz_Latn", {"content": "<extra>", "rstrip": True}],
        "legacy_behaviour": True, "mask_token": {"content": "<mask>", "lstrip": True}}
    put("tokenizer_json", "small_config", b"\x00" + json.dumps(small).encode())
    put("tokenizer_json", "dup_id", b"\x00" + json.dumps(
        {"added_tokens_decoder": {"300": {"content": "a"}, "301": {"content": "a"}, "302": {"content": "b"},
                                  "303": {"content": "b"}}}).encode())
    put("tokenizer_json", "bad_ids", b"\x00" + json.dumps(
        {"added_tokens_decoder": {"99999999999": {"content": "x"}, "+5": {"content": "y"}}}).encode())
    put("tokenizer_json", "id_in_spm_range", b"\x00" + json.dumps(
        {"added_tokens_decoder": {"7": {"content": "<x>"}}}).encode())
    put("tokenizer_json", "wrong_types", b"\x01" + json.dumps(
        {"additional_special_tokens": [1, {"content": 2}], "mask_token": "<mask>"}).encode())


# --- C API text (bytes 0, 1: languages, byte 2: options; see the harness) ------------------------
def capi_seeds():
    def seed(src, tgt, opt, text):
        return bytes([src, tgt, opt]) + (text.encode() if isinstance(text, str) else text)
    put("capi_text", "eng_fra", seed(0, 1, 7, "Hello world."))
    put("capi_text", "fra_deu_beam", seed(1, 2, 8 | 3, "Le chat dort sur le canapé."))
    put("capi_text", "spa_eng_ngram", seed(3, 0, 16 | 5, "Hola. ¿Qué tal? Muy bien, gracias."))
    put("capi_text", "empty_text", seed(0, 1, 0, ""))
    put("capi_text", "specials_in_text", seed(0, 1, 2, "</s> <pad> <unk> fra_Latn <mask> end"))
    put("capi_text", "special_as_lang", seed(6, 7, 1, "Hello"))
    put("capi_text", "empty_lang", seed(11, 0, 1, "Hello"))
    put("capi_text", "near_miss_lang", seed(12, 13, 1, "Hello"))
    put("capi_text", "raw_langs", seed(0xF8, 0xF8, 1, b"eng_Latnfra_LatnBonjour"))
    put("capi_text", "raw_bad_utf8_lang", seed(0xF3, 0, 1, b"\xff\xfe\x80text"))
    put("capi_text", "invalid_utf8_text", seed(0, 1, 1, b"abc \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80"))
    put("capi_text", "mixed_scripts", seed(0, 1, 7, "Привет 世界 مرحبا 🙂 e\u0301"))
    put("capi_text", "many_sentences", seed(0, 1, 3, "One. Two! Three? " * 20))


if __name__ == "__main__":
    st_seeds()
    pickle_seeds()
    config_seeds()
    tokenizer_seeds()
    capi_seeds()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(CORPUS) for f in fs)
    print(f"corpus: {total} bytes")
