#!/usr/bin/env python3
"""Tests of the ctypes binding (tolk.py) against libtolk_c.so and the dev checkpoint.

    TOLK_C_LIB=build/libtolk_c.so TOLK_TEST_MODEL=tests/data/dev python3 examples/python/test_tolk.py

Stdlib only (unittest). Every wait has a timeout, and faulthandler ends the run with a traceback
if anything hangs, so a broken async path fails instead of blocking ctest.
"""

import asyncio
import faulthandler
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tolk  # noqa: E402

MODEL = os.environ.get("TOLK_TEST_MODEL",
                       os.path.normpath(os.path.join(HERE, "..", "..", "tests", "data", "dev")))
GREEDY = {"max_new_tokens": 20}
LONG = {"max_new_tokens": 200}
LONG_TEXT = ("Hello world. Open the file and save it before you close the window, then print the "
             "document. Hello world. Open the file and save it before you close the window.")
TIMEOUT = 60  # seconds; the dev model answers in milliseconds


def setUpModule():
    faulthandler.dump_traceback_later(240, exit=True)  # the last line of defence against a hang
    tolk.load_library()  # $TOLK_C_LIB or ../../build/libtolk_c.so


def tearDownModule():
    faulthandler.cancel_dump_traceback_later()


class EngineTest(unittest.TestCase):
    engine_options = {"log_level": "error"}

    def setUp(self):
        self.engine = tolk.Engine(self.engine_options)
        self.engine.load_model("dev", MODEL)

    def tearDown(self):
        self.engine.close()

    def assertTolkError(self, name, fn, *args, **kwargs):
        with self.assertRaises(tolk.TolkError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.name, name)
        self.assertTrue(cm.exception.message, "a failed call must leave a message")
        return cm.exception


class TestLibrary(unittest.TestCase):
    def test_version_and_status_names(self):
        self.assertIn(".", tolk.version())
        self.assertEqual(tolk.load_library().tolk_abi_version(), tolk.ABI_VERSION)
        self.assertEqual(tolk._status_name(tolk.Status.ERR_NOT_READY), "TOLK_ERR_NOT_READY")
        self.assertEqual(tolk._status_name(9999), "TOLK_UNKNOWN_STATUS")


class TestSync(EngineTest):
    def test_known_output(self):
        r = self.engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn", GREEDY)
        self.assertTrue(r.ok)
        self.assertEqual(r.text, "Aduné.")
        self.assertEqual(r.token_ids, [2, 307, 150, 187, 161, 160, 156, 170, 173, 2])
        self.assertEqual(len(r.hypotheses), 1)
        self.assertEqual(r.hypotheses[0].text, "Aduné.")
        self.assertGreaterEqual(r.total_ms, 0)
        # Defaults (NULL options) give the same.
        self.assertEqual(self.engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn").text,
                         "Aduné.")

    def test_beam_and_nbest(self):
        r = self.engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn",
                                  {"max_new_tokens": 20, "beam_size": 4, "num_hypotheses": 4,
                                   "length_penalty": 1})  # int for a float key: retried as float
        self.assertEqual(r.text, "Lempossible d'étendition.")
        self.assertAlmostEqual(r.score, -1.152292, delta=1e-4)
        self.assertEqual(len(r.hypotheses), 4)
        self.assertGreaterEqual(r.hypotheses[0].score, r.hypotheses[3].score)

    def test_non_ascii_and_empty_text(self):
        self.assertTrue(self.engine.translate("dev", "café 😀", "eng_Latn", "fra_Latn", GREEDY).text)
        self.assertTrue(self.engine.translate("dev", "", "eng_Latn", "fra_Latn", GREEDY).ok)


class TestBatch(EngineTest):
    def test_items_in_order(self):
        texts = ["Hello world.", "", "Open the file"]
        items = self.engine.translate_batch("dev", texts, "eng_Latn", "fra_Latn", GREEDY)
        self.assertEqual([i.status_name for i in items], ["TOLK_OK"] * 3)
        self.assertEqual(items[0].text, "Aduné.")
        self.assertEqual(items[2].text,
                         self.engine.translate("dev", texts[2], "eng_Latn", "fra_Latn", GREEDY).text)
        self.assertEqual(self.engine.translate_batch("dev", [], "eng_Latn", "fra_Latn"), [])

    def test_bad_language_is_per_item(self):
        # The call succeeds; each item carries its own error.
        items = self.engine.translate_batch("dev", ["Hello world.", "Open the file"], "eng_Latn",
                                            "xxx_Latn", GREEDY)
        self.assertEqual(len(items), 2)
        for item in items:
            self.assertEqual(item.status_name, "TOLK_ERR_UNKNOWN_LANGUAGE")
            self.assertIn("xxx_Latn", item.error_message)
            self.assertEqual(item.text, "")
            self.assertIsInstance(item.error, tolk.TolkError)
            with self.assertRaises(tolk.TolkError):
                item.raise_for_status()

    def test_mixed_statuses(self):
        # A model that refuses inputs over 8 bytes: only the long item fails.
        self.engine.load_model("small", MODEL, {"max_input_bytes": 8})
        items = self.engine.translate_batch("small", ["Hello world.", "", "Hi"], "eng_Latn",
                                            "fra_Latn", GREEDY)
        self.assertEqual([i.status_name for i in items],
                         ["TOLK_ERR_INPUT_TOO_LONG", "TOLK_OK", "TOLK_OK"])
        self.assertTrue(items[0].error_message)

    def test_whole_call_errors(self):
        self.assertTolkError("TOLK_ERR_INVALID_UTF8", self.engine.translate_batch, "dev",
                             ["Hello world.", b"caf\xc3"], "eng_Latn", "fra_Latn")
        self.assertTolkError("TOLK_ERR_UNKNOWN_MODEL", self.engine.translate_batch, "nope",
                             ["Hello"], "eng_Latn", "fra_Latn")


class TestAsync(EngineTest):
    def test_gather_equals_sync(self):
        texts = ["Hello world.", "Open the file", "Save the document."]
        expected = [self.engine.translate("dev", t, "eng_Latn", "fra_Latn", GREEDY).text
                    for t in texts]

        async def main():
            futures = [self.engine.translate_async("dev", t, "eng_Latn", "fra_Latn", GREEDY)
                       for t in texts]
            return await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)

        results = asyncio.run(main())
        self.assertEqual([r.text for r in results], expected)
        self.assertEqual(results[0].text, "Aduné.")

    def test_input_error_fails_the_future(self):
        async def main():
            return await asyncio.wait_for(
                self.engine.translate_async("dev", "Hello", "eng_Latn", "xxx_Latn"), TIMEOUT)

        self.assertTolkError("TOLK_ERR_UNKNOWN_LANGUAGE", asyncio.run, main())

    def test_call_errors_raise_at_once(self):
        async def main():
            self.assertTolkError("TOLK_ERR_UNKNOWN_MODEL", self.engine.translate_async, "nope",
                                 "Hello", "eng_Latn", "fra_Latn")
            self.assertTolkError("TOLK_ERR_INVALID_UTF8", self.engine.translate_async, "dev",
                                 b"\xff", "eng_Latn", "fra_Latn")
            self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", self.engine.translate_async, "dev",
                                 "Hello", "eng_Latn", "fra_Latn", {"mode": "pool"})
            self.assertEqual(tolk._registry, {})  # nothing left behind by refused calls

        asyncio.run(main())

    def test_many_concurrent(self):
        async def main():
            futures = [self.engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn",
                                                   GREEDY) for _ in range(20)]
            return await asyncio.wait_for(asyncio.gather(*futures), TIMEOUT)

        self.assertEqual({r.text for r in asyncio.run(main())}, {"Aduné."})
        self.assertEqual(tolk._registry, {})


class TestCancel(EngineTest):
    engine_options = {"async_threads": 1, "log_level": "error"}  # later requests stay queued

    def test_cancel_ends_cancelled_or_done(self):
        async def main():
            futures = [self.engine.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", LONG)
                       for _ in range(6)]
            for f in futures:
                self.engine.cancel(f)
            return await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True),
                                          TIMEOUT)

        outcomes = asyncio.run(main())
        cancelled = 0
        for o in outcomes:
            if isinstance(o, tolk.TolkError):
                self.assertEqual(o.name, "TOLK_ERR_CANCELLED")
                self.assertTrue(o.message)
                cancelled += 1
            else:
                self.assertIsInstance(o, tolk.Translation)
                self.assertTrue(o.ok)
        self.assertGreaterEqual(cancelled, 1)  # with one async thread the last were queued
        # Cancelling after the end is a no-op.
        self.assertEqual(tolk._registry, {})
        self.assertEqual(self.engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn",
                                               GREEDY).text, "Aduné.")

    def test_cancelling_the_future_cancels_the_request(self):
        async def main():
            first = self.engine.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", LONG)
            second = self.engine.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", LONG)
            second.cancel()  # asyncio-side cancel → tolk_request_cancel
            await asyncio.wait_for(first, TIMEOUT)
            # The C callback still fires once and cleans up; wait for that, with a bound.
            for _ in range(TIMEOUT * 100):
                if not tolk._registry:
                    break
                await asyncio.sleep(0.01)
            return second

        second = asyncio.run(main())
        self.assertTrue(second.cancelled())
        self.assertEqual(tolk._registry, {})

    def test_close_with_requests_in_flight(self):
        async def main():
            futures = [self.engine.translate_async("dev", LONG_TEXT, "eng_Latn", "fra_Latn", LONG)
                       for _ in range(4)]
            self.engine.close()  # every request ends; queued ones with TOLK_ERR_SHUTDOWN
            return await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True),
                                          TIMEOUT)

        for o in asyncio.run(main()):
            if isinstance(o, tolk.TolkError):
                self.assertIn(o.name, ("TOLK_ERR_SHUTDOWN", "TOLK_ERR_CANCELLED"))
            else:
                self.assertTrue(o.ok)
        self.assertTolkError("TOLK_ERR_SHUTDOWN", self.engine.translate, "dev", "Hello",
                             "eng_Latn", "fra_Latn")


class TestErrors(EngineTest):
    def test_bad_utf8(self):
        for bad in (b"\xff", b"caf\xc3", b"\xc0\xaf", b"\xed\xa0\x80", b"a\x80"):
            e = self.assertTolkError("TOLK_ERR_INVALID_UTF8", self.engine.translate, "dev", bad,
                                     "eng_Latn", "fra_Latn")
            self.assertEqual(e.status, tolk.Status.ERR_INVALID_UTF8)
            self.assertTolkError("TOLK_ERR_INVALID_UTF8", self.engine.translate, "dev", "Hello",
                                 bad, "fra_Latn")
        # A str with a lone surrogate reaches tolk as bytes, and tolk names the error.
        self.assertTolkError("TOLK_ERR_INVALID_UTF8", self.engine.translate, "dev", "a\udc80",
                             "eng_Latn", "fra_Latn")

    def test_embedded_nul_is_refused_before_c(self):
        with self.assertRaises(ValueError):
            self.engine.translate("dev", "Hello\0world", "eng_Latn", "fra_Latn")

    def test_unknown_option_key(self):
        e = self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", self.engine.translate, "dev",
                                 "Hello", "eng_Latn", "fra_Latn", {"beam_sizes": 4})
        self.assertIn("beam_sizes", e.message)
        self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", self.engine.translate, "dev", "Hello",
                             "eng_Latn", "fra_Latn", {"beam_size": "4"})  # wrong type
        self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", self.engine.translate, "dev", "Hello",
                             "eng_Latn", "fra_Latn", {"beam_size": 0})  # out of range
        e = self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", self.engine.translate, "dev",
                                 "Hello", "eng_Latn", "fra_Latn", {"mode": "exclusive"})
        self.assertIn("'mode'", e.message)  # a model key on a translation call
        with self.assertRaises(TypeError):
            self.engine.translate("dev", "Hello", "eng_Latn", "fra_Latn", {"beam_size": [4]})

    def test_models_and_languages(self):
        self.assertTolkError("TOLK_ERR_UNKNOWN_MODEL", self.engine.translate, "nope", "Hello",
                             "eng_Latn", "fra_Latn")
        self.assertTolkError("TOLK_ERR_UNKNOWN_LANGUAGE", self.engine.translate, "dev", "Hello",
                             "eng_Latn", "xxx_Latn")
        self.assertTolkError("TOLK_ERR_ALREADY_EXISTS", self.engine.load_model, "dev", MODEL)
        self.assertTolkError("TOLK_ERR_FILE_NOT_FOUND", self.engine.load_model, "m",
                             "/nonexistent/tolk/model")
        self.engine.unload_model("dev")
        self.assertTolkError("TOLK_ERR_UNKNOWN_MODEL", self.engine.unload_model, "dev")

    def test_engine_options(self):
        e = self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", tolk.Engine, {"async_threads": 0})
        self.assertIn("async_threads", e.message)
        self.assertTolkError("TOLK_ERR_INVALID_ARGUMENT", tolk.Engine, {"beam_size": 2})


class TestExample(unittest.TestCase):
    def test_example_runs(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "example.py"), MODEL],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("sync:   'Hello world.' -> 'Aduné.'", p.stdout)
        self.assertIn("async:  'Hello world.' -> 'Aduné.'", p.stdout)
        self.assertIn("TOLK_ERR_UNKNOWN_LANGUAGE", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
