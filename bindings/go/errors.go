package httpx

/*
#include "httpx.h"
*/
import "C"

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// Error is every error this package returns: the libhttpx code and message,
// plus the Go error behind it in Err, when there is one:
//
//   - the error a callback (mock handler, body reader) returned or the panic it raised;
//   - context.Canceled / context.DeadlineExceeded when the call's context ended it;
//   - a *net.OpError wrapping an *os.SyscallError with the syscall.Errno of a socket
//     failure, so errors.Is(err, syscall.ECONNREFUSED) holds as with net/http;
//   - a *net.DNSError when the host name could not be resolved.
//
// Error implements net.Error: Timeout() is true for the library's timeouts and
// for a context deadline, and errors.Is(err, os.ErrDeadlineExceeded) holds then.
type Error struct {
	Code    Code
	Message string
	Err     error

	derived bool // Err was rebuilt from Message (not printed twice)
}

var _ net.Error = (*Error)(nil)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("httpx: ")
	b.WriteString(e.Code.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil && !e.derived && !strings.Contains(e.Message, e.Err.Error()) {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the Go error behind this one (see Error), if any.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the error is a timeout (net.Error).
func (e *Error) Timeout() bool {
	return e.Code.IsTimeout() || errors.Is(e.Err, context.DeadlineExceeded)
}

// Temporary is Timeout (net.Error's deprecated method, as net does for timeouts).
func (e *Error) Temporary() bool { return e.Timeout() }

// Is makes errors.Is(err, httpx.ErrReadTimeout) compare codes,
// errors.Is(err, httpx.ErrTimeout) and errors.Is(err, os.ErrDeadlineExceeded)
// match any timeout.
func (e *Error) Is(target error) bool {
	if target == os.ErrDeadlineExceeded {
		return e.Timeout()
	}
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
	ErrTotalTimeout        = &Error{Code: CodeTotalTimeout}
	ErrConnect             = &Error{Code: CodeConnect}
	ErrRead                = &Error{Code: CodeRead}
	ErrWrite               = &Error{Code: CodeWrite}
	ErrProxy               = &Error{Code: CodeProxy}
	ErrTLS                 = &Error{Code: CodeTLS}
	ErrResolve             = &Error{Code: CodeResolve}
	ErrRemoteProtocol      = &Error{Code: CodeRemoteProtocol}
	ErrDecoding            = &Error{Code: CodeDecoding}
	ErrTooManyRedirects    = &Error{Code: CodeTooManyRedirects}
	ErrHTTPStatus          = &Error{Code: CodeHTTPStatus}
	ErrStreamConsumed      = &Error{Code: CodeStreamConsumed}
	ErrClientClosed        = &Error{Code: CodeClientClosed}
	ErrCancelled           = &Error{Code: CodeCancelled}
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
	e.Err = netCause(e.Code, e.Message)
	e.derived = e.Err != nil
	return e
}

// codeErr is takeErr for functions without a detailed error.
func codeErr(code C.httpx_code, what string) error {
	if code == C.HTTPX_OK {
		return nil
	}
	return &Error{Code: Code(code), Message: what}
}

// The library reports socket failures with Rust's io::Error text, which ends in
// "(os error N)" with the errno, and resolve failures as "cannot resolve HOST: ..."
// (HTTPX_E_RESOLVE in newer libraries, HTTPX_E_CONNECT before). netCause rebuilds
// the Go errors net would have returned from that.
var (
	osErrorRe = regexp.MustCompile(`\(os error (\d+)\)`)
	addrRe    = regexp.MustCompile(`\bto (\[[0-9A-Fa-f:.]+\]:\d+|[0-9.]+:\d+)`)
)

func netCause(code Code, msg string) error {
	if code == CodeResolve || (code == CodeConnect && (strings.Contains(msg, "resolve") || strings.Contains(msg, "resolved to no address"))) {
		return dnsError(msg)
	}
	switch {
	case code == CodeConnect || code == CodeConnectTimeout:
		return opError("dial", "connect", msg)
	case code == CodeRead || code == CodeReadTimeout || code == CodeClose:
		return opError("read", "read", msg)
	case code == CodeWrite || code == CodeWriteTimeout:
		return opError("write", "write", msg)
	case code == CodeProxy || code == CodeTLS:
		return opError("dial", "connect", msg)
	}
	return nil
}

// opError is a *net.OpError around the errno in msg, nil when msg has none.
func opError(op, syscallName, msg string) error {
	m := osErrorRe.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return nil
	}
	oe := &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(syscallName, syscall.Errno(n))}
	if a := addrRe.FindStringSubmatch(msg); a != nil {
		if ap, err := netip.ParseAddrPort(a[1]); err == nil {
			oe.Addr = net.TCPAddrFromAddrPort(ap)
		}
	}
	return oe
}

// dnsError parses "cannot resolve HOST: DETAIL" and "could not resolve host:
// HOST (DETAIL)" (the library's two wordings) into a *net.DNSError.
func dnsError(msg string) error {
	de := &net.DNSError{Err: msg}
	lower := strings.ToLower(msg)
	if i := strings.Index(lower, "resolve "); i >= 0 {
		rest := msg[i+len("resolve "):]
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "host: "), "host ")
		name := rest
		if j := strings.IndexAny(rest, " \t"); j >= 0 {
			name, rest = rest[:j], rest[j:]
		} else {
			rest = ""
		}
		name = strings.TrimSuffix(name, ":")
		if k := strings.LastIndexByte(name, ':'); k > 0 && !strings.HasSuffix(name, "]") {
			if _, err := strconv.Atoi(name[k+1:]); err == nil {
				name = name[:k] // host:port
			}
		}
		de.Name = strings.Trim(name, "[]")
		detail := strings.TrimSpace(rest)
		if strings.HasPrefix(detail, "(") {
			if k := strings.IndexByte(detail, ')'); k > 0 {
				detail = detail[1:k]
			}
		}
		if detail != "" {
			de.Err = detail
		}
	} else if i := strings.Index(msg, " resolved to no address"); i > 0 {
		f := strings.Fields(msg[:i])
		de.Name = f[len(f)-1]
		de.Err = "no such host"
	}
	switch {
	case strings.Contains(lower, "temporary failure"), strings.Contains(lower, "try again"):
		de.IsTemporary = true
	case strings.Contains(lower, "timed out"):
		de.IsTimeout = true
	default: // "Name or service not known", "No address associated", "resolved to no address"
		de.IsNotFound = true
	}
	return de
}
