#!/usr/bin/env python3
"""Corpus chrF and BLEU, computed the way sacrebleu 2.x does with its default settings.

Only the standard library is used, so the scripts run where sacrebleu cannot be installed.

chrF (sacrebleu `CHRF()` defaults, signature "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no"):
  * character n-grams of order 1..6, no word n-grams (chrF, not chrF++), beta = 2;
  * whitespace removed before extracting n-grams (`''.join(text.split())`), case kept;
  * per sentence and order n: hyp n-gram count (0 when the reference has no n-gram of that
    order), reference n-gram count, clipped matches; these statistics are SUMMED over the corpus;
  * then, over the orders where both hyp and ref counts are > 0 ("effective order"), the
    precisions and recalls are averaged, and chrF = (1 + b^2) P R / (b^2 P + R) * 100 with the
    averaged P and R (no eps smoothing).

BLEU (sacrebleu `BLEU()` defaults, signature "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp"):
  * each line is `rstrip()`-ed and tokenised with the 13a tokenizer (mteval-v13a: unescape
    &quot; &amp; &lt; &gt;, split off punctuation and symbols, split . and , unless next to a
    digit, split - after a digit);
  * word n-grams 1..4, clipped counts, corpus sums of matches and totals, sys_len and ref_len;
  * if no n-gram matches at all, BLEU = 0 (sacrebleu #141);
  * precision p_n = matches/total; when matches == 0: 'exp' smoothing, p_n = 1 / (2^k * total)
    for the k-th such order; when total == 0 the order is left at 0 (so BLEU ~ 0);
  * brevity penalty exp(1 - ref_len/sys_len) when sys_len < ref_len;
  * BLEU = 100 * BP * exp(mean(log p_1..p_4)).

Worked examples (checked by --self-test):
  chrF("ab" vs reference "abc"):
    n=1: hyp {a,b} = 2, ref {a,b,c} = 3, match 2  ->  P = 1,  R = 2/3
    n=2: hyp {ab} = 1,  ref {ab,bc} = 2, match 1  ->  P = 1,  R = 1/2
    n=3: hyp has no trigram (count 0): not effective; n=4..6: the reference has none either.
    P = 1, R = (2/3 + 1/2) / 2 = 7/12;  chrF = 5 * 1 * 7/12 / (4 * 1 + 7/12) = 35/55 = 63.6364
  BLEU("the cat sat on the mat" vs "the cat sat on a mat"):
    p1 = 5/6 ("the" clipped to 1), p2 = 3/5, p3 = 2/4, p4 = 1/3, BP = 1 (6 = 6 tokens)
    BLEU = 100 * (5/6 * 3/5 * 1/2 * 1/3) ** (1/4) = 100 * (1/12) ** 0.25 = 53.7285
  BLEU("a b c d" vs "a b x d"): p1 = 3/4, p2 = 1/3, p3 = 0/2 -> 1/(2*2), p4 = 0/1 -> 1/(4*1)
    BLEU = 100 * (3/4 * 1/3 * 1/4 * 1/4) ** (1/4) = 100 * (1/64) ** 0.25 = 35.3553

Usage:
  python3 metrics.py --self-test
  python3 metrics.py HYP_FILE REF_FILE        (one segment per line; prints chrF and BLEU)
"""

import math
import re
import sys
from collections import Counter

CHAR_ORDER = 6
BETA = 2
MAX_NGRAM = 4

# ---------------------------------------------------------------------------------------------
# chrF


def _char_ngrams(text, n):
    return Counter(text[i:i + n] for i in range(len(text) - n + 1))


def chrf_stats(hyp, ref, order=CHAR_ORDER):
    """[hyp, ref, match] * order for one segment (sacrebleu's _get_match_statistics)."""
    hyp = "".join(hyp.split())
    ref = "".join(ref.split())
    stats = []
    for n in range(1, order + 1):
        h = _char_ngrams(hyp, n)
        r = _char_ngrams(ref, n)
        match = sum(min(c, r[g]) for g, c in h.items() if g in r)
        stats += [sum(h.values()) if r else 0, sum(r.values()), match]
    return stats


def chrf_from_stats(stats, order=CHAR_ORDER, beta=BETA):
    factor = beta ** 2
    avg_p = avg_r = 0.0
    eff = 0
    for i in range(order):
        n_hyp, n_ref, n_match = stats[3 * i: 3 * i + 3]
        if n_hyp > 0 and n_ref > 0:
            avg_p += n_match / n_hyp
            avg_r += n_match / n_ref
            eff += 1
    if eff == 0:
        return 0.0
    avg_p /= eff
    avg_r /= eff
    if avg_p + avg_r == 0:
        return 0.0
    return 100.0 * (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r)


def corpus_chrf(hyps, refs, order=CHAR_ORDER, beta=BETA):
    if len(hyps) != len(refs):
        raise ValueError("hypotheses and references differ in number")
    total = [0] * (3 * order)
    for h, r in zip(hyps, refs):
        for i, v in enumerate(chrf_stats(h, r, order)):
            total[i] += v
    return chrf_from_stats(total, order, beta)


# ---------------------------------------------------------------------------------------------
# BLEU

_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line):
    line = line.replace("<skipped>", "")
    line = line.replace("-\n", "")
    line = line.replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"')
        line = line.replace("&amp;", "&")
        line = line.replace("&lt;", "<")
        line = line.replace("&gt;", ">")
    line = f" {line} "
    for rx, repl in _13A_RULES:
        line = rx.sub(repl, line)
    return " ".join(line.split())


def _word_ngrams(tokens, max_n):
    c = Counter()
    for n in range(1, max_n + 1):
        for i in range(len(tokens) - n + 1):
            c[tuple(tokens[i:i + n])] += 1
    return c


def bleu_stats(hyp, ref, max_n=MAX_NGRAM):
    """[sys_len, ref_len, correct_1..n, total_1..n] for one segment."""
    h = tokenize_13a(hyp.rstrip()).split()
    r = tokenize_13a(ref.rstrip()).split()
    hn, rn = _word_ngrams(h, max_n), _word_ngrams(r, max_n)
    correct = [0] * max_n
    total = [0] * max_n
    for g, c in hn.items():
        total[len(g) - 1] += c
        if g in rn:
            correct[len(g) - 1] += min(c, rn[g])
    return [len(h), len(r)] + correct + total


def _my_log(x):
    return -9999999999 if x == 0 else math.log(x)


def bleu_from_stats(stats, max_n=MAX_NGRAM):
    sys_len, ref_len = stats[0], stats[1]
    correct = stats[2:2 + max_n]
    total = stats[2 + max_n:2 + 2 * max_n]
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    else:
        bp = 1.0
    if not any(correct):
        return 0.0
    precisions = [0.0] * max_n
    smooth = 1.0
    for n in range(max_n):
        if total[n] == 0:
            break
        if correct[n] == 0:
            smooth *= 2
            precisions[n] = 100.0 / (smooth * total[n])
        else:
            precisions[n] = 100.0 * correct[n] / total[n]
    return bp * math.exp(sum(_my_log(p) for p in precisions) / max_n)


def corpus_bleu(hyps, refs, max_n=MAX_NGRAM):
    if len(hyps) != len(refs):
        raise ValueError("hypotheses and references differ in number")
    total = [0] * (2 + 2 * max_n)
    for h, r in zip(hyps, refs):
        for i, v in enumerate(bleu_stats(h, r, max_n)):
            total[i] += v
    return bleu_from_stats(total, max_n)


# ---------------------------------------------------------------------------------------------

def self_test():
    def close(a, b, what):
        if abs(a - b) > 1e-4:
            raise AssertionError(f"{what}: got {a}, expected {b}")
        print(f"ok  {what}: {a:.4f}")

    sents = ["Open the file.", "Save as…", "Are you sure you want to delete this file?"]
    close(corpus_chrf(sents, sents), 100.0, "chrF identical")
    close(corpus_bleu(sents, sents), 100.0, "BLEU identical")
    close(corpus_chrf(["xyz qqq"], ["abc def"]), 0.0, "chrF disjoint")
    close(corpus_bleu(["xyz qqq"], ["abc def"]), 0.0, "BLEU disjoint")
    close(corpus_chrf(["ab"], ["abc"]), 3500 / 55, "chrF worked example ab/abc")
    close(corpus_chrf(["a b"], ["ab c"]), 3500 / 55, "chrF ignores whitespace")
    close(corpus_bleu(["the cat sat on the mat"], ["the cat sat on a mat"]),
          100 * (1 / 12) ** 0.25, "BLEU worked example")
    close(corpus_bleu(["a b c d"], ["a b x d"]), 100 * (1 / 64) ** 0.25, "BLEU exp smoothing")
    # brevity penalty: hyp "the cat sat on" (4 tokens) vs 6-token reference:
    # p = 4/4, 3/3, 2/2, 1/1 -> 100 * exp(1 - 6/4)
    close(corpus_bleu(["the cat sat on"], ["the cat sat on a mat"]),
          100 * math.exp(1 - 6 / 4), "BLEU brevity penalty")
    # 13a tokenisation: punctuation split, decimal kept, entity unescaped
    tok = tokenize_13a("Hello, world! 3.14 &amp; (x)")
    assert tok == "Hello , world ! 3.14 & ( x )", tok
    print("ok  13a tokenizer:", tok)
    # corpus statistics are summed, not averaged per sentence
    a = corpus_chrf(["ab", "Open the file"], ["abc", "Open the file"])
    b = (corpus_chrf(["ab"], ["abc"]) + 100) / 2
    assert abs(a - b) > 1e-3, "chrF must be computed from summed statistics"
    print(f"ok  chrF corpus-level statistics ({a:.4f} != mean of sentence scores {b:.4f})")
    print("metrics self-test passed")


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        self_test()
        return 0
    if len(argv) == 3:
        with open(argv[1], encoding="utf-8") as f:
            hyps = f.read().splitlines()
        with open(argv[2], encoding="utf-8") as f:
            refs = f.read().splitlines()
        print(f"chrF2 = {corpus_chrf(hyps, refs):.2f}")
        print(f"BLEU  = {corpus_bleu(hyps, refs):.2f}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
