#!/usr/bin/env python3
"""Train the demo model's SentencePiece BPE model and write the Hugging Face NllbTokenizer files.

    python3 tools/demo_model/train_tokenizer.py [--work build/demo-data] [--model-dir DIR]
                                                [--vocab-size 8000] [--skip-spm]

1. Collects every text of WORK/train.tsv (both sides, all four languages), de-duplicated and
   sorted, into WORK/spm_input.txt.
2. Runs `spm_train` (Debian package `sentencepiece`): BPE, vocab 8000, character_coverage 1.0,
   NLLB's id layout unk=0 <s>=1 </s>=2 no pad, all sentences, no shuffling, no sampling, so the
   same input gives the same model. Output: MODEL_DIR/sentencepiece.bpe.model.
3. Writes MODEL_DIR/tokenizer_config.json and special_tokens_map.json in the layout of a
   transformers v4.36 NllbTokenizer save, copied from tests/data/dev (see tests/data/NOTES.md §5):
     0 <s>, 1 <pad>, 2 </s>, 3 <unk>; spm piece s (s >= 3) -> s + 1;
     the 202 FAIRSEQ language codes, id = sp_size + 1 + index (same order as the dev files);
     <mask> = sp_size + 202 + 1.  vocab_size = sp_size + 204 (= max id + 1).
   and WORK/vocab_size.txt with that number.
"""

import argparse
import collections
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEV = os.path.join(ROOT, "tests", "data", "dev")


def spm_piece_count(path):
    """Number of pieces in a SentencePiece ModelProto (field 1, repeated), without protobuf."""
    data = open(path, "rb").read()
    i, n = 0, 0

    def varint(i):
        shift = v = 0
        while True:
            b = data[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v, i
    while i < len(data):
        key, i = varint(i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            ln, i = varint(i)
            i += ln
            if field == 1:
                n += 1
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type in spm model")
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "demo-data"))
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "tolk-demo-en-fr-de-es"))
    ap.add_argument("--vocab-size", type=int, default=8000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-spm", action="store_true",
                    help="keep the existing sentencepiece.bpe.model, only rewrite the json files")
    args = ap.parse_args()
    os.makedirs(args.model_dir, exist_ok=True)
    spm_model = os.path.join(args.model_dir, "sentencepiece.bpe.model")

    if not args.skip_spm:
        if not shutil.which("spm_train"):
            sys.exit("train_tokenizer: spm_train not found (apt-get install sentencepiece)")
        texts = set()
        with open(os.path.join(args.work, "train.tsv"), encoding="utf-8") as f:
            for line in f:
                cols = line.rstrip("\n").split("\t")
                texts.add(cols[2])
                texts.add(cols[3])
        inp = os.path.join(args.work, "spm_input.txt")
        with open(inp, "w", encoding="utf-8", newline="\n") as f:
            for t in sorted(texts):
                f.write(t + "\n")
        prefix = os.path.join(args.work, "spm")
        # Relative names, run inside WORK: spm_train stores --input and --model_prefix in the
        # model's trainer_spec, and the model must not depend on where the repository lives.
        cmd = ["spm_train", "--input=spm_input.txt", "--model_prefix=spm",
               f"--vocab_size={args.vocab_size}", "--model_type=bpe", "--character_coverage=1.0",
               "--unk_id=0", "--bos_id=1", "--eos_id=2", "--pad_id=-1",
               "--input_sentence_size=0", "--shuffle_input_sentence=false",
               "--max_sentence_length=4192", f"--num_threads={args.threads}",
               "--minloglevel=1"]
        print("train_tokenizer:", " ".join(cmd), f"({len(texts)} sentences)", flush=True)
        subprocess.run(cmd, check=True, cwd=args.work)
        shutil.copyfile(prefix + ".model", spm_model)

    sp_size = spm_piece_count(spm_model)

    # tokenizer_config.json: the dev file's layout, ids recomputed for this spm size.
    with open(os.path.join(DEV, "tokenizer_config.json"), encoding="utf-8") as f:
        dev_cfg = json.load(f, object_pairs_hook=collections.OrderedDict)
    with open(os.path.join(DEV, "special_tokens_map.json"), encoding="utf-8") as f:
        dev_map = json.load(f, object_pairs_hook=collections.OrderedDict)
    dev_sp = spm_piece_count(os.path.join(DEV, "sentencepiece.bpe.model"))
    langs = list(dev_map["additional_special_tokens"])
    assert len(langs) == 202, len(langs)
    dev_dec = dev_cfg["added_tokens_decoder"]
    # Check the rule on the dev files themselves before applying it.
    for i, code in enumerate(langs):
        assert dev_dec[str(dev_sp + 1 + i)]["content"] == code, code
    assert dev_dec[str(dev_sp + 202 + 1)]["content"] == "<mask>"
    assert [dev_dec[str(i)]["content"] for i in range(4)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert len(dev_dec) == 4 + 202 + 1

    by_content = {v["content"]: v for v in dev_dec.values()}
    dec = collections.OrderedDict()
    for i, tok in enumerate(["<s>", "<pad>", "</s>", "<unk>"]):
        dec[str(i)] = by_content[tok]
    for i, code in enumerate(langs):
        dec[str(sp_size + 1 + i)] = by_content[code]
    mask_id = sp_size + 202 + 1
    dec[str(mask_id)] = by_content["<mask>"]
    cfg = collections.OrderedDict()
    for k, v in dev_cfg.items():
        cfg[k] = dec if k == "added_tokens_decoder" else v
    vocab_size = mask_id + 1
    assert vocab_size == sp_size + 204

    def dump(obj, path, reference):
        text = json.dumps(obj, indent=2, ensure_ascii=False)
        # keep the dev file's trailing-newline convention
        with open(reference, encoding="utf-8") as f:
            if f.read().endswith("\n"):
                text += "\n"
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    # Round-trip check: our writer reproduces the dev files byte for byte.
    for name, obj in (("tokenizer_config.json", dev_cfg), ("special_tokens_map.json", dev_map)):
        ref = os.path.join(DEV, name)
        text = json.dumps(obj, indent=2, ensure_ascii=False)
        raw = open(ref, encoding="utf-8").read()
        assert raw.rstrip("\n") == text, f"writer does not reproduce {ref}"

    dump(cfg, os.path.join(args.model_dir, "tokenizer_config.json"),
         os.path.join(DEV, "tokenizer_config.json"))
    dump(dev_map, os.path.join(args.model_dir, "special_tokens_map.json"),
         os.path.join(DEV, "special_tokens_map.json"))
    with open(os.path.join(args.work, "vocab_size.txt"), "w") as f:
        f.write(f"{vocab_size}\n")
    ids = {c: sp_size + 1 + langs.index(c) for c in ("eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn")}
    print(f"train_tokenizer: spm pieces {sp_size}; vocab_size {vocab_size} (max id {mask_id}); "
          f"lang ids {ids}; <mask> {mask_id}")
    print(f"train_tokenizer: wrote {spm_model}, tokenizer_config.json, special_tokens_map.json; "
          f"{os.path.join(args.work, 'vocab_size.txt')}")


if __name__ == "__main__":
    main()
