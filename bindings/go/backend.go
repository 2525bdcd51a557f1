package httpx

/*
#include <stdlib.h>
#include "httpx.h"
*/
import "C"

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"unsafe"
)

// Handler answers a request in-process (HTTPX MockTransport's handler). req is
// a read-only view valid only during the call; req.Body() is the request body
// and req.Context() the context of the send that reached the handler.
// A nil *MockResponse is an empty 200. A returned error fails the send with
// CodeCallback (the error is in Error.Err), unless the transport was told not
// to raise, in which case the client sees a 500.
type Handler func(req *Request) (*MockResponse, error)

// MockResponse is what a Handler answers: status (0 = 200), headers and a body
// (Body, or BodyReader streamed while the client reads).
type MockResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	BodyReader io.Reader
}

// JSONResponse is a MockResponse with v encoded as JSON.
func JSONResponse(status int, v any) (*MockResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &MockResponse{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}, nil
}

func (m *MockResponse) fill(out *C.httpx_response_builder) error {
	if m == nil {
		return nil
	}
	if m.StatusCode != 0 {
		if code := C.httpx_response_builder_set_status(out, C.uint16_t(m.StatusCode)); code != C.HTTPX_OK {
			return codeErr(code, "invalid status")
		}
	}
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range m.Header[k] {
			ps, free, err := cstrings(k, "header name", v, "header value")
			if err != nil {
				return err
			}
			code := C.httpx_response_builder_add_header(out, ps[0], ps[1])
			free()
			if code != C.HTTPX_OK {
				return codeErr(code, "invalid header "+k)
			}
		}
	}
	switch {
	case m.BodyReader != nil:
		return builderSetBodyReader(out, m.BodyReader)
	case m.Body != nil:
		return codeErr(C.httpx_response_builder_set_body(out, bytesPtr(m.Body), C.uintptr_t(len(m.Body))), "set body")
	}
	return nil
}

type backendState struct {
	handler Handler
}

// Backend is a libhttpx transport (what HTTPX calls a transport: its
// transport= and mounts= arguments) to give WithBackend or WithMount: an
// in-process mock (NewMockBackend, HTTPX's MockTransport) or a network
// transport with its own pool (NewHTTPBackend, HTTPX's HTTPTransport). For the
// net/http RoundTripper, see Transport.
type Backend struct {
	mu        sync.Mutex
	c         *C.httpx_transport
	setFailed bool // a setter failed already (the library keeps the first one's message)
}

// Err is the first failure of a setter on t (SetRaiseErrors, SetRetries,
// SetLocalAddress): the library's code and message, nil when none failed.
// WithBackend and WithMount refuse a backend with a failed setter (NewClient
// returns this error).
func (t *Backend) Err() error {
	h := t.handle()
	if h == nil {
		return nil
	}
	defer runtime.KeepAlive(t)
	var cerr *C.httpx_error
	return takeErr(C.httpx_transport_error(h, &cerr), cerr)
}

// check converts a setter's code: the first failure carries the library's
// message (httpx_transport_error).
func (t *Backend) check(code C.httpx_code, what string) error {
	if code == C.HTTPX_OK {
		return nil
	}
	t.mu.Lock()
	first := !t.setFailed
	t.setFailed = true
	t.mu.Unlock()
	if first {
		if err := t.Err(); err != nil && err.(*Error).Code == Code(code) {
			return err
		}
	}
	return codeErr(code, what)
}

func (t *Backend) handle() *C.httpx_transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.c
}

func ownBackend(c *C.httpx_transport) *Backend {
	t := &Backend{c: c}
	runtime.SetFinalizer(t, (*Backend).Close)
	return t
}

// NewMockBackend answers requests with h, in-process (HTTPX MockTransport):
// code that uses a Client (or a Transport with Backend set) can be tested
// without a network.
func NewMockBackend(h Handler) (*Backend, error) {
	if h == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "handler is nil"}
	}
	c, err := newCallbackTransport(&backendState{handler: h})
	if err != nil {
		return nil, err
	}
	return ownBackend(c), nil
}

// NewHTTPBackend is a network transport with its own pool (HTTPX HTTPTransport).
func NewHTTPBackend() (*Backend, error) {
	var c *C.httpx_transport
	if code := C.httpx_transport_http(&c); code != C.HTTPX_OK {
		return nil, codeErr(code, "httpx_transport_http")
	}
	return ownBackend(c), nil
}

// SetRaiseErrors: on (default) a handler error fails the send; off answers 500.
// Call before the transport is first used.
func (t *Backend) SetRaiseErrors(on bool) error {
	return t.check(C.httpx_transport_callback_set_raise_errors(t.handle(), cbool(on)), "raise errors")
}

// SetRetries sets connect retries of an HTTP transport (before first use).
func (t *Backend) SetRetries(n uint32) error {
	return t.check(C.httpx_transport_http_set_retries(t.handle(), C.uint32_t(n)), "retries")
}

// SetLocalAddress binds an HTTP transport's connections to addr (before first use).
func (t *Backend) SetLocalAddress(addr string) error {
	p, err := cstring(addr, "address")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	return t.check(C.httpx_transport_http_set_local_address(t.handle(), p), "local address")
}

// Close releases this handle; clients using the transport keep it alive.
func (t *Backend) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.c != nil {
		runtime.SetFinalizer(t, nil)
		C.httpx_transport_free(t.c)
		t.c = nil
	}
	return nil
}

// NewMockTransport is the earlier name of NewMockBackend.
//
// Deprecated: use NewMockBackend (Transport is now the http.RoundTripper).
func NewMockTransport(h Handler) (*Backend, error) { return NewMockBackend(h) }

// NewHTTPTransport is the earlier name of NewHTTPBackend.
//
// Deprecated: use NewHTTPBackend.
func NewHTTPTransport() (*Backend, error) { return NewHTTPBackend() }
