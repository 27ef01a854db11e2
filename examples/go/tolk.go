// Package tolk embeds tolk (NLLB translation) through its C ABI, capi/tolk.h, with cgo.
//
//	e, err := tolk.NewEngine(nil)
//	defer e.Close()
//	err = e.LoadModel("dev", "tests/data/dev", nil)
//	t, err := e.Translate("dev", "Hello world.", "eng_Latn", "fra_Latn", nil)
//	fmt.Println(t.Text)
//
// Results are copied into Go values (Translation) and the C objects freed at once. Async
// requests are waited on (Request.Wait) or delivered to a Go callback (TranslateAsyncFunc):
// tolk calls an exported Go function on its own thread, with a runtime/cgo.Handle as user_data.
//
// The library is found through the #cgo flags below (the CMake build tree of this repository);
// set CGO_LDFLAGS="-L/dir -Wl,-rpath,/dir" to link another one, and CGO_CFLAGS="-I/include"
// for another tolk.h.
package tolk

/*
#cgo CFLAGS: -I${SRCDIR}/../../capi
#cgo LDFLAGS: -L${SRCDIR}/../../build -L${SRCDIR}/../../build/capi -ltolk_c
#cgo LDFLAGS: -Wl,-rpath,${SRCDIR}/../../build -Wl,-rpath,${SRCDIR}/../../build/capi
#include <stdint.h>
#include <stdlib.h>
#include "tolk.h"

// Implemented in Go (callback.go, //export tolkGoCallback).
extern void tolkGoCallback(void* user_data, tolk_result* result);

// A cgo.Handle is an integer; C's user_data is a pointer. Converting here keeps Go's vet rule
// against turning integers into unsafe.Pointer.
static void* tolk_go_handle_to_ptr(uintptr_t h) { return (void*)h; }

static tolk_status tolk_go_translate_async(tolk_engine* e, const char* model, const char* text,
                                           const char* src, const char* tgt,
                                           const tolk_options* o, uintptr_t handle,
                                           tolk_request** out) {
  return tolk_translate_async(e, model, text, src, tgt, o,
                              handle ? tolkGoCallback : NULL,
                              handle ? tolk_go_handle_to_ptr(handle) : NULL, out);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"time"
	"unsafe"
)

// ABIVersion is the header's TOLK_ABI_VERSION this package was compiled against.
const ABIVersion = int(C.TOLK_ABI_VERSION)

// Status is a tolk_status value.
type Status int

const (
	OK                  Status = C.TOLK_OK
	ErrInvalidArgument  Status = C.TOLK_ERR_INVALID_ARGUMENT
	ErrInvalidUTF8      Status = C.TOLK_ERR_INVALID_UTF8
	ErrUnknownModel     Status = C.TOLK_ERR_UNKNOWN_MODEL
	ErrUnknownLanguage  Status = C.TOLK_ERR_UNKNOWN_LANGUAGE
	ErrAlreadyExists    Status = C.TOLK_ERR_ALREADY_EXISTS
	ErrFileNotFound     Status = C.TOLK_ERR_FILE_NOT_FOUND
	ErrInvalidModel     Status = C.TOLK_ERR_INVALID_MODEL
	ErrUnsupportedModel Status = C.TOLK_ERR_UNSUPPORTED_MODEL
	ErrInputTooLong     Status = C.TOLK_ERR_INPUT_TOO_LONG
	ErrCancelled        Status = C.TOLK_ERR_CANCELLED
	ErrTimeout          Status = C.TOLK_ERR_TIMEOUT
	ErrQueueFull        Status = C.TOLK_ERR_QUEUE_FULL
	ErrShutdown         Status = C.TOLK_ERR_SHUTDOWN
	ErrInternal         Status = C.TOLK_ERR_INTERNAL
	ErrOutOfMemory      Status = C.TOLK_ERR_OUT_OF_MEMORY
	ErrNotReady         Status = C.TOLK_ERR_NOT_READY
	ErrAlreadyTaken     Status = C.TOLK_ERR_ALREADY_TAKEN
)

// String is tolk_status_name, e.g. "TOLK_ERR_UNKNOWN_MODEL".
func (s Status) String() string { return C.GoString(C.tolk_status_name(C.tolk_status(s))) }

// Error is a failed call or a failed result: the status, its name and tolk's message.
type Error struct {
	Status  Status
	Name    string
	Message string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// Is lets errors.Is(err, &tolk.Error{Status: tolk.ErrCancelled}) match on the status.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Status == e.Status
}

func newError(s Status, message string) *Error {
	return &Error{Status: s, Name: s.String(), Message: message}
}

// call runs a fallible tolk function and turns a failure into *Error. tolk's last error is per
// OS thread while a goroutine may move between threads between two cgo calls: the thread is
// pinned so that tolk_last_error_message is read on the thread that failed.
func call(f func() C.tolk_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := f()
	if s == C.TOLK_OK {
		return nil
	}
	return newError(Status(s), C.GoString(C.tolk_last_error_message()))
}

// Version is the library version, e.g. "0.1.0".
func Version() string { return C.GoString(C.tolk_version()) }

// LibraryABIVersion is tolk_abi_version(); it equals ABIVersion when header and library match.
func LibraryABIVersion() int { return int(C.tolk_abi_version()) }

// cstring copies s into C memory (free with C.free). A NUL byte cannot be passed in a C
// string: refused as TOLK_ERR_INVALID_ARGUMENT. Invalid UTF-8 is passed on: tolk refuses it.
func cstring(s, what string) (*C.char, error) {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return nil, newError(ErrInvalidArgument, fmt.Sprintf("%s contains a NUL byte at offset %d", what, i))
	}
	return C.CString(s), nil
}

// cstrings converts several arguments; free them all with freeAll.
func cstrings(pairs ...string) ([]*C.char, error) {
	out := make([]*C.char, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		c, err := cstring(pairs[i], pairs[i+1])
		if err != nil {
			freeAll(out)
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func freeAll(cs []*C.char) {
	for _, c := range cs {
		C.free(unsafe.Pointer(c))
	}
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

// Options is a tolk_options object (keys in docs/c-api.md). Free it, or leave it to the GC.
// Not safe for concurrent modification; any number of calls may read it at once.
type Options struct{ p *C.tolk_options }

// NewOptions returns an empty options object (all defaults).
func NewOptions() *Options {
	o := &Options{p: C.tolk_options_create()}
	if o.p == nil {
		panic("tolk_options_create: out of memory")
	}
	runtime.SetFinalizer(o, (*Options).Free)
	return o
}

// Free releases the options; later use is a no-op (nil pointer means defaults).
func (o *Options) Free() {
	if o != nil && o.p != nil {
		C.tolk_options_free(o.p)
		o.p = nil
		runtime.SetFinalizer(o, nil)
	}
}

func (o *Options) set(key string, f func(k *C.char) C.tolk_status) error {
	k, err := cstring(key, "option key")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(k))
	err = call(func() C.tolk_status { return f(k) })
	runtime.KeepAlive(o)
	return err
}

// SetInt sets an integer key (beam_size, max_new_tokens, async_threads, …).
func (o *Options) SetInt(key string, v int64) error {
	return o.set(key, func(k *C.char) C.tolk_status { return C.tolk_options_set_int(o.p, k, C.int64_t(v)) })
}

// SetFloat sets a floating-point key (length_penalty, temperature, sampling_topp, …).
func (o *Options) SetFloat(key string, v float64) error {
	return o.set(key, func(k *C.char) C.tolk_status { return C.tolk_options_set_float(o.p, k, C.double(v)) })
}

// SetString sets a string key (priority, mode, log_level, …); the value is copied.
func (o *Options) SetString(key, v string) error {
	cv, err := cstring(v, "option value")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cv))
	return o.set(key, func(k *C.char) C.tolk_status { return C.tolk_options_set_string(o.p, k, cv) })
}

// With sets several keys by Go type (int → SetInt, float64 → SetFloat, string → SetString) and
// returns the options, or the first error.
func (o *Options) With(kv map[string]any) (*Options, error) {
	for k, v := range kv {
		var err error
		switch x := v.(type) {
		case int:
			err = o.SetInt(k, int64(x))
		case int64:
			err = o.SetInt(k, x)
		case bool:
			b := int64(0)
			if x {
				b = 1
			}
			err = o.SetInt(k, b)
		case float64:
			err = o.SetFloat(k, x)
		case string:
			err = o.SetString(k, x)
		default:
			err = fmt.Errorf("option %q: unsupported type %T", k, v)
		}
		if err != nil {
			return o, err
		}
	}
	return o, nil
}

func (o *Options) raw() *C.tolk_options {
	if o == nil {
		return nil
	}
	return o.p
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

// Hypothesis is one entry of the n-best list.
type Hypothesis struct {
	Text  string
	Score float64
}

// Translation is a copy of one tolk_result. Err is nil when Status is OK.
type Translation struct {
	Status     Status
	Err        *Error
	Text       string
	Score      float64
	TokenIDs   []int64
	Hypotheses []Hypothesis
	TotalMs    float64
}

// copyResult reads everything out of a result (borrowed: the caller frees it).
func copyResult(r *C.tolk_result) *Translation {
	s := Status(C.tolk_result_status(r))
	t := &Translation{
		Status:  s,
		Text:    C.GoString(C.tolk_result_text(r)),
		Score:   float64(C.tolk_result_score(r)),
		TotalMs: float64(C.tolk_result_total_ms(r)),
	}
	if s != OK {
		t.Err = newError(s, C.GoString(C.tolk_result_error_message(r)))
	}
	var n C.size_t
	if ids := C.tolk_result_token_ids(r, &n); ids != nil && n > 0 {
		t.TokenIDs = make([]int64, int(n))
		copy(t.TokenIDs, unsafe.Slice((*int64)(unsafe.Pointer(ids)), int(n)))
	}
	for i := C.size_t(0); i < C.tolk_result_num_hypotheses(r); i++ {
		t.Hypotheses = append(t.Hypotheses, Hypothesis{
			Text:  C.GoString(C.tolk_result_hypothesis_text(r, i)),
			Score: float64(C.tolk_result_hypothesis_score(r, i)),
		})
	}
	return t
}

// takeResult copies an owned result, frees it, and returns it with its error (if failed).
func takeResult(r *C.tolk_result) (*Translation, error) {
	defer C.tolk_result_free(r)
	t := copyResult(r)
	if t.Err != nil {
		return t, t.Err
	}
	return t, nil
}

// ---------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------

// Engine is a tolk_engine. Safe for concurrent use; Close must be the last call on it.
type Engine struct{ p *C.tolk_engine }

// NewEngine creates an engine; opts: nil or engine keys (async_threads, log_level, …).
func NewEngine(opts *Options) (*Engine, error) {
	var p *C.tolk_engine
	err := call(func() C.tolk_status { return C.tolk_engine_create(opts.raw(), &p) })
	runtime.KeepAlive(opts)
	if err != nil {
		return nil, err
	}
	e := &Engine{p: p}
	runtime.SetFinalizer(e, (*Engine).Close)
	return e, nil
}

// Close frees the engine (tolk_engine_free): queued requests end with TOLK_ERR_SHUTDOWN and
// it returns once every callback has returned. Must not be called from a callback.
func (e *Engine) Close() {
	if e != nil && e.p != nil {
		p := e.p
		e.p = nil
		runtime.SetFinalizer(e, nil)
		C.tolk_engine_free(p)
	}
}

// LoadModel loads the model directory path under name; opts: nil or model keys.
func (e *Engine) LoadModel(name, path string, opts *Options) error {
	cs, err := cstrings(name, "model name", path, "model path")
	if err != nil {
		return err
	}
	defer freeAll(cs)
	err = call(func() C.tolk_status { return C.tolk_engine_load_model(e.p, cs[0], cs[1], opts.raw()) })
	runtime.KeepAlive(opts)
	return err
}

// UnloadModel unloads a model.
func (e *Engine) UnloadModel(name string) error {
	n, err := cstring(name, "model name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(n))
	return call(func() C.tolk_status { return C.tolk_engine_unload_model(e.p, n) })
}

// Translate translates one text on the calling goroutine's thread.
func (e *Engine) Translate(model, text, srcLang, tgtLang string, opts *Options) (*Translation, error) {
	cs, err := cstrings(model, "model", text, "text", srcLang, "src_lang", tgtLang, "tgt_lang")
	if err != nil {
		return nil, err
	}
	defer freeAll(cs)
	var r *C.tolk_result
	err = call(func() C.tolk_status {
		return C.tolk_translate_sync(e.p, cs[0], cs[1], cs[2], cs[3], opts.raw(), &r)
	})
	runtime.KeepAlive(opts)
	if err != nil {
		return nil, err
	}
	return takeResult(r)
}

// TranslateBatch translates texts as one batch: one Translation per text, in order. Failures
// of the whole call are the error; per-item failures are in each item's Status / Err.
func (e *Engine) TranslateBatch(model string, texts []string, srcLang, tgtLang string, opts *Options) ([]*Translation, error) {
	cs, err := cstrings(model, "model", srcLang, "src_lang", tgtLang, "tgt_lang")
	if err != nil {
		return nil, err
	}
	defer freeAll(cs)
	// The array of char* lives in C memory too (Go memory holding only C pointers would also
	// be allowed, but C memory needs no thought).
	n := len(texts)
	arr := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	defer C.free(unsafe.Pointer(arr))
	items := unsafe.Slice(arr, n+1)
	defer func() { freeAll(items[:n]) }()
	for i, t := range texts {
		if items[i], err = cstring(t, fmt.Sprintf("texts[%d]", i)); err != nil {
			return nil, err
		}
	}
	var b *C.tolk_batch_result
	err = call(func() C.tolk_status {
		return C.tolk_translate_batch(e.p, cs[0], arr, C.size_t(n), cs[1], cs[2], opts.raw(), &b)
	})
	runtime.KeepAlive(opts)
	if err != nil {
		return nil, err
	}
	defer C.tolk_batch_result_free(b)
	out := make([]*Translation, int(C.tolk_batch_result_size(b)))
	for i := range out {
		// Borrowed from the batch: copied, never freed on its own.
		out[i] = copyResult((*C.tolk_result)(unsafe.Pointer(C.tolk_batch_result_get(b, C.size_t(i)))))
	}
	return out, nil
}

// Request is the handle of an async translation. Wait and Cancel may be called from any
// goroutine; Free (or the GC) releases the handle — it must be the last call on it.
type Request struct{ p *C.tolk_request }

func newRequest(p *C.tolk_request) *Request {
	r := &Request{p: p}
	runtime.SetFinalizer(r, (*Request).Free)
	return r
}

// TranslateAsync queues a translation; collect it with Request.Wait.
func (e *Engine) TranslateAsync(model, text, srcLang, tgtLang string, opts *Options) (*Request, error) {
	return e.submit(model, text, srcLang, tgtLang, opts, nil)
}

// TranslateAsyncFunc queues a translation whose outcome is passed to done, once, on an engine
// thread (or on the goroutine calling Close, for a request still queued then). done must return
// quickly; hand the value to a channel. Wait on the returned request gives (nil, nil) for a
// success, or the request's error.
func (e *Engine) TranslateAsyncFunc(model, text, srcLang, tgtLang string, opts *Options,
	done func(*Translation, error)) (*Request, error) {
	if done == nil {
		return nil, newError(ErrInvalidArgument, "done is nil")
	}
	return e.submit(model, text, srcLang, tgtLang, opts, done)
}

func (e *Engine) submit(model, text, srcLang, tgtLang string, opts *Options,
	done func(*Translation, error)) (*Request, error) {
	cs, err := cstrings(model, "model", text, "text", srcLang, "src_lang", tgtLang, "tgt_lang")
	if err != nil {
		return nil, err
	}
	defer freeAll(cs)
	var h cgo.Handle
	if done != nil {
		h = cgo.NewHandle(done) // deleted by the callback, or below if the call is refused
	}
	var p *C.tolk_request
	err = call(func() C.tolk_status {
		return C.tolk_go_translate_async(e.p, cs[0], cs[1], cs[2], cs[3], opts.raw(), C.uintptr_t(h), &p)
	})
	runtime.KeepAlive(opts)
	if err != nil {
		if h != 0 {
			h.Delete() // a refused call runs no callback
		}
		return nil, err
	}
	return newRequest(p), nil
}

// Wait waits up to timeout for the request to end (negative: forever; 0 polls).
//   - (t, nil): it succeeded and this call got the result.
//   - (nil, nil): it succeeded and a callback got the result.
//   - (t or nil, *Error): its failure (TOLK_ERR_CANCELLED, _TIMEOUT, _SHUTDOWN, …), or
//     TOLK_ERR_NOT_READY (still running), or TOLK_ERR_ALREADY_TAKEN.
func (r *Request) Wait(timeout time.Duration) (*Translation, error) {
	ms := int64(-1)
	if timeout >= 0 {
		ms = timeout.Milliseconds()
	}
	var res *C.tolk_result
	err := call(func() C.tolk_status { return C.tolk_request_wait(r.p, C.int64_t(ms), &res) })
	runtime.KeepAlive(r)
	if res != nil {
		return takeResult(res) // the result carries its own status and message
	}
	return nil, err
}

// Cancel asks the request to stop: it ends with TOLK_ERR_CANCELLED unless it ends first.
func (r *Request) Cancel() error {
	err := call(func() C.tolk_status { return C.tolk_request_cancel(r.p) })
	runtime.KeepAlive(r)
	return err
}

// Free releases the handle (the request itself still completes).
func (r *Request) Free() {
	if r != nil && r.p != nil {
		C.tolk_request_free(r.p)
		r.p = nil
		runtime.SetFinalizer(r, nil)
	}
}
