#!/usr/bin/env python3
"""example.py — tolk from Python through its C ABI (ctypes + asyncio).

    python3 example.py [MODEL_DIR] [--lib PATH/TO/libtolk_c.so]

MODEL_DIR defaults to $TOLK_TEST_MODEL, else ../../tests/data/dev (the tiny test checkpoint,
which translates "Hello world." to "Aduné."). The library comes from --lib, else $TOLK_C_LIB,
else ../../build/libtolk_c.so.
"""

import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tolk  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LONG_TEXT = ("Hello world. Open the file and save it before you close the window, then print the "
             "document. Hello world. Open the file and save it before you close the window.")


async def run_async(engine: tolk.Engine) -> None:
    opts = {"max_new_tokens": 20}
    # Three requests at once, awaited together; their callbacks run on tolk's threads.
    texts = ["Hello world.", "Open the file", "Save the document."]
    futures = [engine.translate_async("dev", t, "eng_Latn", "fra_Latn", opts) for t in texts]
    for text, result in zip(texts, await asyncio.wait_for(asyncio.gather(*futures), 60)):
        print(f"async:  {text!r} -> {result.text!r}")

    # Cancel one: it ends with TOLK_ERR_CANCELLED, unless it had already finished.
    long_opts = {"max_new_tokens": 200}
    running = [engine.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", long_opts)
               for _ in range(3)]
    engine.cancel(running[-1])
    outcomes = await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), 60)
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, tolk.TolkError):
            print(f"cancel: request {i}: {outcome.name}: {outcome.message}")
        else:
            print(f"cancel: request {i}: finished ({len(outcome.text)} characters)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("model", nargs="?", default=os.environ.get(
        "TOLK_TEST_MODEL", os.path.join(HERE, "..", "..", "tests", "data", "dev")))
    ap.add_argument("--lib", default=None, help="path of libtolk_c.so")
    args = ap.parse_args()

    tolk.load_library(args.lib)
    print(f"tolk {tolk.version()}")
    try:
        # One async thread: the cancelled request is still queued when cancel() arrives.
        with tolk.Engine({"async_threads": 1, "log_level": "error"}) as engine:
            engine.load_model("dev", args.model)

            result = engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn",
                                      {"max_new_tokens": 20, "beam_size": 1})
            print(f"sync:   'Hello world.' -> {result.text!r} (score {result.score:.4f}, "
                  f"{result.total_ms:.1f} ms)")

            batch = engine.translate_batch("dev", ["Hello world.", "", "Open the file"],
                                           "eng_Latn", "fra_Latn", {"max_new_tokens": 20})
            for i, item in enumerate(batch):
                print(f"batch:  [{i}] {item.status_name} {item.text!r}")

            asyncio.run(run_async(engine))

            try:
                engine.translate("dev", "Hello", "eng_Latn", "xxx_Latn")
            except tolk.TolkError as e:
                print(f"error:  {e.name}: {e.message}")
    except tolk.TolkError as e:
        print(f"failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
