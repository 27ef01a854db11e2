// Command translate embeds tolk through its C ABI from Go.
//
//	go run ./cmd/translate [-model DIR] [TEXT]
//
// -model defaults to $TOLK_TEST_MODEL, else ../../tests/data/dev relative to examples/go (the
// tiny test checkpoint: "Hello world." → "Aduné."). It translates TEXT synchronously, then a
// batch, then three async requests at once (two waited on, one delivered to a callback), then
// cancels one of three long requests.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"example.com/tolk"
)

const longText = "Hello world. Open the file and save it before you close the window, then " +
	"print the document. Hello world. Open the file and save it before you close the window."

func defaultModel() string {
	if m := os.Getenv("TOLK_TEST_MODEL"); m != "" {
		return m
	}
	_, file, _, _ := runtime.Caller(0) // examples/go/cmd/translate/main.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "tests", "data", "dev")
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, "failed:", err)
		os.Exit(1)
	}
	return v
}

func check(err error) { must(0, err) }

func main() {
	model := flag.String("model", defaultModel(), "model directory")
	flag.Parse()
	text := "Hello world."
	if flag.NArg() > 0 {
		text = flag.Arg(0)
	}
	if tolk.LibraryABIVersion() != tolk.ABIVersion {
		fmt.Fprintln(os.Stderr, "libtolk_c ABI version differs from tolk.h")
		os.Exit(1)
	}
	fmt.Println("tolk", tolk.Version())

	// One async thread: the request cancelled below is still queued when Cancel arrives.
	engineOpts := must(tolk.NewOptions().With(map[string]any{"async_threads": 1, "log_level": "error"}))
	engine := must(tolk.NewEngine(engineOpts))
	defer engine.Close()
	check(engine.LoadModel("dev", *model, nil))
	opts := must(tolk.NewOptions().With(map[string]any{"max_new_tokens": 20}))

	t := must(engine.Translate("dev", text, "eng_Latn", "fra_Latn", opts))
	fmt.Printf("sync:   %q -> %q (score %.4f)\n", text, t.Text, t.Score)

	batch := must(engine.TranslateBatch("dev", []string{"Hello world.", "", "Open the file"}, "eng_Latn", "fra_Latn", opts))
	for i, item := range batch {
		fmt.Printf("batch:  [%d] %v %q\n", i, item.Status, item.Text)
	}

	a := must(engine.TranslateAsync("dev", "Hello world.", "eng_Latn", "fra_Latn", opts))
	b := must(engine.TranslateAsync("dev", "Open the file", "eng_Latn", "fra_Latn", opts))
	defer a.Free()
	defer b.Free()
	fromCallback := make(chan string, 1)
	c := must(engine.TranslateAsyncFunc("dev", "Save the document.", "eng_Latn", "fra_Latn", opts,
		func(t *tolk.Translation, err error) { // on an engine thread: hand over and return
			if err != nil {
				fromCallback <- err.Error()
			} else {
				fromCallback <- t.Text
			}
		}))
	defer c.Free()
	fmt.Printf("async:  a -> %q\n", must(a.Wait(time.Minute)).Text)
	fmt.Printf("async:  b -> %q\n", must(b.Wait(time.Minute)).Text)
	select {
	case s := <-fromCallback:
		fmt.Printf("async:  c (callback) -> %q\n", s)
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "callback never fired")
		os.Exit(1)
	}

	long := must(tolk.NewOptions().With(map[string]any{"max_new_tokens": 200}))
	var running []*tolk.Request
	for i := 0; i < 3; i++ {
		r := must(engine.TranslateAsync("dev", longText, "eng_Latn", "fra_Latn", long))
		defer r.Free()
		running = append(running, r)
	}
	check(running[2].Cancel())
	for i, r := range running {
		if t, err := r.Wait(time.Minute); err != nil {
			fmt.Printf("cancel: request %d: %v\n", i, err)
		} else {
			fmt.Printf("cancel: request %d: finished (%d characters)\n", i, len([]rune(t.Text)))
		}
	}

	if _, err := engine.Translate("dev", "Hello", "eng_Latn", "xxx_Latn", nil); err != nil {
		fmt.Printf("error:  %v\n", err)
	}
}
