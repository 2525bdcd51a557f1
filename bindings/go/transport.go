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
// a read-only view valid only during the call; req.Body() is the request body.
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

type transportState struct {
	handler Handler
}

// Transport is a transport to give WithTransport or WithMount.
type Transport struct {
	mu sync.Mutex
	c  *C.httpx_transport
}

func (t *Transport) handle() *C.httpx_transport {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.c
}

func ownTransport(c *C.httpx_transport) *Transport {
	t := &Transport{c: c}
	runtime.SetFinalizer(t, (*Transport).Close)
	return t
}

// NewMockTransport answers requests with h, in-process (HTTPX MockTransport):
// code that uses a Client can be tested without a network.
func NewMockTransport(h Handler) (*Transport, error) {
	if h == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "handler is nil"}
	}
	c, err := newCallbackTransport(&transportState{handler: h})
	if err != nil {
		return nil, err
	}
	return ownTransport(c), nil
}

// NewHTTPTransport is a network transport with its own pool (HTTPX HTTPTransport).
func NewHTTPTransport() (*Transport, error) {
	var c *C.httpx_transport
	if code := C.httpx_transport_http(&c); code != C.HTTPX_OK {
		return nil, codeErr(code, "httpx_transport_http")
	}
	return ownTransport(c), nil
}

// SetRaiseErrors: on (default) a handler error fails the send; off answers 500.
// Call before the transport is first used.
func (t *Transport) SetRaiseErrors(on bool) error {
	return codeErr(C.httpx_transport_callback_set_raise_errors(t.handle(), cbool(on)), "raise errors")
}

// SetRetries sets connect retries of an HTTP transport (before first use).
func (t *Transport) SetRetries(n uint32) error {
	return codeErr(C.httpx_transport_http_set_retries(t.handle(), C.uint32_t(n)), "retries")
}

// SetLocalAddress binds an HTTP transport's connections to addr (before first use).
func (t *Transport) SetLocalAddress(addr string) error {
	p, err := cstring(addr, "address")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	return codeErr(C.httpx_transport_http_set_local_address(t.handle(), p), "local address")
}

// Close releases this handle; clients using the transport keep it alive.
func (t *Transport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.c != nil {
		runtime.SetFinalizer(t, nil)
		C.httpx_transport_free(t.c)
		t.c = nil
	}
	return nil
}
