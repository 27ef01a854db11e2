#!/usr/bin/env python3
"""Turn the harvested gettext catalogs into train/dev/test TSV files for the tolk demo model.

    python3 tools/demo_model/prepare_data.py [--work build/demo-data]

Input: WORK/extract/<package>/**/{fr,de,es}/LC_MESSAGES/*.mo (from harvest_catalogs.sh).
Output (in WORK): train.tsv, dev.tsv, test.tsv, stats.json; and a copy of the test split in
models/tolk-demo-en-fr-de-es/eval/test.tsv. Each line: src_lang TAB tgt_lang TAB src TAB tgt.

Cleaning, in this order, per catalog entry (counted per reason in stats.json):
  * header entry (msgid "") and translator-credit entries are dropped;
  * msgctxt ("ctx\\x04msgid") is stripped; a plural entry gives two pairs,
    (msgid, msgstr[0]) and (msgid_plural, msgstr[1]);
  * text is NFC-normalised, no-break/thin spaces become plain spaces, runs of spaces collapse;
  * keyboard accelerators are removed ("_File", "&File", "~File", "(_F)" suffixes);
  * dropped: empty msgstr, tabs/newlines/control characters, more than 300 characters on either
    side, nothing but placeholders/punctuation/digits, untranslated (msgstr == msgid
    case-insensitively), placeholder multisets that differ (%s, %1$s, %d, %1, {0}, {name}, ...);
  * exact duplicate pairs collapse into one.
The split is by the normalised English string (sha1 bucket), so one English string (in whatever
casing / trailing punctuation) lives in exactly one split for every language. Dev and test keep
one pair per English string (its most frequent translation); train keeps every distinct pair.
Directions: eng->fra, eng->deu, eng->spa and fra->eng (the French pairs reversed).
Same inputs give byte-identical outputs.
"""

import argparse
import collections
import hashlib
import json
import os
import random
import re
import struct
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LANGS = {"fr": "fra_Latn", "de": "deu_Latn", "es": "spa_Latn"}
ENG = "eng_Latn"
MAX_CHARS = 300
TEST_PER_10000 = 250   # 2.5 %
DEV_PER_10000 = 100    # 1 %
MIN_TEST = 1000
EVAL_CAP = 1500        # pairs per direction in the committed eval copy, if it would exceed 1 MB
SEED = 20240611

# Catalog domains left out on purpose: iso_3166-2 (40k subdivision names, mostly untranslated
# proper nouns), libgweather's 5k weather-station place names, and iso_639-3 / iso_639-5 (7k+ obscure language names), iso_15924 (script names).
SKIP_DOMAINS = {"libgweather-4.0-locations", "iso_3166-2", "iso_3166_2", "iso_639-3", "iso_639_3",
                "iso_639-5", "iso_639_5", "iso_15924", "iso_4217"}

CREDIT_MSGIDS = {"translator-credits", "translator_credits", "translator-credits:", "Your names",
                 "Your emails", "translated-by", "TRANSLATORS", "translator credits"}
CREDIT_CONTEXTS = {"NAME OF TRANSLATORS", "EMAIL OF TRANSLATORS"}

# printf (%s %5.2f %1$s %'d %Id %lld %%), Python %(name)s, Qt/KDE %1..%99, braces {0} {name} {}
PLACEHOLDER_RE = re.compile(
    r"%(?:\d+\$)?[-+ #0'I]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|L|q|j|z|t|I64|I32)?"
    r"[diouxXeEfFgGaAcspnSC]"
    r"|%\([A-Za-z_][A-Za-z0-9_]*\)[-+ #0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%\d{1,2}(?!\d)"
    r"|\{[A-Za-z_0-9]*(?:[:!][^{}]*)?\}"
    r"|\$\{[A-Za-z_][A-Za-z0-9_]*\}")
POSITIONAL_RE = re.compile(r"^%\d+\$")
SPACES_RE = re.compile(r"[ \u00a0\u2007\u202f\u2009\u200a\u2002\u2003\u2004\u2005\u2006\u2008]+")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f\u200b\u2028\u2029\ufffd]")
LETTER_RE = re.compile(r"[^\W\d_]")


# ---------------------------------------------------------------------------------------------
# .mo reading

def read_mo(path):
    """Yield (msgctxt or None, msgid, msgid_plural or None, [msgstr...]) from a .mo file."""
    data = open(path, "rb").read()
    if len(data) < 28:
        return
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x950412DE:
        end = "<"
    elif magic == 0xDE120495:
        end = ">"
    else:
        raise ValueError("not a .mo file")
    _, n, orig_off, trans_off = struct.unpack(end + "4I", data[4:20])
    raw = []
    for i in range(n):
        olen, ooff = struct.unpack(end + "2I", data[orig_off + 8 * i: orig_off + 8 * i + 8])
        tlen, toff = struct.unpack(end + "2I", data[trans_off + 8 * i: trans_off + 8 * i + 8])
        raw.append((data[ooff: ooff + olen], data[toff: toff + tlen]))
    charset = "utf-8"
    for k, v in raw:
        if k == b"":
            m = re.search(rb"charset=([A-Za-z0-9_.:-]+)", v)
            if m:
                charset = m.group(1).decode("ascii").lower()
                if charset in ("charset", "", "none"):
                    charset = "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    for k, v in raw:
        try:
            ks = k.decode(charset)
            vs = v.decode(charset)
        except UnicodeDecodeError:
            yield None, None, None, None     # counted as a decode error
            continue
        ctx = None
        if "\x04" in ks:
            ctx, ks = ks.split("\x04", 1)
        plural = None
        if "\x00" in ks:
            ks, plural = ks.split("\x00", 1)
        yield ctx, ks, plural, vs.split("\x00")


# ---------------------------------------------------------------------------------------------
# text normalisation and cleaning

def normalise(text):
    text = unicodedata.normalize("NFC", text)
    text = SPACES_RE.sub(" ", text)
    return text.strip()


ACCEL_SUFFIX_RE = re.compile(r"\s*[(（][_&~][A-Za-z0-9][)）]")
ENTITY_RE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#\d+|#x[0-9A-Fa-f]+);")
WORD_RUN_RE = re.compile(r"[\w.$/\\@=:-]+")
IDENT_TOKEN_RE = re.compile(r"^[A-Z0-9]+_[A-Z0-9]+$|[./$=\\@:]|--")


def strip_accelerators(text):
    # "(_F)", "(&F)" suffixes, as CJK and some European translations add them
    text = ACCEL_SUFFIX_RE.sub("", text)
    # GTK "_" mnemonics: exactly one "_" in the string, followed by a letter or digit, and the
    # word around it does not look like an identifier (FOO_BAR, path/to_x, --foo_bar, $VAR_X).
    if text.count("_") == 1:
        pos = text.find("_")
        if pos + 1 < len(text) and text[pos + 1].isalnum():
            m = None
            for m in WORD_RUN_RE.finditer(text):
                if m.start() <= pos < m.end():
                    break
            word = m.group(0).rstrip(".") if m else "_"
            if not IDENT_TOKEN_RE.search(word):
                text = text[:pos] + text[pos + 1:]
    # Qt/KDE "&" mnemonics ("&&" is a literal ampersand; entities stay)
    if "&" in text:
        out, i = [], 0
        while i < len(text):
            c = text[i]
            if c == "&":
                m = ENTITY_RE.match(text, i)
                if m:
                    out.append(m.group(0))
                    i = m.end()
                    continue
                if text.startswith("&&", i):
                    out.append("&")
                    i += 2
                    continue
                if i + 1 < len(text) and text[i + 1].isalnum():
                    i += 1
                    continue
            out.append(c)
            i += 1
        text = "".join(out)
    # LibreOffice "~" mnemonics ("~File", "Save ~As"), not "~/path" nor "~5"
    if "~" in text:
        text = re.sub(r"(?:(?<=^)|(?<=[\s\w(\"'«„¿¡]))~(?=[^\W\d_])", "", text)
    return text


def placeholders(text):
    out = []
    for m in PLACEHOLDER_RE.finditer(text):
        p = POSITIONAL_RE.sub("%", m.group(0))
        out.append(p)
    return sorted(out)


def only_placeholders(text):
    rest = PLACEHOLDER_RE.sub("", text)
    rest = re.sub(r"<[^>]*>|&(?:[A-Za-z]+|#\d+);", "", rest)   # markup / entities alone
    return not LETTER_RE.search(rest)


def split_key(english):
    """Normalised English used for the split (and for 'one string, one split')."""
    k = unicodedata.normalize("NFKC", english).casefold()
    k = k.replace("…", "...")
    k = re.sub(r"\s+", " ", k).strip()
    k = re.sub(r"[\s.:!?;,…]+$", "", k)
    return k


def bucket(english):
    return int(hashlib.sha1(split_key(english).encode("utf-8")).hexdigest()[:8], 16) % 10000


# ---------------------------------------------------------------------------------------------

def collect(extract_dir, packages, drops, per_package):
    """pairs[lang] -> Counter((en, tgt) -> occurrences)."""
    pairs = {l: collections.Counter() for l in LANGS}
    domains = collections.Counter()
    for pkg in packages:
        pdir = os.path.join(extract_dir, pkg)
        mo_files = []
        for d, subdirs, files in os.walk(pdir):
            subdirs.sort()
            for f in sorted(files):
                if f.endswith(".mo"):
                    mo_files.append(os.path.join(d, f))
        for path in mo_files:
            parts = path.split(os.sep)
            lang = parts[-3]
            if parts[-2] != "LC_MESSAGES" or lang not in LANGS:
                continue
            domain = os.path.splitext(parts[-1])[0]
            if domain in SKIP_DOMAINS:
                drops["skipped_domain"] += 1
                continue
            domains[(pkg, domain)] += 1
            try:
                entries = list(read_mo(path))
            except (ValueError, struct.error):
                drops["unreadable_catalog"] += 1
                continue
            for ctx, msgid, plural, msgstrs in entries:
                if msgid is None:
                    drops["decode_error"] += 1
                    continue
                if msgid == "":
                    drops["header"] += 1
                    continue
                if msgid.strip() in CREDIT_MSGIDS or (ctx or "").strip() in CREDIT_CONTEXTS:
                    drops["translator_credits"] += 1
                    continue
                cands = [(msgid, msgstrs[0] if msgstrs else "")]
                if plural is not None:
                    cands.append((plural, msgstrs[1] if len(msgstrs) > 1 else ""))
                for src, tgt in cands:
                    reason = clean_reason(src, tgt)
                    if isinstance(reason, str):
                        drops[reason] += 1
                        continue
                    s, t = reason
                    pairs[lang][(s, t)] += 1
                    per_package[pkg][lang] += 1
    return pairs, domains


def clean_reason(src, tgt):
    """Return (src, tgt) cleaned, or the name of the reason to drop the pair."""
    if not tgt or not tgt.strip():
        return "empty_msgstr"
    if any(c in s for s in (src, tgt) for c in "\t\n\r"):
        return "tab_or_newline"
    if CONTROL_RE.search(src) or CONTROL_RE.search(tgt):
        return "control_char"
    s = strip_accelerators(normalise(src))
    t = strip_accelerators(normalise(tgt))
    s, t = normalise(s), normalise(t)
    if not s or not t:
        return "empty_msgstr"
    if len(s) > MAX_CHARS or len(t) > MAX_CHARS:
        return "too_long"
    if only_placeholders(s) or only_placeholders(t):
        return "format_only"
    if s.casefold() == t.casefold():
        return "untranslated"
    if placeholders(s) != placeholders(t):
        return "placeholder_mismatch"
    return s, t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "demo-data"))
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "tolk-demo-en-fr-de-es"))
    args = ap.parse_args()

    extract_dir = os.path.join(args.work, "extract")
    if not os.path.isdir(extract_dir):
        sys.exit(f"prepare_data: {extract_dir} is missing; run harvest_catalogs.sh first")
    drops = collections.Counter()
    per_package = collections.defaultdict(collections.Counter)
    # Only the packages harvest_catalogs.sh recorded (stale folders in extract/ are ignored).
    sources = os.path.join(args.model_dir, "DATA_SOURCES.tsv")
    with open(sources, encoding="utf-8") as f:
        packages = sorted(line.split("\t")[0] for line in f.read().splitlines()[1:] if line)
    missing = [p for p in packages if not os.path.isdir(os.path.join(extract_dir, p))]
    if missing:
        sys.exit(f"prepare_data: not extracted: {' '.join(missing)}; run harvest_catalogs.sh")
    pairs, domains = collect(extract_dir, packages, drops, per_package)
    raw_pairs = {l: sum(c.values()) for l, c in pairs.items()}
    for l in LANGS:
        drops[f"duplicate_pair_{l}"] = raw_pairs[l] - len(pairs[l])

    # Split thresholds: grow the test share until every language has >= MIN_TEST test sources.
    buckets = {}
    for l in LANGS:
        for (s, _t) in pairs[l]:
            if s not in buckets:
                buckets[s] = bucket(s)
    test_cut = TEST_PER_10000
    while True:
        ok = True
        for l in LANGS:
            srcs = {s for (s, _t) in pairs[l] if buckets[s] < test_cut}
            if len(srcs) < MIN_TEST:
                ok = False
        if ok or test_cut >= 5000:
            break
        test_cut += 25
    dev_cut = test_cut + DEV_PER_10000

    def split_of(s):
        b = buckets[s]
        return "test" if b < test_cut else ("dev" if b < dev_cut else "train")

    rows = {"train": [], "dev": [], "test": []}
    for l, code in LANGS.items():
        by_src = collections.defaultdict(list)
        for (s, t), n in pairs[l].items():
            by_src[s].append((-n, t))
        for s in sorted(by_src):
            sp = split_of(s)
            cands = sorted(by_src[s])
            if sp != "train":
                cands = cands[:1]        # one reference per source in dev/test
            for _n, t in cands:
                rows[sp].append((ENG, code, s, t))
                if l == "fr":
                    rows[sp].append((code, ENG, t, s))

    for sp in rows:
        rows[sp] = sorted(set(rows[sp]))
    random.Random(SEED).shuffle(rows["train"])

    os.makedirs(args.work, exist_ok=True)
    for sp, lines in rows.items():
        with open(os.path.join(args.work, f"{sp}.tsv"), "w", encoding="utf-8", newline="\n") as f:
            for r in lines:
                f.write("\t".join(r) + "\n")

    # Committed evaluation copy (< 1 MB; capped deterministically if needed).
    def dump(lines):
        return "".join("\t".join(r) + "\n" for r in lines).encode("utf-8")
    test_lines = rows["test"]
    eval_bytes = dump(test_lines)
    capped = False
    if len(eval_bytes) >= 1_000_000:
        capped = True
        by_dir = collections.defaultdict(list)
        for r in test_lines:
            by_dir[(r[0], r[1])].append(r)
        keep = []
        for d in sorted(by_dir):
            eng_side = 2 if d[0] == ENG else 3
            ranked = sorted(by_dir[d], key=lambda r: (hashlib.sha1(split_key(r[eng_side]).encode()).hexdigest(), r))
            keep.extend(ranked[:EVAL_CAP])
        test_lines = sorted(keep)
        eval_bytes = dump(test_lines)
    eval_dir = os.path.join(args.model_dir, "eval")
    os.makedirs(eval_dir, exist_ok=True)
    with open(os.path.join(eval_dir, "test.tsv"), "wb") as f:
        f.write(eval_bytes)

    counts = {sp: dict(sorted(collections.Counter(f"{r[0]}-{r[1]}" for r in lines).items()))
              for sp, lines in rows.items()}
    eval_counts = dict(sorted(collections.Counter(f"{r[0]}-{r[1]}" for r in test_lines).items()))
    stats = {
        "pairs": counts,
        "eval_test_tsv": {"pairs": eval_counts, "bytes": len(eval_bytes), "capped": capped},
        "split": {"test_buckets_per_10000": test_cut, "dev_buckets_per_10000": DEV_PER_10000,
                  "key": "sha1(casefolded NFKC English, trailing punctuation stripped)[:8] % 10000"},
        "distinct_pairs_before_split": {l: len(pairs[l]) for l in LANGS},
        "dropped": dict(sorted(drops.items())),
        "catalogs": len(domains),
        "pairs_kept_per_package": {p: dict(sorted(c.items())) for p, c in sorted(per_package.items())},
        "seed": SEED,
    }
    with open(os.path.join(args.work, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=1, ensure_ascii=False, sort_keys=False)
        f.write("\n")

    print(f"catalogs read: {len(domains)}  (test share {test_cut / 100:.2f} %, dev {DEV_PER_10000 / 100:.2f} %)")
    dirs = sorted({d for c in counts.values() for d in c})
    print(f"{'direction':20s} {'train':>8s} {'dev':>6s} {'test':>6s} {'eval':>6s}")
    for d in dirs:
        print(f"{d:20s} {counts['train'].get(d, 0):8d} {counts['dev'].get(d, 0):6d} "
              f"{counts['test'].get(d, 0):6d} {eval_counts.get(d, 0):6d}")
    print("dropped:")
    for k, v in sorted(drops.items()):
        print(f"  {k:28s} {v}")
    print(f"eval copy: {os.path.join(eval_dir, 'test.tsv')} ({len(eval_bytes)} bytes{', capped' if capped else ''})")


if __name__ == "__main__":
    main()
