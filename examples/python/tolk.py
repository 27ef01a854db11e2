"""tolk.py — a small ctypes binding of tolk's C ABI (capi/tolk.h), Python 3.11 stdlib only.

    import tolk
    with tolk.Engine() as engine:                       # loads libtolk_c.so (see load_library)
        engine.load_model("dev", "tests/data/dev")
        print(engine.translate("dev", "Hello world.", "eng_Latn", "fra_Latn").text)

        async def main():
            fut = engine.translate_async("dev", "Hello world.", "eng_Latn", "fra_Latn")
            print((await fut).text)

The library is found through load_library(path): the `path` argument, else the TOLK_C_LIB
environment variable (the .so itself or the folder holding it), else the build tree next to this
file (../../build/libtolk_c.so).

Errors: every failed call raises TolkError, which carries the status code, its name
(tolk_status_name) and the message (tolk_last_error_message, or the result's own message).

Async: translate_async returns an asyncio.Future. tolk runs the completion callback on one of its
own threads; the binding copies the result into Python objects there, frees it (the callee owns
it, per tolk.h), and hands the outcome to the event loop with loop.call_soon_threadsafe. One
module-level C callback (never freed) serves every request; user_data is a key into a registry
that keeps each request's state alive until its callback has fired.
"""

from __future__ import annotations

import asyncio
import ctypes
import itertools
import os
import sys
import threading
from ctypes import (CFUNCTYPE, POINTER, byref, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_void_p)
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["ABI_VERSION", "Engine", "TolkError", "Translation", "Hypothesis", "Status",
           "load_library", "version"]

# The header's TOLK_ABI_VERSION this binding was written against.
ABI_VERSION = 1


class Status:
    """tolk_status values (stable, part of the ABI)."""
    OK = 0
    ERR_INVALID_ARGUMENT = 1
    ERR_INVALID_UTF8 = 2
    ERR_UNKNOWN_MODEL = 3
    ERR_UNKNOWN_LANGUAGE = 4
    ERR_ALREADY_EXISTS = 5
    ERR_FILE_NOT_FOUND = 6
    ERR_INVALID_MODEL = 7
    ERR_UNSUPPORTED_MODEL = 8
    ERR_INPUT_TOO_LONG = 9
    ERR_CANCELLED = 10
    ERR_TIMEOUT = 11
    ERR_QUEUE_FULL = 12
    ERR_SHUTDOWN = 13
    ERR_INTERNAL = 14
    ERR_OUT_OF_MEMORY = 15
    ERR_NOT_READY = 16
    ERR_ALREADY_TAKEN = 17


class TolkError(Exception):
    """A failed tolk call: status (int), name (e.g. "TOLK_ERR_UNKNOWN_MODEL") and message."""

    def __init__(self, status: int, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.status = status
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Hypothesis:
    text: str
    score: float
    token_ids: list[int]


@dataclass(frozen=True)
class Translation:
    """A copy of one tolk_result: status first (a batch item or an async result may be an error)."""
    status: int
    status_name: str
    error_message: str
    text: str = ""
    score: float = 0.0
    token_ids: list[int] = field(default_factory=list)
    hypotheses: list[Hypothesis] = field(default_factory=list)
    queue_ms: float = 0.0
    encode_ms: float = 0.0
    decode_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    @property
    def error(self) -> TolkError | None:
        """The item's failure as an exception (None when it succeeded)."""
        if self.ok:
            return None
        return TolkError(self.status, self.status_name, self.error_message)

    def raise_for_status(self) -> "Translation":
        if not self.ok:
            raise self.error  # type: ignore[misc]
        return self


# ------------------------------------------------------------------------------------------------
# Loading the library and declaring every function this binding calls.
# ------------------------------------------------------------------------------------------------

# void (*tolk_callback)(void* user_data, tolk_result* result)
_CALLBACK = CFUNCTYPE(None, c_void_p, c_void_p)

_lib: ctypes.CDLL | None = None
_lib_lock = threading.Lock()


def _default_library_path() -> str:
    env = os.environ.get("TOLK_C_LIB")
    if env:
        return os.path.join(env, "libtolk_c.so") if os.path.isdir(env) else env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "build", "libtolk_c.so"))


def _declare(lib: ctypes.CDLL) -> None:
    P = c_void_p  # every opaque handle (tolk_engine*, tolk_options*, tolk_result*, …)
    PP = POINTER(c_void_p)
    sigs: dict[str, tuple[Any, list[Any]]] = {
        "tolk_version": (c_char_p, []),
        "tolk_abi_version": (c_int, []),
        "tolk_status_name": (c_char_p, [c_int]),
        "tolk_last_error_message": (c_char_p, []),
        "tolk_options_create": (P, []),
        "tolk_options_free": (None, [P]),
        "tolk_options_set_int": (c_int, [P, c_char_p, c_int64]),
        "tolk_options_set_float": (c_int, [P, c_char_p, c_double]),
        "tolk_options_set_string": (c_int, [P, c_char_p, c_char_p]),
        "tolk_engine_create": (c_int, [P, PP]),
        "tolk_engine_free": (None, [P]),
        "tolk_engine_load_model": (c_int, [P, c_char_p, c_char_p, P]),
        "tolk_engine_unload_model": (c_int, [P, c_char_p]),
        "tolk_translate_sync": (c_int, [P, c_char_p, c_char_p, c_char_p, c_char_p, P, PP]),
        "tolk_translate_batch": (c_int, [P, c_char_p, POINTER(c_char_p), c_size_t, c_char_p,
                                         c_char_p, P, PP]),
        "tolk_translate_async": (c_int, [P, c_char_p, c_char_p, c_char_p, c_char_p, P,
                                         _CALLBACK, c_void_p, PP]),
        "tolk_request_wait": (c_int, [P, c_int64, PP]),
        "tolk_request_cancel": (c_int, [P]),
        "tolk_request_free": (None, [P]),
        "tolk_result_status": (c_int, [P]),
        "tolk_result_text": (c_char_p, [P]),
        "tolk_result_error_message": (c_char_p, [P]),
        "tolk_result_score": (c_double, [P]),
        "tolk_result_token_ids": (POINTER(c_int64), [P, POINTER(c_size_t)]),
        "tolk_result_num_hypotheses": (c_size_t, [P]),
        "tolk_result_hypothesis_text": (c_char_p, [P, c_size_t]),
        "tolk_result_hypothesis_score": (c_double, [P, c_size_t]),
        "tolk_result_hypothesis_token_ids": (POINTER(c_int64), [P, c_size_t, POINTER(c_size_t)]),
        "tolk_result_queue_ms": (c_double, [P]),
        "tolk_result_encode_ms": (c_double, [P]),
        "tolk_result_decode_ms": (c_double, [P]),
        "tolk_result_total_ms": (c_double, [P]),
        "tolk_result_free": (None, [P]),
        "tolk_batch_result_size": (c_size_t, [P]),
        "tolk_batch_result_get": (P, [P, c_size_t]),
        "tolk_batch_result_free": (None, [P]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load_library(path: str | os.PathLike[str] | None = None) -> ctypes.CDLL:
    """Loads libtolk_c.so once (later calls return the same library) and checks its ABI version.

    CDLL, not PyDLL: ctypes releases the GIL around every call, so tolk's threads can run the
    Python completion callback while the main thread is inside tolk (e.g. in tolk_engine_free).
    """
    global _lib
    with _lib_lock:
        if _lib is None:
            lib = ctypes.CDLL(os.fspath(path) if path is not None else _default_library_path())
            _declare(lib)
            abi = lib.tolk_abi_version()
            if abi != ABI_VERSION:
                raise ImportError(f"libtolk_c ABI version {abi}, this binding needs {ABI_VERSION}")
            _lib = lib
        return _lib


def version() -> str:
    return load_library().tolk_version().decode()


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------

def _encode(s: str | bytes, what: str) -> bytes:
    """str → UTF-8 bytes for a char* argument; bytes pass through unchanged (tolk validates them).

    Lone surrogates are encoded as they are (surrogatepass), so tolk — not Python — reports them as
    TOLK_ERR_INVALID_UTF8. An embedded NUL would silently cut the C string short: refused here."""
    b = s if isinstance(s, bytes) else s.encode("utf-8", "surrogatepass")
    if b"\0" in b:
        raise ValueError(f"{what} contains a NUL character; tolk takes NUL-terminated strings")
    return b


def _decode(b: bytes | None) -> str:
    return b.decode("utf-8") if b else ""


def _status_name(status: int) -> str:
    return _decode(load_library().tolk_status_name(status))


def _check(status: int) -> None:
    """Raises TolkError for a non-OK status; call on the thread that made the failing call."""
    if status != Status.OK:
        message = _decode(load_library().tolk_last_error_message())  # before any other tolk_ call
        raise TolkError(status, _status_name(status), message)


def _ids(ptr: Any, n: c_size_t) -> list[int]:
    return [ptr[i] for i in range(n.value)] if ptr and n.value else []


def _read_result(r: int | None) -> Translation:
    """Copies everything out of a tolk_result (borrowed: the caller frees it)."""
    lib = load_library()
    status = lib.tolk_result_status(r)
    n = c_size_t(0)
    token_ids = _ids(lib.tolk_result_token_ids(r, byref(n)), n)
    hyps = []
    for i in range(lib.tolk_result_num_hypotheses(r)):
        hn = c_size_t(0)
        hyps.append(Hypothesis(_decode(lib.tolk_result_hypothesis_text(r, i)),
                               lib.tolk_result_hypothesis_score(r, i),
                               _ids(lib.tolk_result_hypothesis_token_ids(r, i, byref(hn)), hn)))
    return Translation(status=status, status_name=_status_name(status),
                       error_message=_decode(lib.tolk_result_error_message(r)),
                       text=_decode(lib.tolk_result_text(r)), score=lib.tolk_result_score(r),
                       token_ids=token_ids, hypotheses=hyps,
                       queue_ms=lib.tolk_result_queue_ms(r), encode_ms=lib.tolk_result_encode_ms(r),
                       decode_ms=lib.tolk_result_decode_ms(r), total_ms=lib.tolk_result_total_ms(r))


class _Options:
    """A tolk_options built from a dict, freed on exit: `with _Options(d) as o: call(..., o.ptr)`.

    bool/int values go to tolk_options_set_int, float to _set_float, str to _set_string. The C ABI
    has no way to ask a key's type, so an int given for a float key (length_penalty=1) is retried
    with the float setter; if that fails too, the int setter's error (which names the key) wins."""

    def __init__(self, values: Mapping[str, Any] | None):
        self.ptr: int | None = None
        if not values:
            return  # NULL options: all defaults
        lib = load_library()
        self.ptr = lib.tolk_options_create()
        if not self.ptr:
            raise MemoryError("tolk_options_create returned NULL")
        try:
            for key, value in values.items():
                k = _encode(key, "option key")
                if isinstance(value, str):
                    _check(lib.tolk_options_set_string(self.ptr, k, _encode(value, "option value")))
                elif isinstance(value, float):
                    _check(lib.tolk_options_set_float(self.ptr, k, value))
                elif isinstance(value, int):  # bool included: True → 1
                    s = lib.tolk_options_set_int(self.ptr, k, int(value))
                    if s != Status.OK:
                        message = _decode(lib.tolk_last_error_message())
                        err = TolkError(s, _status_name(s), message)
                        if (s != Status.ERR_INVALID_ARGUMENT or
                                lib.tolk_options_set_float(self.ptr, k, float(value)) != Status.OK):
                            raise err
                else:
                    raise TypeError(f"option {key!r}: unsupported value type {type(value).__name__}")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.ptr:
            load_library().tolk_options_free(self.ptr)
            self.ptr = None

    def __enter__(self) -> "_Options":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------
# Async plumbing: one C callback for every request, a registry keyed by user_data.
# ------------------------------------------------------------------------------------------------

@dataclass
class _Pending:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future
    request: int | None = None  # the tolk_request* (set once tolk_translate_async returned)


_registry: dict[int, _Pending] = {}
# Reentrant: held around tolk_request_cancel/_free, so even a callback run inline by them could
# take it again without deadlocking.
_registry_lock = threading.RLock()
_keys = itertools.count(1)  # user_data values; never 0 (that would arrive as None)


def _settle(key: int, outcome: Translation) -> None:
    """On the event loop thread: resolves the future and releases the request handle."""
    with _registry_lock:  # the lock orders this free after any cancel in progress
        pending = _registry.pop(key, None)
        if pending is None:
            return
        if pending.request:
            load_library().tolk_request_free(pending.request)
            pending.request = None
    if pending.future.done():  # cancelled on the Python side meanwhile
        return
    if outcome.ok:
        pending.future.set_result(outcome)
    else:
        pending.future.set_exception(outcome.error)  # type: ignore[arg-type]


def _on_complete(user_data: int | None, result: int | None) -> None:
    """The tolk_callback. Runs on an engine thread (or in tolk_engine_free's caller): copy, free,
    hand over to the loop. It must return quickly and must never raise (ctypes would only print)."""
    try:
        try:
            outcome = _read_result(result)
        finally:
            load_library().tolk_result_free(result)  # the callee owns the result
        with _registry_lock:
            pending = _registry.get(user_data or 0)
        if pending is None:
            return
        try:
            pending.loop.call_soon_threadsafe(_settle, user_data, outcome)
        except RuntimeError:  # the loop is closed: nobody is left to tell; release the handle
            with _registry_lock:
                gone = _registry.pop(user_data or 0, None)
                if gone is not None and gone.request:
                    load_library().tolk_request_free(gone.request)  # allowed in a callback
                    gone.request = None
    except BaseException as e:  # pragma: no cover - never let an exception reach C
        try:
            print(f"tolk: exception in completion callback: {e!r}", file=sys.stderr)
        except BaseException:
            pass


_c_on_complete = _CALLBACK(_on_complete)  # module lifetime: C may call it until engines are freed


# ------------------------------------------------------------------------------------------------
# The engine
# ------------------------------------------------------------------------------------------------

class Engine:
    """A tolk_engine. Use as a context manager, or call close(); both free it (tolk_engine_free
    waits for every request and callback, so pending futures are settled — with a result or
    TOLK_ERR_SHUTDOWN — on their loops afterwards)."""

    def __init__(self, options: Mapping[str, Any] | None = None,
                 library: str | os.PathLike[str] | None = None):
        self._lib = load_library(library)
        out = c_void_p()
        with _Options(options) as o:
            _check(self._lib.tolk_engine_create(o.ptr, byref(out)))
        self._ptr: int | None = out.value

    # -- lifetime --
    def close(self) -> None:
        if self._ptr:
            ptr, self._ptr = self._ptr, None
            self._lib.tolk_engine_free(ptr)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    @property
    def _handle(self) -> int:
        if not self._ptr:
            raise TolkError(Status.ERR_SHUTDOWN, "TOLK_ERR_SHUTDOWN", "the engine is closed")
        return self._ptr

    # -- models --
    def load_model(self, name: str, path: str | os.PathLike[str],
                   options: Mapping[str, Any] | None = None) -> None:
        with _Options(options) as o:
            _check(self._lib.tolk_engine_load_model(self._handle, _encode(name, "model name"),
                                                    _encode(os.fspath(path), "model path"), o.ptr))

    def unload_model(self, name: str) -> None:
        _check(self._lib.tolk_engine_unload_model(self._handle, _encode(name, "model name")))

    # -- translation --
    def translate(self, model: str, text: str | bytes, src_lang: str, tgt_lang: str,
                  options: Mapping[str, Any] | None = None) -> Translation:
        """Translates on the calling thread (the GIL is released meanwhile). Raises TolkError."""
        out = c_void_p()
        with _Options(options) as o:
            _check(self._lib.tolk_translate_sync(
                self._handle, _encode(model, "model"), _encode(text, "text"),
                _encode(src_lang, "src_lang"), _encode(tgt_lang, "tgt_lang"), o.ptr, byref(out)))
        try:
            return _read_result(out.value)
        finally:
            self._lib.tolk_result_free(out.value)

    def translate_batch(self, model: str, texts: Sequence[str | bytes], src_lang: str,
                        tgt_lang: str, options: Mapping[str, Any] | None = None
                        ) -> list[Translation]:
        """One Translation per text, in order. Per-item failures are in each item's status /
        .error (they do not raise); failures of the whole call raise TolkError."""
        encoded = [_encode(t, f"texts[{i}]") for i, t in enumerate(texts)]
        array = (c_char_p * len(encoded))(*encoded)  # `encoded` keeps the bytes alive
        out = c_void_p()
        with _Options(options) as o:
            _check(self._lib.tolk_translate_batch(
                self._handle, _encode(model, "model"), array, len(encoded),
                _encode(src_lang, "src_lang"), _encode(tgt_lang, "tgt_lang"), o.ptr, byref(out)))
        try:
            n = self._lib.tolk_batch_result_size(out.value)
            # Items are borrowed from the batch: read them, never free them.
            return [_read_result(self._lib.tolk_batch_result_get(out.value, i)) for i in range(n)]
        finally:
            self._lib.tolk_batch_result_free(out.value)

    def translate_async(self, model: str, text: str | bytes, src_lang: str, tgt_lang: str,
                        options: Mapping[str, Any] | None = None,
                        loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Future:
        """Queues a translation; returns a Future resolved (on `loop`, by default the running
        loop) with a Translation, or failed with TolkError (e.g. TOLK_ERR_CANCELLED,
        TOLK_ERR_UNKNOWN_LANGUAGE). Errors of the call itself raise TolkError here.
        Cancelling the Future also asks tolk to stop the request. Call from the loop's thread."""
        loop = loop or asyncio.get_running_loop()
        future = loop.create_future()
        key = next(_keys)
        pending = _Pending(loop, future)
        # Registered before the call: the callback may fire before tolk_translate_async returns.
        with _registry_lock:
            _registry[key] = pending
        out = c_void_p()
        try:
            with _Options(options) as o:
                _check(self._lib.tolk_translate_async(
                    self._handle, _encode(model, "model"), _encode(text, "text"),
                    _encode(src_lang, "src_lang"), _encode(tgt_lang, "tgt_lang"), o.ptr,
                    _c_on_complete, c_void_p(key), byref(out)))
        except BaseException:
            with _registry_lock:  # no callback will run for a refused call
                _registry.pop(key, None)
            raise
        # _settle (which frees the handle) runs on this loop, so it cannot have run yet.
        pending.request = out.value
        future._tolk_key = key  # type: ignore[attr-defined]  # for Engine.cancel
        future.add_done_callback(lambda f: f.cancelled() and self._cancel_key(key))
        return future

    def cancel(self, future: asyncio.Future) -> None:
        """Asks tolk to stop the request behind `future` (from translate_async). The future then
        fails with TolkError(TOLK_ERR_CANCELLED) — or gets its result, if the request ended first.
        A no-op for a request that has ended. Thread-safe."""
        key = getattr(future, "_tolk_key", None)
        if key is None:
            raise ValueError("not a future returned by Engine.translate_async")
        self._cancel_key(key)

    def _cancel_key(self, key: int) -> None:
        with _registry_lock:  # _settle frees the handle under the same lock: valid here
            pending = _registry.get(key)
            if pending is not None and pending.request:
                _check(self._lib.tolk_request_cancel(pending.request))

