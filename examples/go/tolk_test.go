package tolk_test

// The cgo package against libtolk_c.so and the dev checkpoint ($TOLK_TEST_MODEL, default
// ../../tests/data/dev): known outputs, batches, async (wait, callbacks, cancel, Close with
// requests in flight) and named errors. Every wait is bounded; run with `go test -timeout`.

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/tolk"
)

const longText = "Hello world. Open the file and save it before you close the window, then " +
	"print the document. Hello world. Open the file and save it before you close the window."

func modelDir(t testing.TB) string {
	if m := os.Getenv("TOLK_TEST_MODEL"); m != "" {
		return m
	}
	abs, err := filepath.Abs(filepath.Join("..", "..", "tests", "data", "dev"))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func options(t testing.TB, kv map[string]any) *tolk.Options {
	o, err := tolk.NewOptions().With(kv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Free)
	return o
}

func newEngine(t testing.TB, kv map[string]any) *tolk.Engine {
	if kv == nil {
		kv = map[string]any{}
	}
	kv["log_level"] = "error"
	e, err := tolk.NewEngine(options(t, kv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	if err := e.LoadModel("dev", modelDir(t), nil); err != nil {
		t.Fatal(err)
	}
	return e
}

func greedy(t testing.TB) *tolk.Options { return options(t, map[string]any{"max_new_tokens": 20}) }
func long(t testing.TB) *tolk.Options   { return options(t, map[string]any{"max_new_tokens": 200}) }

// wantErr checks a named error with a message.
func wantErr(t *testing.T, err error, name string) *tolk.Error {
	t.Helper()
	var te *tolk.Error
	if !errors.As(err, &te) {
		t.Fatalf("want %s, got %v", name, err)
	}
	if te.Name != name || te.Status.String() != name {
		t.Fatalf("want %s, got %v", name, te)
	}
	if te.Message == "" {
		t.Fatalf("%s without a message", name)
	}
	return te
}

func TestVersionAndStatusNames(t *testing.T) {
	if !strings.Contains(tolk.Version(), ".") {
		t.Error(tolk.Version())
	}
	if tolk.LibraryABIVersion() != tolk.ABIVersion {
		t.Error("ABI mismatch")
	}
	if tolk.ErrNotReady.String() != "TOLK_ERR_NOT_READY" || tolk.Status(9999).String() != "TOLK_UNKNOWN_STATUS" {
		t.Error("status names")
	}
}

func TestSync(t *testing.T) {
	e := newEngine(t, nil)
	r, err := e.Translate("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "Aduné." || r.Status != tolk.OK || r.Err != nil {
		t.Fatalf("%+v", r)
	}
	want := []int64{2, 307, 150, 187, 161, 160, 156, 170, 173, 2}
	if len(r.TokenIDs) != len(want) {
		t.Fatalf("token ids %v", r.TokenIDs)
	}
	for i := range want {
		if r.TokenIDs[i] != want[i] {
			t.Fatalf("token ids %v", r.TokenIDs)
		}
	}
	if len(r.Hypotheses) != 1 || r.Hypotheses[0].Text != "Aduné." {
		t.Fatalf("%+v", r.Hypotheses)
	}
	beam := options(t, map[string]any{"max_new_tokens": 20, "beam_size": 4, "num_hypotheses": 4, "length_penalty": 1.0})
	r, err = e.Translate("dev", "Hello world.", "eng_Latn", "fra_Latn", beam)
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "Lempossible d'étendition." || math.Abs(r.Score - -1.152292) > 1e-4 || len(r.Hypotheses) != 4 {
		t.Fatalf("%+v", r)
	}
	if r, err = e.Translate("dev", "café 😀", "eng_Latn", "fra_Latn", greedy(t)); err != nil || r.Text == "" {
		t.Fatal(r, err)
	}
}

func TestBatch(t *testing.T) {
	e := newEngine(t, nil)
	items, err := e.TranslateBatch("dev", []string{"Hello world.", "", "Open the file"}, "eng_Latn", "fra_Latn", greedy(t))
	if err != nil || len(items) != 3 {
		t.Fatal(items, err)
	}
	for _, it := range items {
		if it.Status != tolk.OK {
			t.Fatal(it.Err)
		}
	}
	if items[0].Text != "Aduné." {
		t.Fatal(items[0].Text)
	}
	if items, err = e.TranslateBatch("dev", nil, "eng_Latn", "fra_Latn", nil); err != nil || len(items) != 0 {
		t.Fatal(items, err)
	}

	// A bad language: the call succeeds, each item has its own error.
	items, err = e.TranslateBatch("dev", []string{"Hello world.", "Open the file"}, "eng_Latn", "xxx_Latn", greedy(t))
	if err != nil || len(items) != 2 {
		t.Fatal(items, err)
	}
	for _, it := range items {
		wantErr(t, it.Err, "TOLK_ERR_UNKNOWN_LANGUAGE")
		if !strings.Contains(it.Err.Message, "xxx_Latn") || it.Text != "" {
			t.Fatalf("%+v", it)
		}
	}

	// Mixed: a model refusing inputs over 8 bytes fails only the long item.
	if err := e.LoadModel("small", modelDir(t), options(t, map[string]any{"max_input_bytes": 8})); err != nil {
		t.Fatal(err)
	}
	items, err = e.TranslateBatch("small", []string{"Hello world.", "", "Hi"}, "eng_Latn", "fra_Latn", greedy(t))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{items[0].Status.String(), items[1].Status.String(), items[2].Status.String()}
	if strings.Join(got, ",") != "TOLK_ERR_INPUT_TOO_LONG,TOLK_OK,TOLK_OK" {
		t.Fatal(got)
	}

	// Whole-call failures.
	_, err = e.TranslateBatch("dev", []string{"Hello world.", "caf\xc3"}, "eng_Latn", "fra_Latn", nil)
	wantErr(t, err, "TOLK_ERR_INVALID_UTF8")
	_, err = e.TranslateBatch("nope", []string{"Hello"}, "eng_Latn", "fra_Latn", nil)
	wantErr(t, err, "TOLK_ERR_UNKNOWN_MODEL")
}

func TestAsyncWait(t *testing.T) {
	e := newEngine(t, nil)
	req, err := e.TranslateAsync("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy(t))
	if err != nil {
		t.Fatal(err)
	}
	defer req.Free()
	r, err := req.Wait(0) // poll: still running or done
	if err != nil {
		wantErr(t, err, "TOLK_ERR_NOT_READY")
		if r, err = req.Wait(time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if r.Text != "Aduné." {
		t.Fatal(r.Text)
	}
	_, err = req.Wait(time.Minute)
	wantErr(t, err, "TOLK_ERR_ALREADY_TAKEN")
	if err := req.Cancel(); err != nil { // after the end: a no-op
		t.Fatal(err)
	}

	// Several at once, from goroutines, equal the sync translations.
	texts := []string{"Hello world.", "Open the file", "Save the document."}
	reqs := make([]*tolk.Request, len(texts))
	for i, text := range texts {
		if reqs[i], err = e.TranslateAsync("dev", text, "eng_Latn", "fra_Latn", greedy(t)); err != nil {
			t.Fatal(err)
		}
		defer reqs[i].Free()
	}
	var wg sync.WaitGroup
	got := make([]string, len(texts))
	for i := range reqs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r, err := reqs[i].Wait(time.Minute); err == nil {
				got[i] = r.Text
			} else {
				got[i] = err.Error()
			}
		}(i)
	}
	wg.Wait()
	for i, text := range texts {
		s, err := e.Translate("dev", text, "eng_Latn", "fra_Latn", greedy(t))
		if err != nil || got[i] != s.Text {
			t.Fatalf("%q: async %q, sync %q (%v)", text, got[i], s.Text, err)
		}
	}

	// An input error ends the request with its status; errors of the call come back at once.
	req2, err := e.TranslateAsync("dev", "Hello", "eng_Latn", "xxx_Latn", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer req2.Free()
	_, err = req2.Wait(time.Minute)
	wantErr(t, err, "TOLK_ERR_UNKNOWN_LANGUAGE")
	_, err = e.TranslateAsync("nope", "Hello", "eng_Latn", "fra_Latn", nil)
	wantErr(t, err, "TOLK_ERR_UNKNOWN_MODEL")
	_, err = e.TranslateAsync("dev", "\xff", "eng_Latn", "fra_Latn", nil)
	wantErr(t, err, "TOLK_ERR_INVALID_UTF8")
}

type outcome struct {
	i    int
	text string
	err  error
}

func TestAsyncCallbacks(t *testing.T) {
	e := newEngine(t, nil)
	ch := make(chan outcome, 16)
	var reqs []*tolk.Request
	for i := 0; i < 5; i++ {
		i := i
		r, err := e.TranslateAsyncFunc("dev", "Hello world.", "eng_Latn", "fra_Latn", greedy(t), func(tr *tolk.Translation, err error) {
			ch <- outcome{i, tr.Text, err}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Free()
		reqs = append(reqs, r)
	}
	seen := map[int]bool{}
	for range reqs {
		select {
		case o := <-ch:
			if o.err != nil || o.text != "Aduné." || seen[o.i] {
				t.Fatalf("%+v (seen %v)", o, seen)
			}
			seen[o.i] = true
		case <-time.After(time.Minute):
			t.Fatal("callback never fired")
		}
	}
	for _, r := range reqs {
		if tr, err := r.Wait(time.Minute); tr != nil || err != nil { // the callback had the result
			t.Fatal(tr, err)
		}
	}
	// A refused call runs no callback (and releases its handle).
	_, err := e.TranslateAsyncFunc("nope", "x", "eng_Latn", "fra_Latn", nil, func(*tolk.Translation, error) {
		t.Error("callback of a refused call")
	})
	wantErr(t, err, "TOLK_ERR_UNKNOWN_MODEL")
	// An error outcome reaches the callback.
	r, err := e.TranslateAsyncFunc("dev", "Hello", "eng_Latn", "xxx_Latn", nil, func(tr *tolk.Translation, err error) {
		ch <- outcome{99, "", err}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Free()
	select {
	case o := <-ch:
		wantErr(t, o.err, "TOLK_ERR_UNKNOWN_LANGUAGE")
	case <-time.After(time.Minute):
		t.Fatal("callback never fired")
	}
}

func TestCancel(t *testing.T) {
	e := newEngine(t, map[string]any{"async_threads": 1}) // later requests stay queued
	var reqs []*tolk.Request
	for i := 0; i < 6; i++ {
		r, err := e.TranslateAsync("dev", longText, "eng_Latn", "fra_Latn", long(t))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Free()
		reqs = append(reqs, r)
	}
	for _, r := range reqs {
		if err := r.Cancel(); err != nil {
			t.Fatal(err)
		}
	}
	cancelled := 0
	for _, r := range reqs {
		tr, err := r.Wait(time.Minute)
		switch {
		case err == nil:
			if tr == nil || tr.Status != tolk.OK {
				t.Fatal(tr)
			}
		case errors.Is(err, &tolk.Error{Status: tolk.ErrCancelled}):
			wantErr(t, err, "TOLK_ERR_CANCELLED")
			cancelled++
		default:
			t.Fatal(err)
		}
	}
	if cancelled < 1 {
		t.Fatal("nothing was cancelled")
	}

	// From another goroutine, with a callback.
	fired := make(chan error, 1)
	first, err := e.TranslateAsync("dev", longText, "eng_Latn", "fra_Latn", long(t))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Free()
	second, err := e.TranslateAsyncFunc("dev", longText, "eng_Latn", "fra_Latn", long(t), func(_ *tolk.Translation, err error) {
		fired <- err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Free()
	go func() { _ = second.Cancel() }()
	select {
	case err := <-fired:
		if err != nil {
			wantErr(t, err, "TOLK_ERR_CANCELLED")
		}
	case <-time.After(time.Minute):
		t.Fatal("callback never fired")
	}
	if _, err := first.Wait(time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWithRequestsInFlight(t *testing.T) {
	e := newEngine(t, map[string]any{"async_threads": 1})
	var mu sync.Mutex
	fired := 0
	var reqs []*tolk.Request
	for i := 0; i < 4; i++ {
		r, err := e.TranslateAsync("dev", longText, "eng_Latn", "fra_Latn", long(t))
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
		r, err = e.TranslateAsyncFunc("dev", longText, "eng_Latn", "fra_Latn", long(t), func(*tolk.Translation, error) {
			mu.Lock()
			fired++
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	e.Close() // every request ends; every callback has returned
	mu.Lock()
	if fired != 4 {
		t.Fatalf("%d callbacks fired", fired)
	}
	mu.Unlock()
	for _, r := range reqs {
		if _, err := r.Wait(0); err != nil {
			wantErr(t, err, "TOLK_ERR_SHUTDOWN")
		}
		r.Free()
	}
}

func TestErrors(t *testing.T) {
	e := newEngine(t, nil)
	for _, bad := range []string{"\xff", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "a\x80"} {
		_, err := e.Translate("dev", bad, "eng_Latn", "fra_Latn", nil)
		if wantErr(t, err, "TOLK_ERR_INVALID_UTF8").Status != tolk.ErrInvalidUTF8 {
			t.Fatal(err)
		}
		_, err = e.Translate("dev", "Hello", bad, "fra_Latn", nil)
		wantErr(t, err, "TOLK_ERR_INVALID_UTF8")
	}
	_, err := e.Translate("dev", "Hello\x00world", "eng_Latn", "fra_Latn", nil)
	if !strings.Contains(wantErr(t, err, "TOLK_ERR_INVALID_ARGUMENT").Message, "NUL") {
		t.Fatal(err)
	}

	o := options(t, nil)
	err = o.SetInt("beam_sizes", 4)
	if !strings.Contains(wantErr(t, err, "TOLK_ERR_INVALID_ARGUMENT").Message, "beam_sizes") {
		t.Fatal(err)
	}
	wantErr(t, o.SetFloat("beam_size", 4), "TOLK_ERR_INVALID_ARGUMENT") // wrong type
	wantErr(t, o.SetInt("beam_size", 0), "TOLK_ERR_INVALID_ARGUMENT")   // range
	wantErr(t, o.SetString("priority", "urgent"), "TOLK_ERR_INVALID_ARGUMENT")
	wantErr(t, o.SetFloat("temperature", math.NaN()), "TOLK_ERR_INVALID_ARGUMENT")
	_, err = e.Translate("dev", "Hello", "eng_Latn", "fra_Latn", options(t, map[string]any{"mode": "exclusive"}))
	if !strings.Contains(wantErr(t, err, "TOLK_ERR_INVALID_ARGUMENT").Message, "'mode'") {
		t.Fatal(err)
	}
	_, err = tolk.NewEngine(options(t, map[string]any{"beam_size": 2}))
	wantErr(t, err, "TOLK_ERR_INVALID_ARGUMENT")

	_, err = e.Translate("nope", "Hello", "eng_Latn", "fra_Latn", nil)
	wantErr(t, err, "TOLK_ERR_UNKNOWN_MODEL")
	_, err = e.Translate("dev", "Hello", "eng_Latn", "xxx_Latn", nil)
	wantErr(t, err, "TOLK_ERR_UNKNOWN_LANGUAGE")
	wantErr(t, e.LoadModel("dev", modelDir(t), nil), "TOLK_ERR_ALREADY_EXISTS")
	wantErr(t, e.LoadModel("m", "/nonexistent/tolk/model", nil), "TOLK_ERR_FILE_NOT_FOUND")
	if err := e.UnloadModel("dev"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.UnloadModel("dev"), "TOLK_ERR_UNKNOWN_MODEL")
}

// tolk's last error is per OS thread; goroutines move between threads. Many goroutines
// failing at once must each still get their own message.
func TestErrorsFromManyGoroutines(t *testing.T) {
	e := newEngine(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				name := "missing" + strconv.Itoa(g) // no name is a prefix of another
				_, err := e.Translate(name, "x", "eng_Latn", "fra_Latn", nil)
				var te *tolk.Error
				if !errors.As(err, &te) || !strings.Contains(te.Message, name) {
					errs <- err
				}
				if r, err := e.Translate("dev", "Hello world.", "eng_Latn", "fra_Latn", nil); err != nil || r.Text != "Aduné." {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestExampleRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs cmd/translate")
	}
	out, err := exec.Command("go", "run", "./cmd/translate", "-model", modelDir(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{`sync:   "Hello world." -> "Aduné."`, `async:  a -> "Aduné."`, "TOLK_ERR_UNKNOWN_LANGUAGE"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
}
