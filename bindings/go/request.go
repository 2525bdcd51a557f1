package httpx

/*
#include <stdlib.h>
#include "httpx.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"runtime"
	"sort"
	"time"
	"unsafe"
)

// Request is an HTTPX request: build it with NewRequest or Client.BuildRequest,
// edit it, Send it (as often as you like), Close it. One goroutine at a time.
//
// The request a transport handler receives is a read-only view valid only
// during the handler call; Body returns the request body there.
type Request struct {
	c       *C.httpx_request
	owned   bool
	builder *C.httpx_response_builder // set for a transport handler's view
	parent  any                       // keeps a view's owner alive
	ctx     context.Context           // a handler view's send context
	// closed when the send's context is cancelled (the body reader, if it is an io.Closer)
	bodyCloser io.Closer
	// the request's own total timeout (SetTotalTimeout; negative = none)
	totalTimeout time.Duration
	// a setter failed already (the library keeps the first failure's message)
	setFailed bool
}

// Context is, in a mock handler, the context of the send being answered
// (context.Background() elsewhere).
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return backgroundCtx
	}
	return r.ctx
}

func ownRequest(c *C.httpx_request) *Request {
	r := &Request{c: c, owned: true, totalTimeout: NoTimeout}
	runtime.SetFinalizer(r, (*Request).Close)
	return r
}

func (r *Request) detach() { r.c, r.builder = nil, nil }

// NewRequest is a standalone request (HTTPX Request(method, url)); url must be absolute.
func NewRequest(method, url string) (*Request, error) {
	ps, free, err := cstrings(method, "method", url, "URL")
	if err != nil {
		return nil, err
	}
	defer free()
	var req *C.httpx_request
	var cerr *C.httpx_error
	if err := takeErr(C.httpx_request_new(ps[0], ps[1], &req, &cerr), cerr); err != nil {
		return nil, err
	}
	return ownRequest(req), nil
}

// Close frees the request. Idempotent; views are not freed.
func (r *Request) Close() error {
	if r.owned && r.c != nil {
		runtime.SetFinalizer(r, nil)
		C.httpx_request_free(r.c)
	}
	r.c = nil
	return nil
}

// Clone copies the request (a streamed body is shared: only one can send it).
func (r *Request) Clone() (*Request, error) {
	var out *C.httpx_request
	if err := codeErr(C.httpx_request_clone(r.c, &out), "clone"); err != nil {
		return nil, err
	}
	runtime.KeepAlive(r)
	n := ownRequest(out)
	n.totalTimeout = r.totalTimeout
	return n, nil
}

// Err is the first failure of a setter on r (SetHeader, AddParam, SetBody,
// ...) since NewRequest / BuildRequest / Clone: the library's code and message
// (e.g. an invalid header value), nil when every setter succeeded. Each setter
// also returns its error; Client.Send, Client.Stream and Multi.Add refuse a
// request with a failed setter and return this error, so a setter error that
// was not checked is not lost (the request would otherwise go out without
// that edit). Clone starts without one.
func (r *Request) Err() error {
	if r == nil || r.c == nil {
		return nil
	}
	defer runtime.KeepAlive(r)
	var cerr *C.httpx_error
	return takeErr(C.httpx_request_error(r.c, &cerr), cerr)
}

// check converts a setter's code: the first failure carries the library's
// message (httpx_request_error), later ones the code and what.
func (r *Request) check(code C.httpx_code, what string) error {
	if code == C.HTTPX_OK {
		return nil
	}
	first := !r.setFailed
	r.setFailed = true
	if first {
		if err := r.Err(); err != nil && err.(*Error).Code == Code(code) {
			return err
		}
	}
	return codeErr(code, what)
}

func (r *Request) str2(a, aw, b, bw string, f func(*C.char, *C.char) C.httpx_code) error {
	ps, free, err := cstrings(a, aw, b, bw)
	if err != nil {
		return err
	}
	defer free()
	defer runtime.KeepAlive(r)
	return r.check(f(ps[0], ps[1]), aw)
}

// Method is the request method, e.g. "GET".
func (r *Request) Method() string {
	defer runtime.KeepAlive(r)
	return C.GoString(C.httpx_request_method(r.c))
}

// URL is the full URL with params merged in.
func (r *Request) URL() string {
	defer runtime.KeepAlive(r)
	return C.GoString(C.httpx_request_url(r.c))
}

// Header is the first value of a header (case-insensitive), "" when absent.
func (r *Request) Header(name string) string {
	p, err := cstring(name, "header name")
	if err != nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	defer runtime.KeepAlive(r)
	return C.GoString(C.httpx_request_header_get(r.c, p))
}

// Headers are all header lines, in order.
func (r *Request) Headers() []Header {
	defer runtime.KeepAlive(r)
	n := int(C.httpx_request_header_count(r.c))
	out := make([]Header, 0, n)
	for i := 0; i < n; i++ {
		var name, value *C.char
		if C.httpx_request_header_at(r.c, C.uintptr_t(i), &name, &value) == C.HTTPX_OK {
			out = append(out, Header{C.GoString(name), C.GoString(value)})
		}
	}
	return out
}

// SetHeader replaces every value of a header.
func (r *Request) SetHeader(name, value string) error {
	return r.str2(name, "header name", value, "header value", func(n, v *C.char) C.httpx_code {
		return C.httpx_request_set_header(r.c, n, v)
	})
}

// AddHeader appends a header line.
func (r *Request) AddHeader(name, value string) error {
	return r.str2(name, "header name", value, "header value", func(n, v *C.char) C.httpx_code {
		return C.httpx_request_add_header(r.c, n, v)
	})
}

// RemoveHeader removes every value of a header (absent is fine).
func (r *Request) RemoveHeader(name string) error {
	p, err := cstring(name, "header name")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_remove_header(r.c, p), "remove header")
}

// AddParam sets a query param, replacing existing values of the key.
func (r *Request) AddParam(key, value string) error {
	return r.str2(key, "param key", value, "param value", func(k, v *C.char) C.httpx_code {
		return C.httpx_request_add_param(r.c, k, v)
	})
}

// SetCookie adds a cookie to this request only.
func (r *Request) SetCookie(name, value string) error {
	return r.str2(name, "cookie name", value, "cookie value", func(n, v *C.char) C.httpx_code {
		return C.httpx_request_set_cookie(r.c, n, v)
	})
}

// SetBody sets the body bytes (copied); contentType may be "".
func (r *Request) SetBody(data []byte, contentType string) error {
	var ct *C.char
	if contentType != "" {
		var err error
		if ct, err = cstring(contentType, "content type"); err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(ct))
	}
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_body(r.c, bytesPtr(data), C.uintptr_t(len(data)), ct), "set body")
}

// SetJSON sets the body to v encoded as JSON (HTTPX json=).
func (r *Request) SetJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	p, err := cstring(string(b), "JSON")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_json(r.c, p), "set json")
}

// SetForm sets an urlencoded form body (HTTPX data=), keys in sorted order.
func (r *Request) SetForm(form url.Values) error {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		for _, v := range form[k] {
			pairs = append(pairs, k, "form name", v, "form value")
		}
	}
	ps, free, err := cstrings(pairs...)
	if err != nil {
		return err
	}
	defer free()
	n := len(ps) / 2
	arr := C.malloc(C.size_t(2*n+1) * C.size_t(unsafe.Sizeof(uintptr(0))))
	defer C.free(arr)
	names := unsafe.Slice((**C.char)(arr), 2*n+1)
	for i := 0; i < n; i++ {
		names[i], names[n+i] = ps[2*i], ps[2*i+1]
	}
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_form(r.c, &names[0], &names[n], C.uintptr_t(n)), "set form")
}

// SetBodyReader streams the body from rd at send time; length >= 0 is sent as
// Content-Length, negative means chunked. The body can be sent once. If rd is
// an io.Closer, it is closed when the send's context is cancelled (so a Read
// blocked on a pipe returns), as net/http does with a request body.
func (r *Request) SetBodyReader(rd io.Reader, length int64) error {
	defer runtime.KeepAlive(r)
	if err := requestSetBodyReader(r.c, rd, length); err != nil {
		return err
	}
	r.bodyCloser, _ = rd.(io.Closer)
	return nil
}

// SetAuth authenticates this request with a, overriding the client's.
func (r *Request) SetAuth(a Auth) error {
	h, err := a.newC()
	if err != nil {
		return err
	}
	defer C.httpx_auth_free(h)
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_auth(r.c, h), "set auth")
}

// DisableAuth sends this request with no auth at all (HTTPX auth=None).
func (r *Request) DisableAuth() error {
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_auth(r.c, nil), "set auth")
}

// SetTimeout sets all four timeouts of this request (NoTimeout = none).
func (r *Request) SetTimeout(d time.Duration) error {
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_timeout(r.c, seconds(d)), "set timeout")
}

// SetTimeouts sets the four timeouts of this request.
func (r *Request) SetTimeouts(t Timeouts) error {
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_timeouts(r.c, seconds(t.Connect), seconds(t.Read), seconds(t.Write), seconds(t.Pool)), "set timeouts")
}

// SetTotalTimeout bounds the whole send (pool wait, connect, TLS, writing,
// every redirect and auth step, and reading the body, streamed or not) by d;
// NoTimeout removes it. Expiry is CodeTotalTimeout. A context deadline that
// comes earlier wins. Needs a libhttpx with httpx_request_set_total_timeout.
func (r *Request) SetTotalTimeout(d time.Duration) error {
	defer runtime.KeepAlive(r)
	if err := requestSetTotalTimeout(r.c, d); err != nil {
		return err
	}
	if d < 0 {
		d = NoTimeout
	}
	r.totalTimeout = d
	return nil
}

// SetFollowRedirects overrides the client's redirect setting for this request.
func (r *Request) SetFollowRedirects(on bool) error {
	defer runtime.KeepAlive(r)
	return r.check(C.httpx_request_set_follow_redirects(r.c, cbool(on)), "follow redirects")
}

// Body is the request body when held in memory (or, in a transport handler,
// the body as received).
func (r *Request) Body() ([]byte, error) {
	defer runtime.KeepAlive(r)
	var data *C.uint8_t
	var n C.uintptr_t
	var code C.httpx_code
	if r.builder != nil {
		code = C.httpx_response_builder_request_body(r.builder, &data, &n)
	} else {
		code = C.httpx_request_body(r.c, &data, &n)
	}
	if code != C.HTTPX_OK {
		return nil, codeErr(code, "request body")
	}
	return copyBytes(data, n), nil
}
