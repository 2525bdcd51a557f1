package httpx

// Go functions called from libhttpx. This file holds only //export functions
// (cgo forbids C definitions in the preamble of a file that exports); the C
// shims that pass them to the library live in shims.go. The first argument
// is the registry slot of the binding call running on this thread (0 = none).

/*
#include "httpx.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

//export goHttpxTransport
func goHttpxTransport(id C.uintptr_t, ud unsafe.Pointer, req *C.httpx_request, out *C.httpx_response_builder) (rc C.httpx_code) {
	defer func() {
		if p := recover(); p != nil {
			stash(id, fmt.Errorf("transport handler panicked: %v", p))
			rc = C.HTTPX_E_CALLBACK
		}
	}()
	t, ok := handleValue(ud).(*backendState)
	if !ok {
		return C.HTTPX_E_INTERNAL
	}
	view := &Request{c: req, builder: out, totalTimeout: NoTimeout}
	defer view.detach()
	if c := lookupCall(id); c != nil && c.ctl != nil {
		view.ctx = c.ctl.ctx
	}
	mr, err := t.handler(view)
	if err != nil {
		stash(id, err)
		if errors.Is(err, ErrRecursiveCall) {
			return C.HTTPX_E_RECURSIVE_CALL
		}
		return C.HTTPX_E_CALLBACK
	}
	if err := mr.fill(out); err != nil {
		stash(id, err)
		return C.HTTPX_E_CALLBACK
	}
	return C.HTTPX_OK
}

//export goHttpxRead
func goHttpxRead(id C.uintptr_t, ud unsafe.Pointer, buf *C.uint8_t, capacity C.uintptr_t, nOut *C.uintptr_t) (rc C.httpx_code) {
	defer func() {
		if p := recover(); p != nil {
			stash(id, fmt.Errorf("body reader panicked: %v", p))
			rc = C.HTTPX_E_CALLBACK
		}
	}()
	r, ok := handleValue(ud).(io.Reader)
	if !ok {
		return C.HTTPX_E_INTERNAL
	}
	*nOut = 0
	if capacity == 0 {
		return C.HTTPX_OK
	}
	p := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(capacity))
	// io.Reader may return (0, nil); the C side reads 0 as the end, so retry (bounded).
	for i := 0; i < 1000; i++ {
		n, err := r.Read(p)
		if n > 0 {
			*nOut = C.uintptr_t(n)
			return C.HTTPX_OK
		}
		if err == io.EOF {
			return C.HTTPX_OK
		}
		if err != nil {
			stash(id, err)
			return C.HTTPX_E_CALLBACK
		}
	}
	stash(id, io.ErrNoProgress)
	return C.HTTPX_E_CALLBACK
}

//export goHttpxTrace
func goHttpxTrace(id C.uintptr_t, event C.uint32_t, elapsed C.double, detail *C.char) {
	defer func() { _ = recover() }() // a user's trace hook must not unwind into C
	c := lookupCall(id)
	if c == nil || c.ctl == nil || c.ctl.trace == nil {
		return
	}
	c.ctl.trace.event(uint32(event), float64(elapsed), C.GoString(detail))
}

//export goHttpxProgress
func goHttpxProgress(id C.uintptr_t, sent C.uint64_t, sendTotal C.int64_t, received C.uint64_t, receiveTotal C.int64_t) C.int32_t {
	c := lookupCall(id)
	if c != nil && c.ctl != nil && c.ctl.fired.Load() {
		return 1
	}
	return 0
}

//export goHttpxFree
func goHttpxFree(ud unsafe.Pointer) {
	freeHandle(ud)
}

//export goHttpxDebug
func goHttpxDebug(ud unsafe.Pointer, kind C.uint32_t, data *C.uint8_t, n C.uintptr_t) {
	defer func() { _ = recover() }() // a user's hook must not unwind into C
	f, ok := handleValue(ud).(DebugFunc)
	if !ok {
		return
	}
	var b []byte
	if n > 0 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n))
	}
	f(DebugKind(kind), b)
}
