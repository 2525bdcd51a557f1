package httpx

/*
#include <stdlib.h>
#include "httpx.h"

extern httpx_code goHttpxTransport(void *, httpx_request *, httpx_response_builder *);
extern httpx_code goHttpxRead(void *, uint8_t *, uintptr_t, uintptr_t *);
extern void goHttpxFree(void *);

static httpx_code shim_transport(void *ud, const httpx_request *req, httpx_response_builder *out) {
	return goHttpxTransport(ud, (httpx_request *)req, out);
}
static httpx_code shim_read(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n) {
	return goHttpxRead(ud, buf, cap, n);
}
static void shim_free(void *ud) { goHttpxFree(ud); }

static httpx_code go_transport_callback(void *ud, httpx_transport **out) {
	return httpx_transport_callback(shim_transport, ud, shim_free, out);
}
static httpx_code go_builder_set_body_reader(httpx_response_builder *b, void *ud) {
	return httpx_response_builder_set_body_reader(b, shim_read, ud, shim_free);
}
static httpx_code go_request_set_body_reader(httpx_request *r, void *ud, int64_t len) {
	return httpx_request_set_body_reader(r, shim_read, ud, shim_free, len);
}
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// newHandle stores v behind a cgo.Handle in a small C allocation, the userdata
// given to the library. freeHandle (called by the library's free_fn, or by us
// when the library did not take it) releases both.
func newHandle(v any) unsafe.Pointer {
	liveHandles.Add(1)
	p := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(p) = C.uintptr_t(cgo.NewHandle(v))
	return p
}

func handleValue(p unsafe.Pointer) any {
	if p == nil {
		return nil
	}
	return cgo.Handle(*(*C.uintptr_t)(p)).Value()
}

func freeHandle(p unsafe.Pointer) {
	if p == nil {
		return
	}
	cgo.Handle(*(*C.uintptr_t)(p)).Delete()
	C.free(p)
	liveHandles.Add(-1)
}

// liveHandles counts userdata not yet released by the library (for tests).
var liveHandles atomic.Int64

// Errors returned by Go callbacks, keyed by OS thread: libhttpx runs callbacks
// on the thread that made the call, and cgo runs them on the calling goroutine,
// so callC can pick up the Go error behind an HTTPX_E_CALLBACK.
var (
	pendingMu sync.Mutex
	pending   = map[int]error{}
)

func stashCallbackErr(err error) {
	pendingMu.Lock()
	pending[syscall.Gettid()] = err
	pendingMu.Unlock()
}

// callC runs f (a C call that may run Go callbacks) pinned to its OS thread and
// returns its code plus the Go error a callback stashed, if any.
func callC(f func() C.httpx_code) (C.httpx_code, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := syscall.Gettid()
	code := f()
	pendingMu.Lock()
	cbErr, ok := pending[tid]
	if ok {
		delete(pending, tid)
	}
	pendingMu.Unlock()
	if code == C.HTTPX_OK {
		cbErr = nil
	}
	return code, cbErr
}

// callErr is callC plus the conversion of the code and detailed error.
func callErr(f func(errOut **C.httpx_error) C.httpx_code) error {
	var cerr *C.httpx_error
	code, cbErr := callC(func() C.httpx_code { return f(&cerr) })
	err := takeErr(code, cerr)
	if e, ok := err.(*Error); ok && cbErr != nil {
		e.Err = cbErr
	}
	return err
}

func newCallbackTransport(st *transportState) (*C.httpx_transport, error) {
	ud := newHandle(st)
	var t *C.httpx_transport
	if code := C.go_transport_callback(ud, &t); code != C.HTTPX_OK {
		freeHandle(ud) // not taken on error
		return nil, codeErr(code, "httpx_transport_callback")
	}
	return t, nil
}

func builderSetBodyReader(b *C.httpx_response_builder, r any) error {
	ud := newHandle(r)
	if code := C.go_builder_set_body_reader(b, ud); code != C.HTTPX_OK {
		freeHandle(ud)
		return codeErr(code, "httpx_response_builder_set_body_reader")
	}
	return nil
}

func requestSetBodyReader(req *C.httpx_request, r any, length int64) error {
	ud := newHandle(r)
	if code := C.go_request_set_body_reader(req, ud, C.int64_t(length)); code != C.HTTPX_OK {
		freeHandle(ud)
		return codeErr(code, "httpx_request_set_body_reader")
	}
	return nil
}
