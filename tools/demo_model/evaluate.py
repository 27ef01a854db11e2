#!/usr/bin/env python3
"""Score a tolk model on the demo test split (chrF2 / BLEU per direction), or show UI strings.

    python3 tools/demo_model/evaluate.py [--model models/tolk-demo-en-fr-de-es]
        [--tolk build/tolk] [--test models/tolk-demo-en-fr-de-es/eval/test.tsv]
        [--beam 4] [--max-new-tokens 128] [--threads N] [--limit N] [--directions eng_Latn-fra_Latn,...]
        [--json out.json] [--hyps-dir DIR]
    python3 tools/demo_model/evaluate.py --ui-strings [--model ...] [--json out.json]

Test mode: for each direction (src_lang, tgt_lang) in the TSV (src_lang TAB tgt_lang TAB src TAB
ref), runs `tolk translate --model M --src S --tgt T` once with all sources on standard input
(one translation per output line), then computes corpus chrF2 and BLEU (metrics.py: sacrebleu 2.x
defaults) over all lines and over the "short" ones (source of at most 2 words). Prints a Markdown
table; --json writes the numbers (and the settings) to a file.

UI mode (--ui-strings): translates a fixed list of 20 common UI strings from English into
French, German and Spanish and prints them as a Markdown table (and JSON).
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import metrics  # noqa: E402

UI_STRINGS = [
    "Open the file", "Save", "Save as…", "Undo", "Redo", "Full screen", "Cancel", "Settings",
    "Quit", "Delete", "Copy", "Paste", "Print", "Help", "About", "Search", "Close window",
    "New folder", "File not found", "Are you sure you want to delete this file?",
]
UI_TARGETS = ["fra_Latn", "deu_Latn", "spa_Latn"]


def translate(args, src_lang, tgt_lang, lines):
    """Run the tolk CLI once for a batch of lines; returns (outputs, seconds)."""
    for s in lines:
        if "\n" in s or "\r" in s:
            raise ValueError(f"input line contains a newline: {s!r}")
    cmd = [args.tolk, "translate", "--model", args.model, "--src", src_lang, "--tgt", tgt_lang,
           "--beam", str(args.beam), "--max-new-tokens", str(args.max_new_tokens)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if getattr(args, "compute_type", None):
        cmd += ["--compute-type", args.compute_type]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, input="".join(s + "\n" for s in lines), capture_output=True,
                          text=True, encoding="utf-8")
    dt = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    out = proc.stdout.split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(lines):
        raise RuntimeError(f"{' '.join(cmd)}: {len(lines)} inputs but {len(out)} output lines")
    return out, dt


def read_test(path, directions, limit):
    by_dir = collections.OrderedDict()
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 4:
                raise ValueError(f"{path}:{n}: expected 4 tab-separated fields")
            d = (cols[0], cols[1])
            if directions and f"{d[0]}-{d[1]}" not in directions:
                continue
            by_dir.setdefault(d, []).append((cols[2], cols[3]))
    for d in by_dir:
        if limit:
            by_dir[d] = by_dir[d][:limit]
    return by_dir


def is_short(src):
    return len(src.split()) <= 2


def run_test(args):
    by_dir = read_test(args.test, set(args.directions.split(",")) if args.directions else None,
                       args.limit)
    results = collections.OrderedDict()
    for (s, t), pairs in sorted(by_dir.items()):
        srcs = [p[0] for p in pairs]
        refs = [p[1] for p in pairs]
        hyps, dt = translate(args, s, t, srcs)
        short = [i for i, x in enumerate(srcs) if is_short(x)]
        r = {
            "n": len(pairs),
            "chrf": round(metrics.corpus_chrf(hyps, refs), 2),
            "bleu": round(metrics.corpus_bleu(hyps, refs), 2),
            "n_short": len(short),
            "chrf_short": round(metrics.corpus_chrf([hyps[i] for i in short], [refs[i] for i in short]), 2) if short else None,
            "bleu_short": round(metrics.corpus_bleu([hyps[i] for i in short], [refs[i] for i in short]), 2) if short else None,
            "seconds": round(dt, 2),
        }
        results[f"{s}-{t}"] = r
        print(f"{s}->{t}: {r['n']} lines, chrF {r['chrf']}, BLEU {r['bleu']} ({dt:.1f} s)",
              file=sys.stderr, flush=True)
        if args.hyps_dir:
            os.makedirs(args.hyps_dir, exist_ok=True)
            with open(os.path.join(args.hyps_dir, f"{s}-{t}.tsv"), "w", encoding="utf-8") as f:
                for x, y, h in zip(srcs, refs, hyps):
                    f.write(f"{x}\t{y}\t{h}\n")

    print()
    print(f"Model `{os.path.relpath(args.model, ROOT) if os.path.isabs(args.model) else args.model}`, "
          f"beam {args.beam}, max_new_tokens {args.max_new_tokens}; chrF2 and BLEU as sacrebleu 2.x "
          f"defaults (chrF2: nc:6 nw:0 space:no; BLEU: tok:13a smooth:exp). "
          f"Short = source of at most 2 words.")
    print()
    print("| direction | lines | chrF2 | BLEU | short lines | chrF2 short | BLEU short | seconds |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    fmt = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    for d, r in results.items():
        print(f"| {d.replace('-', ' → ')} | {r['n']} | {fmt(r['chrf'])} | {fmt(r['bleu'])} | "
              f"{r['n_short']} | {fmt(r['chrf_short'])} | {fmt(r['bleu_short'])} | {r['seconds']:.1f} |")
    return {"mode": "test", "test_file": args.test, "results": results}


def run_ui(args):
    table = collections.OrderedDict((s, collections.OrderedDict()) for s in UI_STRINGS)
    for t in UI_TARGETS:
        outs, _ = translate(args, "eng_Latn", t, UI_STRINGS)
        for s, o in zip(UI_STRINGS, outs):
            table[s][t] = o
    esc = lambda x: x.replace("|", "\\|")  # noqa: E731
    print("| English | " + " | ".join(UI_TARGETS) + " |")
    print("|---" * (1 + len(UI_TARGETS)) + "|")
    for s, row in table.items():
        print(f"| {esc(s)} | " + " | ".join(esc(row[t]) for t in UI_TARGETS) + " |")
    return {"mode": "ui-strings", "translations": table}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "tolk-demo-en-fr-de-es"))
    ap.add_argument("--tolk", default=os.path.join(ROOT, "build", "tolk"))
    ap.add_argument("--test", default=None, help="default: MODEL/eval/test.tsv")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: tolk's default)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N lines per direction")
    ap.add_argument("--compute-type", default="", help="float32 (default), bfloat16, int8 or auto")
    ap.add_argument("--directions", default="", help="comma-separated, e.g. eng_Latn-fra_Latn")
    ap.add_argument("--ui-strings", action="store_true")
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--hyps-dir", help="write src/ref/hyp TSVs per direction here")
    args = ap.parse_args()
    if args.test is None:
        args.test = os.path.join(args.model, "eval", "test.tsv")
    if not os.path.exists(args.tolk):
        sys.exit(f"evaluate: {args.tolk} not found (build tolk first)")

    res = run_ui(args) if args.ui_strings else run_test(args)
    res["settings"] = {"model": args.model, "beam": args.beam,
                       "compute_type": args.compute_type or "float32",
                       "max_new_tokens": args.max_new_tokens, "threads": args.threads,
                       "limit": args.limit,
                       "metrics": "sacrebleu-2.x-compatible chrF2 (nc:6,nw:0,space:no) and BLEU (13a, exp)"}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
