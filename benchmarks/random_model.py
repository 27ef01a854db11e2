#!/usr/bin/env python3
"""Writes an NLLB-shaped (M2M100) model directory with deterministic random float16 weights.

The benchmarks need a model of a realistic size (about 60M parameters, the shape of a small
NLLB: d_model 512, 6 encoder + 6 decoder layers, 8 heads, FFN 2048, vocab 32000) without
downloading anything. Its translations are noise; its cost per token is that of a real model
of this shape, which is all the scheduling benchmarks measure.

Python standard library only (no numpy, no torch). Weights are float16 bit patterns built from
random.Random(seed).randbytes(): the low byte is random, the high byte (sign, 5 exponent bits,
top 2 mantissa bits) is mapped through a 256-entry table so that |x| < 2**-5 (about 0.031),
roughly uniform in magnitude: standard deviation about 0.018, like HF's init_std 0.02.
Linear biases are 0, layer norm weights 1 and biases 0, the padding row of the embedding 0.
The head is tied to model.shared.weight (no lm_head.weight), as in NLLB checkpoints.

The tokenizer files are copied from tests/data/dev (a tiny NLLB SentencePiece model: 454 ids,
all below vocab_size 32000, which tolk accepts).

Usage:  python3 benchmarks/random_model.py [--out DIR] [--seed N] [--force]
Default output: build/bench-models/nllb-60m-random (git-ignored); skipped if it exists.
"""

import argparse
import json
import os
import random
import shutil
import struct
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "build", "bench-models", "nllb-60m-random")
TOKENIZER_SRC = os.path.join(REPO, "tests", "data", "dev")
TOKENIZER_FILES = ["sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json"]

D_MODEL = 512
LAYERS = 6
HEADS = 8
FFN = 2048
VOCAB = 32000
MAX_POSITIONS = 1024
PAD_ID = 1

F16_ONE = 0x3C00


def config_json():
    return {
        "_name_or_path": "tolk-bench/nllb-60m-random",
        "activation_dropout": 0.0,
        "activation_function": "relu",
        "architectures": ["M2M100ForConditionalGeneration"],
        "attention_dropout": 0.1,
        "bos_token_id": 0,
        "d_model": D_MODEL,
        "decoder_attention_heads": HEADS,
        "decoder_ffn_dim": FFN,
        "decoder_layerdrop": 0.0,
        "decoder_layers": LAYERS,
        "decoder_start_token_id": 2,
        "dropout": 0.1,
        "encoder_attention_heads": HEADS,
        "encoder_ffn_dim": FFN,
        "encoder_layerdrop": 0.0,
        "encoder_layers": LAYERS,
        "eos_token_id": 2,
        "init_std": 0.02,
        "is_encoder_decoder": True,
        "max_position_embeddings": MAX_POSITIONS,
        "model_type": "m2m_100",
        "num_hidden_layers": LAYERS,
        "pad_token_id": PAD_ID,
        "scale_embedding": True,
        "tokenizer_class": "NllbTokenizer",
        "torch_dtype": "float16",
        "transformers_version": "4.36.2",
        "use_cache": True,
        "vocab_size": VOCAB,
    }


def generation_config_json():
    return {"bos_token_id": 0, "decoder_start_token_id": 2, "eos_token_id": 2, "pad_token_id": PAD_ID,
            "transformers_version": "4.36.2"}


def tensor_specs():
    """(name, shape, kind) in Hugging Face M2M100 naming; kind: 'w' random, 'zero', 'one'."""
    specs = [("model.shared.weight", [VOCAB, D_MODEL], "embed")]

    def linear(prefix, out_dim, in_dim):
        specs.append((prefix + ".weight", [out_dim, in_dim], "w"))
        specs.append((prefix + ".bias", [out_dim], "zero"))

    def norm(prefix):
        specs.append((prefix + ".weight", [D_MODEL], "one"))
        specs.append((prefix + ".bias", [D_MODEL], "zero"))

    for stack in ("encoder", "decoder"):
        for i in range(LAYERS):
            p = "model.%s.layers.%d." % (stack, i)
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                linear(p + "self_attn." + proj, D_MODEL, D_MODEL)
            norm(p + "self_attn_layer_norm")
            if stack == "decoder":
                for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                    linear(p + "encoder_attn." + proj, D_MODEL, D_MODEL)
                norm(p + "encoder_attn_layer_norm")
            linear(p + "fc1", FFN, D_MODEL)
            linear(p + "fc2", D_MODEL, FFN)
            norm(p + "final_layer_norm")
        norm("model.%s.layer_norm" % stack)
    return specs


def high_byte_table():
    """Maps a random byte to the high byte of a float16: sign, exponent, 2 mantissa bits.

    Of 32 values of bits 2..6, 16 pick exponent 9 ([2^-6, 2^-5)), 8 pick 8, 4 pick 7, 2 pick 6,
    1 picks 5 and 1 picks 4: each binade gets a share proportional to its width, so |x| is
    roughly uniform on [0, 2^-5).
    """
    exps = [9] * 16 + [8] * 8 + [7] * 4 + [6] * 2 + [5] + [4]
    table = bytearray(256)
    for b in range(256):
        sign = b & 0x80
        exp = exps[(b >> 2) & 0x1F]
        table[b] = sign | (exp << 2) | (b & 0x03)
    return bytes(table)


def random_f16(rng, count, table):
    """`count` little-endian float16 values as bytes."""
    low = rng.randbytes(count)
    high = rng.randbytes(count).translate(table)
    out = bytearray(2 * count)
    out[0::2] = low
    out[1::2] = high
    return out


def constant_f16(bits, count):
    return struct.pack("<H", bits) * count


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def write_safetensors(path, seed):
    specs = sorted(tensor_specs(), key=lambda s: s[0])
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _ in specs:
        nbytes = 2 * numel(shape)
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)  # as safetensors pads it

    rng = random.Random(seed)
    table = high_byte_table()
    params = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for name, shape, kind in specs:
            n = numel(shape)
            params += n
            if kind == "zero":
                f.write(bytes(2 * n))
            elif kind == "one":
                f.write(constant_f16(F16_ONE, n))
            else:
                data = random_f16(rng, n, table)
                if kind == "embed":  # HF zeroes the padding row
                    row = 2 * shape[1]
                    data[PAD_ID * row:(PAD_ID + 1) * row] = bytes(row)
                f.write(data)
    return params, offset


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=20261126, help="weight seed (default: %(default)s)")
    ap.add_argument("--force", action="store_true", help="rewrite the directory if it exists")
    args = ap.parse_args()

    out = os.path.abspath(args.out)
    if os.path.exists(os.path.join(out, "model.safetensors")) and not args.force:
        print("%s exists; skipping (use --force to rewrite)" % out)
        return 0
    for name in TOKENIZER_FILES:
        if not os.path.isfile(os.path.join(TOKENIZER_SRC, name)):
            print("error: %s not found" % os.path.join(TOKENIZER_SRC, name), file=sys.stderr)
            return 1

    tmp = out + ".tmp-%d" % os.getpid()
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    start = time.time()
    try:
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(config_json(), f, indent=2, sort_keys=True)
            f.write("\n")
        with open(os.path.join(tmp, "generation_config.json"), "w") as f:
            json.dump(generation_config_json(), f, indent=2, sort_keys=True)
            f.write("\n")
        for name in TOKENIZER_FILES:
            shutil.copyfile(os.path.join(TOKENIZER_SRC, name), os.path.join(tmp, name))
        params, nbytes = write_safetensors(os.path.join(tmp, "model.safetensors"), args.seed)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    print("wrote %s: %d parameters, %.1f MiB of float16 weights, seed %d, %.1f s"
          % (out, params, nbytes / 2**20, args.seed, time.time() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
