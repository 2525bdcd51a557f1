package httpx

/*
#include <stdlib.h>
#include "httpx.h"

// The observability API (libhttpx's second round): compiled in when the header
// has it, else stubs that report "not available".
#ifdef HTTPX_DEBUG_TEXT
#define GO_HAVE_INFO 1
static const char *go_remote_addr(const httpx_response *r) { return httpx_response_remote_addr(r); }
static const char *go_local_addr(const httpx_response *r) { return httpx_response_local_addr(r); }
static const char *go_tls_version(const httpx_response *r) { return httpx_response_tls_version(r); }
static const char *go_tls_cipher(const httpx_response *r) { return httpx_response_tls_cipher(r); }
static const char *go_alpn(const httpx_response *r) { return httpx_response_alpn(r); }
static int go_reused(const httpx_response *r) { return httpx_response_connection_reused(r); }
static httpx_code go_timing(const httpx_response *r, uint32_t which, double *out) { return httpx_response_timing(r, which, out); }
#else
#define GO_HAVE_INFO 0
static const char *go_remote_addr(const httpx_response *r) { (void)r; return NULL; }
static const char *go_local_addr(const httpx_response *r) { (void)r; return NULL; }
static const char *go_tls_version(const httpx_response *r) { (void)r; return NULL; }
static const char *go_tls_cipher(const httpx_response *r) { (void)r; return NULL; }
static const char *go_alpn(const httpx_response *r) { (void)r; return NULL; }
static int go_reused(const httpx_response *r) { (void)r; return -1; }
static httpx_code go_timing(const httpx_response *r, uint32_t which, double *out) { (void)r; (void)which; (void)out; return HTTPX_E_INVALID_ARGUMENT; }
#endif
*/
import "C"

import (
	"crypto/tls"
	"strings"
	"time"
)

// haveInfo: the library reports connection info and timings per response.
const haveInfo = C.GO_HAVE_INFO == 1

// ConnInfo describes the connection a response came over (empty strings when
// unknown: a mock backend, a Unix socket, plain http for the TLS fields, or a
// libhttpx without the info API).
type ConnInfo struct {
	RemoteAddr string // "127.0.0.1:8080", "[::1]:443" (the proxy's, through a proxy)
	LocalAddr  string
	TLSVersion string // "TLSv1.3", "TLSv1.2"
	TLSCipher  string // IANA name, e.g. "TLS13_AES_256_GCM_SHA384"
	ALPN       string // "h2", "http/1.1"
	Reused     bool   // the connection carried an earlier request
}

func goStr(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func connInfo(r *C.httpx_response) ConnInfo {
	return ConnInfo{
		RemoteAddr: goStr(C.go_remote_addr(r)),
		LocalAddr:  goStr(C.go_local_addr(r)),
		TLSVersion: goStr(C.go_tls_version(r)),
		TLSCipher:  goStr(C.go_tls_cipher(r)),
		ALPN:       goStr(C.go_alpn(r)),
		Reused:     C.go_reused(r) == 1,
	}
}

// ConnInfo is the connection the response came over.
func (r *Response) ConnInfo() ConnInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return ConnInfo{}
	}
	return connInfo(r.c)
}

// Timings are the phases of a send, as durations since it began, cumulative as
// curl's are (a phase that did not happen has the previous phase's time).
// Total is zero until the body has been read to the end.
type Timings struct {
	Queue, DNS, Connect, TLS, RequestSent, FirstByte, Total time.Duration
}

// Timings reports the response's phase timings (all zero with a libhttpx
// without the info API).
func (r *Response) Timings() Timings {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t Timings
	if r.c == nil || !haveInfo {
		return t
	}
	for i, p := range []*time.Duration{&t.Queue, &t.DNS, &t.Connect, &t.TLS, &t.RequestSent, &t.FirstByte, &t.Total} {
		var s C.double
		if C.go_timing(r.c, C.uint32_t(i+1), &s) == C.HTTPX_OK {
			*p = time.Duration(float64(s) * float64(time.Second))
		}
	}
	return t
}

// tlsState is what net/http's Response.TLS can carry from libhttpx's info.
func tlsState(info ConnInfo, serverName string) *tls.ConnectionState {
	st := &tls.ConnectionState{HandshakeComplete: true, ServerName: serverName, NegotiatedProtocol: info.ALPN}
	switch info.TLSVersion {
	case "TLSv1.3":
		st.Version = tls.VersionTLS13
	case "TLSv1.2":
		st.Version = tls.VersionTLS12
	}
	if info.TLSCipher != "" {
		name := strings.Replace(info.TLSCipher, "TLS13_", "TLS_", 1) // rustls's names for the TLS 1.3 suites
		for _, cs := range tls.CipherSuites() {
			if cs.Name == name {
				st.CipherSuite = cs.ID
			}
		}
	}
	return st
}

// DebugKind says what a DebugFunc receives (libcurl's CURLINFO_* values).
type DebugKind uint32

// Debug kinds.
const (
	DebugText      DebugKind = 0 // one human-readable line: connecting, connected, reusing, TLS, ALPN, proxy, redirect, closing, failures
	DebugHeaderIn  DebugKind = 1 // a response head as received (CRLFs included)
	DebugHeaderOut DebugKind = 2 // a request head as sent
	DebugDataIn    DebugKind = 3 // response body bytes as they arrive (before content decoding)
	DebugDataOut   DebugKind = 4 // request body bytes as sent
)

// DebugFunc sees what passes on the wire (libcurl's CURLOPT_DEBUGFUNCTION).
// data is valid only during the call. It runs on the goroutine that sends or
// reads, possibly on several at once.
type DebugFunc func(kind DebugKind, data []byte)

// WithDebug reports heads, body bytes and connection events to f. Needs a
// libhttpx with httpx_client_config_set_debug.
func WithDebug(f DebugFunc) Option {
	return func(c *config) error {
		if f == nil {
			return &Error{Code: CodeInvalidArgument, Message: "debug function is nil"}
		}
		return configSetDebug(c.c, f)
	}
}
