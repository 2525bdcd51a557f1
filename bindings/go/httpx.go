// Package httpx is the Go binding (cgo) of libhttpx, HTTPX's HTTP client
// shipped as a C library. Import it as "libhttpx.org/go/httpx".
//
// Two ways to use it:
//
//   - Transport, an http.RoundTripper: &http.Client{Transport: &httpx.Transport{}}
//     runs net/http code on libhttpx (redirects and cookies stay with http.Client).
//   - Client, HTTPX's own API: merged client defaults, explicit requests, auth
//     flows, mounts and in-process mock backends (NewMockBackend) for tests.
//
// Every call that sends or reads takes a context.Context first: cancelling it
// aborts the call, its deadline bounds the whole call, and the error then
// satisfies errors.Is(err, context.Canceled) / context.DeadlineExceeded.
// Errors are *Error values, which implement net.Error and wrap the
// underlying *net.OpError (syscall.Errno) or *net.DNSError where there is one.
//
// Building: by default the package finds an installed libhttpx through
// pkg-config ("#cgo pkg-config: httpx"; set PKG_CONFIG_PATH for a non-default
// prefix). Inside the libhttpx repository, build with -tags httpx_dev to use
// <repo>/include and <repo>/target/release instead (see README.md).
//
// Every handle (Client, Request, Response, Backend) is freed by its Close
// method, or by a finalizer when it becomes unreachable; Close is idempotent.
// Client and Transport are safe for concurrent use; a Request or Response has
// one owner at a time.
package httpx

/*
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

	// Codes added in libhttpx's second round (values fixed by /work/shared/API.md;
	// written as numbers so this package builds against a library without them).
	CodeTotalTimeout Code = 14 // HTTPX_E_TOTAL_TIMEOUT: the total deadline passed
	CodeResolve      Code = 26 // HTTPX_E_RESOLVE: the host name could not be resolved
	CodeCancelled    Code = 44 // HTTPX_E_CANCELLED: a cancel token fired
	CodeBodyTooLarge Code = 45 // HTTPX_E_BODY_TOO_LARGE: a buffered body over its cap
)

// String is the library's name for the code ("READ_TIMEOUT", ...).
func (c Code) String() string { return C.GoString(C.httpx_code_str(C.httpx_code(c))) }

// IsTimeout reports whether c is one of the four timeouts.
func (c Code) IsTimeout() bool { return C.httpx_code_is_timeout(C.httpx_code(c)) != 0 }

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
