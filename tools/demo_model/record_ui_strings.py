#!/usr/bin/env python3
"""Records the demo model's greedy translations of the 20 UI strings (evaluate.UI_STRINGS) into
tests/data/demo_ui_strings.tsv, which tests/demo/test_demo_model.cc checks the engine against.

Run it after retraining the model (the recorded outputs belong to one set of weights; the file
notes the weights' SHA-256 so a stale recording is easy to spot):
    python3 tools/demo_model/record_ui_strings.py [--model DIR] [--tolk build/tolk]
Lines: tgt_lang<TAB>source<TAB>translation, after a '# model.safetensors sha256 …' header.
"""
import argparse
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import UI_STRINGS  # noqa: E402

TARGETS = ["fra_Latn", "deu_Latn", "spa_Latn"]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=os.path.join(root, "models/tolk-demo-en-fr-de-es"))
    ap.add_argument("--tolk", default=os.path.join(root, "build/tolk"))
    ap.add_argument("--out", default=os.path.join(root, "tests/data/demo_ui_strings.tsv"))
    args = ap.parse_args()
    with open(os.path.join(args.model, "model.safetensors"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    lines = [f"# model.safetensors sha256 {digest}; greedy, recorded by {os.path.basename(__file__)}"]
    for tgt in TARGETS:
        out = subprocess.run([args.tolk, "translate", "--model", args.model, "--src", "eng_Latn",
                              "--tgt", tgt, "--beam", "1"],
                             input="".join(s + "\n" for s in UI_STRINGS), capture_output=True,
                             text=True, check=True).stdout.splitlines()
        if len(out) != len(UI_STRINGS):
            sys.exit(f"expected {len(UI_STRINGS)} lines for {tgt}, got {len(out)}")
        for src, hyp in zip(UI_STRINGS, out):
            if "\t" in hyp:
                sys.exit("a translation contains a tab")
            lines.append(f"{tgt}\t{src}\t{hyp}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 1} translations to {args.out}")


if __name__ == "__main__":
    main()
