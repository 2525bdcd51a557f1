// Package httpx is a thin Go binding (cgo) of libhttpx, HTTPX's HTTP client
// shipped as a C library.
//
// The shared library is found through the #cgo directives below
// (../../target/release, relative to this directory); override the search path
// with CGO_LDFLAGS="-L/path/to/dir" and point LD_LIBRARY_PATH at the same
// directory when running.
//
// Every handle (Client, Request, Response, Transport) is freed by its Close
// method, or by a finalizer when it becomes unreachable; Close is idempotent.
// A Client is safe for concurrent use; a Request or Response has one owner at
// a time.
package httpx

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -lhttpx
#include <stdlib.h>
#include "httpx.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// Version is the version of the loaded libhttpx, e.g. "0.1.0".
func Version() string { return C.GoString(C.httpx_version()) }

// Code is a libhttpx result code (httpx_code).
type Code uint32

// Result codes; the values are those of include/httpx.h.
const (
	CodeOK                  Code = C.HTTPX_OK
	CodeInvalidArgument     Code = C.HTTPX_E_INVALID_ARGUMENT
	CodeInvalidURL          Code = C.HTTPX_E_INVALID_URL
	CodeUnsupportedProtocol Code = C.HTTPX_E_UNSUPPORTED_PROTOCOL
	CodeConnectTimeout      Code = C.HTTPX_E_CONNECT_TIMEOUT
	CodeReadTimeout         Code = C.HTTPX_E_READ_TIMEOUT
	CodeWriteTimeout        Code = C.HTTPX_E_WRITE_TIMEOUT
	CodePoolTimeout         Code = C.HTTPX_E_POOL_TIMEOUT
	CodeConnect             Code = C.HTTPX_E_CONNECT
	CodeRead                Code = C.HTTPX_E_READ
	CodeWrite               Code = C.HTTPX_E_WRITE
	CodeClose               Code = C.HTTPX_E_CLOSE
	CodeProxy               Code = C.HTTPX_E_PROXY
	CodeTLS                 Code = C.HTTPX_E_TLS
	CodeRemoteProtocol      Code = C.HTTPX_E_REMOTE_PROTOCOL
	CodeLocalProtocol       Code = C.HTTPX_E_LOCAL_PROTOCOL
	CodeDecoding            Code = C.HTTPX_E_DECODING
	CodeTooManyRedirects    Code = C.HTTPX_E_TOO_MANY_REDIRECTS
	CodeHTTPStatus          Code = C.HTTPX_E_HTTP_STATUS
	CodeStreamConsumed      Code = C.HTTPX_E_STREAM_CONSUMED
	CodeClientClosed        Code = C.HTTPX_E_CLIENT_CLOSED
	CodeCallback            Code = C.HTTPX_E_CALLBACK
	CodeRecursiveCall       Code = C.HTTPX_E_RECURSIVE_CALL
	CodeIO                  Code = C.HTTPX_E_IO
	CodeInternal            Code = C.HTTPX_E_INTERNAL
)

// String is the library's name for the code ("READ_TIMEOUT", ...).
func (c Code) String() string { return C.GoString(C.httpx_code_str(C.httpx_code(c))) }

// IsTimeout reports whether c is one of the four timeouts.
func (c Code) IsTimeout() bool { return C.httpx_code_is_timeout(C.httpx_code(c)) != 0 }

// Error is every error this package returns: the libhttpx code and message.
// Err holds the Go error a callback (transport handler, body reader) returned,
// when that is what made the call fail.
type Error struct {
	Code    Code
	Message string
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("httpx: ")
	b.WriteString(e.Code.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the callback's error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the error is a timeout (as net.Error does).
func (e *Error) Timeout() bool { return e.Code.IsTimeout() }

// Is makes errors.Is(err, httpx.ErrReadTimeout) compare codes, and
// errors.Is(err, httpx.ErrTimeout) match any of the four timeouts.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == ErrTimeout {
		return e.Timeout()
	}
	return t.Code == e.Code
}

const codeAnyTimeout Code = 0xFFFFFFFF

// Sentinels for errors.Is. ErrTimeout matches any timeout code.
var (
	ErrTimeout             = &Error{Code: codeAnyTimeout, Message: "any timeout"}
	ErrInvalidArgument     = &Error{Code: CodeInvalidArgument}
	ErrInvalidURL          = &Error{Code: CodeInvalidURL}
	ErrUnsupportedProtocol = &Error{Code: CodeUnsupportedProtocol}
	ErrConnectTimeout      = &Error{Code: CodeConnectTimeout}
	ErrReadTimeout         = &Error{Code: CodeReadTimeout}
	ErrWriteTimeout        = &Error{Code: CodeWriteTimeout}
	ErrPoolTimeout         = &Error{Code: CodePoolTimeout}
	ErrConnect             = &Error{Code: CodeConnect}
	ErrRead                = &Error{Code: CodeRead}
	ErrWrite               = &Error{Code: CodeWrite}
	ErrProxy               = &Error{Code: CodeProxy}
	ErrTLS                 = &Error{Code: CodeTLS}
	ErrRemoteProtocol      = &Error{Code: CodeRemoteProtocol}
	ErrDecoding            = &Error{Code: CodeDecoding}
	ErrTooManyRedirects    = &Error{Code: CodeTooManyRedirects}
	ErrHTTPStatus          = &Error{Code: CodeHTTPStatus}
	ErrStreamConsumed      = &Error{Code: CodeStreamConsumed}
	ErrClientClosed        = &Error{Code: CodeClientClosed}
	ErrCallback            = &Error{Code: CodeCallback}
	ErrRecursiveCall       = &Error{Code: CodeRecursiveCall}
)

// takeErr turns a code plus optional detailed error into a Go error, freeing cerr.
func takeErr(code C.httpx_code, cerr *C.httpx_error) error {
	if cerr != nil {
		defer C.httpx_error_free(cerr)
	}
	if code == C.HTTPX_OK {
		return nil
	}
	e := &Error{Code: Code(code)}
	if cerr != nil {
		e.Message = C.GoString(C.httpx_error_message(cerr))
	}
	return e
}

// codeErr is takeErr for functions without a detailed error.
func codeErr(code C.httpx_code, what string) error {
	if code == C.HTTPX_OK {
		return nil
	}
	return &Error{Code: Code(code), Message: what}
}

// cstring copies s to C memory; strings with NUL bytes are rejected.
func cstring(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// cstrings converts several strings at once; free releases them all.
func cstrings(pairs ...string) (ptrs []*C.char, free func(), err error) {
	free = func() {
		for _, p := range ptrs {
			C.free(unsafe.Pointer(p))
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		p, e := cstring(pairs[i], pairs[i+1])
		if e != nil {
			free()
			return nil, func() {}, e
		}
		ptrs = append(ptrs, p)
	}
	return ptrs, free, nil
}

// bytesPtr is a pointer to b's data for a C call that copies it (nil when empty).
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b)))
}

// copyBytes copies n C bytes at p into a new Go slice.
func copyBytes(p *C.uint8_t, n C.uintptr_t) []byte {
	out := make([]byte, int(n))
	if n > 0 {
		copy(out, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n)))
	}
	return out
}

// seconds converts a duration for the C API: negative = no timeout.
func seconds(d time.Duration) C.double {
	if d < 0 {
		return -1
	}
	return C.double(d.Seconds())
}

// NoTimeout disables a timeout (use it in Timeouts or WithTimeout).
const NoTimeout time.Duration = -1

// Timeouts are HTTPX's four timeouts. A negative value (NoTimeout) disables one.
type Timeouts struct {
	Connect, Read, Write, Pool time.Duration
}

// Limits are HTTPX's pool limits. Negative values mean "no limit".
type Limits struct {
	MaxConnections          int
	MaxKeepaliveConnections int
	KeepaliveExpiry         time.Duration
}

// DefaultLimits are HTTPX's defaults (100, 20, 5 s).
var DefaultLimits = Limits{MaxConnections: 100, MaxKeepaliveConnections: 20, KeepaliveExpiry: 5 * time.Second}

// Header is one header line.
type Header struct {
	Name, Value string
}

func (h Header) String() string { return fmt.Sprintf("%s: %s", h.Name, h.Value) }
