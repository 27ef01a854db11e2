package tolk

// This file holds the //export: cgo allows only declarations in the preamble of such a file.

/*
#include "tolk.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"unsafe"
)

// tolkGoCallback is the tolk_callback of every TranslateAsyncFunc request. It runs on a thread
// tolk created (cgo attaches it to the Go runtime), owns `result` and must free it, and must
// return quickly. user_data is the cgo.Handle of the Go function; it is deleted here, since
// tolk calls each request's callback exactly once.
//
//export tolkGoCallback
func tolkGoCallback(userData unsafe.Pointer, result *C.tolk_result) {
	h := cgo.Handle(uintptr(userData))
	done := h.Value().(func(*Translation, error))
	h.Delete()
	t, err := takeResult(result) // copies, then frees: the callee owns the result
	defer func() {
		// A panic must not unwind into C: report it instead.
		if p := recover(); p != nil {
			fmt.Fprintf(os.Stderr, "tolk: completion callback panicked: %v\n", p)
		}
	}()
	done(t, err)
}
