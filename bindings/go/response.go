package httpx

/*
#include <stdlib.h>
#include "httpx.h"
*/
import "C"

import (
	"encoding/json"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Response is an HTTPX response. After Client.Send the body is already read;
// after Client.Stream read it with Read (io.Reader). Close frees it.
type Response struct {
	mu sync.Mutex
	c  *C.httpx_response
	// the send's context, while a streamed body is being read (atomic: Close
	// reads it while a Read holds mu)
	ctl atomic.Pointer[sendCtl]
	eof bool // Read reached the end: later Reads do not call the library
}

func ownResponse(c *C.httpx_response, ctl *sendCtl) *Response {
	r := &Response{c: c}
	if ctl != nil {
		r.ctl.Store(ctl)
	}
	runtime.SetFinalizer(r, (*Response).Close)
	return r
}

// Close frees the response (a half-read connection is closed). Idempotent.
// It may be called while another goroutine is blocked in Read: that Read is
// aborted first.
func (r *Response) Close() error {
	r.ctl.Load().abort()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		runtime.SetFinalizer(r, nil)
		C.httpx_response_free(r.c)
		r.c = nil
	}
	r.done()
	return nil
}

// done releases the context once the body has been read to the end.
func (r *Response) done() {
	if ctl := r.ctl.Swap(nil); ctl != nil {
		ctl.release()
	}
}

// StatusCode is the HTTP status, e.g. 200 (0 after Close).
func (r *Response) StatusCode() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(C.httpx_response_status(r.c))
}

// Reason is the reason phrase, e.g. "OK".
func (r *Response) Reason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return C.GoString(C.httpx_response_reason(r.c))
}

// HTTPVersion is "HTTP/1.1", "HTTP/1.0" or "HTTP/2".
func (r *Response) HTTPVersion() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return C.GoString(C.httpx_response_http_version(r.c))
}

// URL is the final URL (after redirects).
func (r *Response) URL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return C.GoString(C.httpx_response_url(r.c))
}

// Elapsed is the time from sending the request to the end of the body.
func (r *Response) Elapsed() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(float64(C.httpx_response_elapsed(r.c)) * float64(time.Second))
}

// Header is the first value of a header (case-insensitive), "" when absent.
func (r *Response) Header(name string) string {
	v := r.HeaderValues(name)
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// HeaderValues are all values of a header, in order (e.g. Set-Cookie).
func (r *Response) HeaderValues(name string) []string {
	p, err := cstring(name, "header name")
	if err != nil {
		return nil
	}
	defer C.free(unsafe.Pointer(p))
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for i := 0; i < 1<<16; i++ {
		v := C.httpx_response_header_get_nth(r.c, p, C.uintptr_t(i))
		if v == nil {
			break
		}
		out = append(out, C.GoString(v))
	}
	return out
}

// Headers are all header lines, in order.
func (r *Response) Headers() []Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := int(C.httpx_response_header_count(r.c))
	out := make([]Header, 0, n)
	for i := 0; i < n; i++ {
		var name, value *C.char
		if C.httpx_response_header_at(r.c, C.uintptr_t(i), &name, &value) == C.HTTPX_OK {
			out = append(out, Header{C.GoString(name), C.GoString(value)})
		}
	}
	return out
}

// Body is the whole decoded body (read now if streaming and not read yet).
func (r *Response) Body() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return nil, errClosedResponse()
	}
	b, err := doBody(r.ctl.Load(), r.c)
	if err != nil {
		return nil, err
	}
	r.done()
	return b, nil
}

// Text is the body decoded to UTF-8 by its charset.
func (r *Response) Text() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return "", errClosedResponse()
	}
	t, err := doText(r.ctl.Load(), r.c)
	if err != nil {
		return "", err
	}
	r.done()
	return t, nil
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) error {
	b, err := r.Body()
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Read streams the decoded body (io.Reader): io.EOF at the end.
func (r *Response) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return 0, errClosedResponse()
	}
	if r.eof {
		return 0, io.EOF
	}
	n, err := doRead(r.ctl.Load(), r.c, p)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		r.eof = true
		r.done()
		return 0, io.EOF
	}
	return n, nil
}

// RaiseForStatus is nil for 2xx, else an *Error with CodeHTTPStatus.
func (r *Response) RaiseForStatus() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cerr *C.httpx_error
	return takeErr(C.httpx_response_raise_for_status(r.c, &cerr), cerr)
}

// IsSuccess reports a 2xx status.
func (r *Response) IsSuccess() bool { s := r.StatusCode(); return s >= 200 && s < 300 }

// Request is the request as sent (read-only; valid while the response is open).
func (r *Response) Request() *Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := C.httpx_response_request(r.c)
	if c == nil {
		return nil
	}
	return &Request{c: (*C.httpx_request)(unsafe.Pointer(c)), parent: r, totalTimeout: NoTimeout}
}

// HistoryLen is the number of earlier responses (redirects, auth steps).
func (r *Response) HistoryLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int(C.httpx_response_history_count(r.c))
}

func errClosedResponse() error {
	return &Error{Code: CodeInvalidArgument, Message: "response is closed"}
}
