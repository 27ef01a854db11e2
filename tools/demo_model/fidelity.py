#!/usr/bin/env python3
"""How far each compute type moves the demo model's translations from float32.

    python3 tools/demo_model/fidelity.py [--model DIR] [--types float32,bfloat16,int8]
        [--beam 4] [--threads N] [--limit N] [--json out.json]

Translates the model's test split (every direction) once per compute type with the tolk CLI
(`--compute-type`), then prints per direction and type: chrF2 and BLEU (metrics.py, sacrebleu
2.x-compatible), the chrF2 difference to float32, the share of sentences whose translation is
identical to float32's, and the seconds the pass took. float32 must be in --types: it is the
baseline.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evaluate  # noqa: E402
import metrics  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=os.path.join(evaluate.ROOT, "models", "tolk-demo-en-fr-de-es"))
    ap.add_argument("--tolk", default=os.path.join(evaluate.ROOT, "build", "tolk"))
    ap.add_argument("--types", default="float32,bfloat16,int8")
    ap.add_argument("--beam", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--json")
    args = ap.parse_args()
    types = [t for t in args.types.split(",") if t]
    if "float32" not in types:
        sys.exit("fidelity: --types must include float32 (the baseline)")
    types.remove("float32")
    types.insert(0, "float32")
    by_dir = evaluate.read_test(os.path.join(args.model, "eval", "test.tsv"), None, args.limit)
    rows = []
    for (s, t), pairs in sorted(by_dir.items()):
        srcs = [p[0] for p in pairs]
        refs = [p[1] for p in pairs]
        base = None
        for ct in types:
            args.compute_type = ct
            hyps, dt = evaluate.translate(args, s, t, srcs)
            chrf = metrics.corpus_chrf(hyps, refs)
            if base is None:
                base = (hyps, chrf)
            same = sum(a == b for a, b in zip(hyps, base[0])) / len(hyps)
            row = {"direction": f"{s}-{t}", "compute_type": ct, "lines": len(hyps),
                   "chrf": round(chrf, 2), "bleu": round(metrics.corpus_bleu(hyps, refs), 2),
                   "chrf_minus_float32": round(chrf - base[1], 2),
                   "identical_to_float32_pct": round(100 * same, 1), "seconds": round(dt, 1)}
            rows.append(row)
            print(f"{s}->{t} {ct}: chrF {row['chrf']} ({row['chrf_minus_float32']:+.2f}), "
                  f"identical {row['identical_to_float32_pct']}%, {dt:.1f} s", file=sys.stderr, flush=True)
    print(f"\nbeam {args.beam}, max_new_tokens {args.max_new_tokens}, threads {args.threads or 'default'}\n")
    print("| direction | type | lines | chrF2 | Δ chrF2 vs float32 | BLEU | identical to float32 | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['direction'].replace('-', ' → ')} | {r['compute_type']} | {r['lines']} | {r['chrf']:.2f} | "
              f"{r['chrf_minus_float32']:+.2f} | {r['bleu']:.2f} | {r['identical_to_float32_pct']:.1f} % | {r['seconds']:.1f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"settings": {"beam": args.beam, "max_new_tokens": args.max_new_tokens,
                                    "threads": args.threads, "limit": args.limit}, "rows": rows},
                      f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
