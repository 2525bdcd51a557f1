package httpx

/*
#include <stdlib.h>
#include "httpx.h"
*/
import "C"

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Transport is an http.RoundTripper that sends requests with libhttpx:
//
//	client := &http.Client{Transport: &httpx.Transport{}}
//
// It behaves like net/http's own Transport where it matters to http.Client:
// it never follows redirects and never stores cookies itself (http.Client and
// its Jar do that), req.Body is streamed as the request body and closed,
// resp.Body streams the response, req.Context() cancels the exchange at any
// point (also while the body is being read) and its deadline bounds it.
//
// Differences from http.Transport: a compressed response (gzip, deflate, br,
// zstd) is always decoded — resp.Uncompressed is then true and
// Content-Encoding/Content-Length are removed — even when the caller set
// Accept-Encoding itself; trailers are not read; 1xx responses are not
// reported; only the TLS settings listed on TLSClientConfig are mapped.
//
// A zero Transport is ready to use. Set the fields before the first request;
// a Transport is safe for concurrent use. CloseIdleConnections closes its pools.
type Transport struct {
	// Proxy returns the proxy for a request, as http.Transport.Proxy (nil URL:
	// no proxy). http.ProxyFromEnvironment reads HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY. Nil: no proxy at all (libhttpx never reads the environment here).
	// http, https (CONNECT tunnel), socks5 and socks5h proxy URLs work.
	Proxy func(*http.Request) (*url.URL, error)

	// TLSClientConfig: InsecureSkipVerify, MinVersion (TLS 1.2 or 1.3) and
	// Certificates[0] (the client certificate) are mapped to libhttpx (rustls).
	// Any other non-zero field (RootCAs, ServerName, VerifyPeerCertificate, ...)
	// makes RoundTrip fail with an error naming it; trust CAs with RootCAPEM.
	TLSClientConfig *tls.Config

	// RootCAPEM: PEM CA certificates to trust instead of the bundled roots.
	RootCAPEM []byte

	// ForceAttemptHTTP2 offers HTTP/2 by ALPN on https:// connections.
	ForceAttemptHTTP2 bool

	// DisableKeepAlives: a new connection for every request.
	DisableKeepAlives bool

	// DisableCompression: do not add "Accept-Encoding: gzip".
	DisableCompression bool

	// MaxIdleConns caps the idle (keep-alive) connections kept, over all hosts
	// (libhttpx's pool limit is not per host). 0: 100.
	MaxIdleConns int

	// MaxConns caps the connections open at once, over all hosts (a request
	// then waits for one, bounded by the context). 0: no limit.
	MaxConns int

	// IdleConnTimeout: how long an idle connection is kept. 0: 90 s.
	IdleConnTimeout time.Duration

	// Timeouts: libhttpx's connect, read (per read), write and pool timeouts.
	// Nil: none of them, as net/http; use the request's context deadline.
	Timeouts *Timeouts

	// Backend, when set, answers every request instead of the network, e.g.
	// NewMockBackend(handler) to unit-test net/http code without a server.
	Backend *Backend

	// Options are further libhttpx client options, applied last.
	Options []Option

	mu      sync.Mutex
	clients map[string]*Client // by proxy URL ("" = direct)
}

var _ http.RoundTripper = (*Transport)(nil)

var defaultUserAgent = "Go-http-client/1.1 (libhttpx)"

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	closeBody := func() {
		if body != nil {
			_ = body.Close()
		}
	}
	fail := func(err error) (*http.Response, error) {
		closeBody()
		return nil, err
	}
	if req.URL == nil {
		return fail(errors.New("httpx: nil Request.URL"))
	}
	if req.Header == nil {
		return fail(errors.New("httpx: nil Request.Header"))
	}
	scheme := req.URL.Scheme
	if scheme != "http" && scheme != "https" {
		return fail(&Error{Code: CodeUnsupportedProtocol, Message: fmt.Sprintf("unsupported protocol scheme %q", scheme)})
	}
	if req.URL.Host == "" {
		return fail(&Error{Code: CodeInvalidURL, Message: "no Host in request URL"})
	}
	if body == nil && req.ContentLength > 0 {
		return fail(&Error{Code: CodeInvalidArgument, Message: fmt.Sprintf("Request.ContentLength=%d with nil Body", req.ContentLength)})
	}
	var proxy *url.URL
	if t.Proxy != nil {
		p, err := t.Proxy(req)
		if err != nil {
			return fail(err)
		}
		proxy = p
	}
	r, err := t.buildRequest(req, body)
	if err != nil {
		return fail(err)
	}
	client, h, err := t.clientFor(proxy)
	if err != nil {
		r.Close()
		return fail(err)
	}
	resp, err := client.sendOn(h, req.Context(), r, true)
	client.release()
	r.Close()
	closeBody() // the body has been sent (or the send failed)
	if err != nil {
		return nil, err
	}
	return toHTTPResponse(client, req, resp), nil
}

func (t *Transport) buildRequest(req *http.Request, body io.ReadCloser) (*Request, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	u := req.URL
	if u.User != nil { // http.Client turned URL credentials into Authorization already
		cp := *u
		cp.User = nil
		u = &cp
	}
	r, err := NewRequest(method, u.String())
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			r.Close()
		}
	}()
	// Exactly what the caller asked for: no HTTPX auth, no redirects.
	if err := r.DisableAuth(); err != nil {
		return nil, err
	}
	if err := r.SetFollowRedirects(false); err != nil {
		return nil, err
	}
	if req.Host != "" && req.Host != req.URL.Host {
		if err := r.SetHeader("Host", req.Host); err != nil {
			return nil, err
		}
	}
	for k, vs := range req.Header {
		if strings.EqualFold(k, "Host") {
			continue // req.Host wins, as in net/http
		}
		for _, v := range vs {
			if err := r.AddHeader(k, v); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		if err := r.SetHeader("User-Agent", defaultUserAgent); err != nil {
			return nil, err
		}
	}
	if !t.DisableCompression && req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == "" && method != http.MethodHead {
		if err := r.SetHeader("Accept-Encoding", "gzip"); err != nil {
			return nil, err
		}
	}
	if req.Close && req.Header.Get("Connection") == "" {
		if err := r.SetHeader("Connection", "close"); err != nil {
			return nil, err
		}
	}
	if body != nil {
		n := req.ContentLength
		if n <= 0 {
			n = -1 // unknown: chunked
		}
		if err := r.SetBodyReader(body, n); err != nil {
			return nil, err
		}
	}
	ok = true
	return r, nil
}

// clientFor is the libhttpx client (one pool) for requests through proxy,
// acquired for one send (release it after): CloseIdleConnections then lets
// the send finish on it.
func (t *Transport) clientFor(proxy *url.URL) (*Client, *C.httpx_client, error) {
	key := ""
	if proxy != nil {
		key = proxy.String()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.clients[key]; c != nil {
		if h, err := c.acquire(); err == nil {
			return c, h, nil
		}
	}
	opts, err := t.options(key)
	if err != nil {
		return nil, nil, err
	}
	c, err := NewClient(opts...)
	if err != nil {
		return nil, nil, err
	}
	h, err := c.acquire()
	if err != nil {
		return nil, nil, err
	}
	if t.clients == nil {
		t.clients = map[string]*Client{}
	}
	t.clients[key] = c
	return c, h, nil
}

func (t *Transport) options(proxy string) ([]Option, error) {
	opts := []Option{WithTrustEnv(false), WithFollowRedirects(false)}
	to := Timeouts{Connect: NoTimeout, Read: NoTimeout, Write: NoTimeout, Pool: NoTimeout}
	if t.Timeouts != nil {
		to = *t.Timeouts
	}
	opts = append(opts, WithTimeouts(to))
	lim := Limits{MaxConnections: -1, MaxKeepaliveConnections: 100, KeepaliveExpiry: 90 * time.Second}
	if t.MaxConns > 0 {
		lim.MaxConnections = t.MaxConns
	}
	if t.MaxIdleConns > 0 {
		lim.MaxKeepaliveConnections = t.MaxIdleConns
	}
	if t.IdleConnTimeout > 0 {
		lim.KeepaliveExpiry = t.IdleConnTimeout
	}
	if t.DisableKeepAlives {
		lim.MaxKeepaliveConnections = 0
	}
	opts = append(opts, WithLimits(lim))
	if t.ForceAttemptHTTP2 {
		opts = append(opts, WithHTTP2(true))
	}
	if len(t.RootCAPEM) > 0 {
		opts = append(opts, WithCAPEM(t.RootCAPEM))
	}
	if tc := t.TLSClientConfig; tc != nil {
		o, err := tlsOptions(tc)
		if err != nil {
			return nil, err
		}
		opts = append(opts, o...)
	}
	if proxy != "" {
		opts = append(opts, WithProxy("all://", proxy))
	}
	if t.Backend != nil {
		opts = append(opts, WithBackend(t.Backend))
	}
	return append(opts, t.Options...), nil
}

// tlsOptions maps the parts of a tls.Config libhttpx can honour.
func tlsOptions(tc *tls.Config) ([]Option, error) {
	var unsupported []string
	check := func(set bool, name string) {
		if set {
			unsupported = append(unsupported, name)
		}
	}
	check(tc.RootCAs != nil, "RootCAs (use Transport.RootCAPEM)")
	check(tc.ServerName != "", "ServerName")
	check(tc.VerifyPeerCertificate != nil, "VerifyPeerCertificate")
	check(tc.VerifyConnection != nil, "VerifyConnection")
	check(tc.GetClientCertificate != nil, "GetClientCertificate")
	check(tc.GetCertificate != nil, "GetCertificate")
	check(len(tc.NextProtos) > 0, "NextProtos (use ForceAttemptHTTP2)")
	check(tc.MaxVersion != 0, "MaxVersion")
	check(len(tc.CipherSuites) > 0, "CipherSuites")
	check(len(tc.CurvePreferences) > 0, "CurvePreferences")
	check(tc.KeyLogWriter != nil, "KeyLogWriter")
	check(len(tc.Certificates) > 1, "more than one of Certificates")
	if len(unsupported) > 0 {
		return nil, &Error{Code: CodeInvalidArgument, Message: "tls.Config fields libhttpx cannot honour: " + strings.Join(unsupported, ", ")}
	}
	var opts []Option
	if tc.InsecureSkipVerify {
		opts = append(opts, WithVerify(false))
	}
	if tc.MinVersion != 0 {
		v := tc.MinVersion
		if v < tls.VersionTLS12 {
			v = tls.VersionTLS12 // rustls speaks 1.2 and 1.3 only
		}
		opts = append(opts, WithMinTLSVersion(v))
	}
	if len(tc.Certificates) == 1 {
		certPEM, keyPEM, err := certificatePEM(tc.Certificates[0])
		if err != nil {
			return nil, err
		}
		opts = append(opts, WithClientCertPEM(certPEM, keyPEM))
	}
	return opts, nil
}

func certificatePEM(c tls.Certificate) (certPEM, keyPEM []byte, err error) {
	for _, der := range c.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, nil, &Error{Code: CodeInvalidArgument, Message: "client certificate key: " + err.Error()}
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	return certPEM, keyPEM, nil
}

// CloseIdleConnections retires the pools: each is freed (its connections
// closed) as soon as no request is in flight on it; those in flight are not
// interrupted and streamed bodies keep working. Later requests open new pools.
// http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	cs := t.clients
	t.clients = nil
	t.mu.Unlock()
	for _, c := range cs {
		c.retire()
	}
}

// decoded are the content codings libhttpx decodes.
func decodedCoding(v string) bool {
	for _, c := range strings.Split(v, ",") {
		switch strings.ToLower(strings.TrimSpace(c)) {
		case "gzip", "x-gzip", "deflate", "br", "zstd", "identity", "":
		default:
			return false
		}
	}
	return true
}

// toHTTPResponse turns a streamed libhttpx response into an *http.Response
// whose Body reads (and finally frees) it.
func toHTTPResponse(client *Client, req *http.Request, r *Response) *http.Response {
	r.mu.Lock()
	c := r.c
	status := int(C.httpx_response_status(c))
	reason := C.GoString(C.httpx_response_reason(c))
	proto := C.GoString(C.httpx_response_http_version(c))
	n := int(C.httpx_response_header_count(c))
	h := make(http.Header, n)
	setCookie := false
	for i := 0; i < n; i++ {
		var name, value *C.char
		if C.httpx_response_header_at(c, C.uintptr_t(i), &name, &value) == C.HTTPX_OK {
			k := textproto.CanonicalMIMEHeaderKey(C.GoString(name))
			h[k] = append(h[k], C.GoString(value))
			if k == "Set-Cookie" {
				setCookie = true
			}
		}
	}
	r.mu.Unlock()
	if setCookie {
		// http.Client's Jar owns cookies: forget what libhttpx stored (it sends
		// its jar only on redirects and auth retries, which this transport never does).
		if h, err := client.acquire(); err == nil {
			C.httpx_client_cookie_clear(h)
			client.release()
		}
	}
	resp := &http.Response{
		Status:     strconv.Itoa(status) + " " + reason,
		StatusCode: status,
		Header:     h,
		Request:    req,
	}
	switch proto {
	case "HTTP/2":
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/2.0", 2, 0
	case "HTTP/1.0":
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.0", 1, 0
	default:
		resp.Proto, resp.ProtoMajor, resp.ProtoMinor = "HTTP/1.1", 1, 1
	}
	if req.URL.Scheme == "https" {
		r.mu.Lock()
		info := connInfo(r.c)
		r.mu.Unlock()
		resp.TLS = tlsState(info, req.URL.Hostname())
	}
	if te := h.Get("Transfer-Encoding"); te != "" {
		delete(h, "Transfer-Encoding")
		resp.TransferEncoding = []string{strings.ToLower(strings.TrimSpace(te))}
	}
	resp.ContentLength = -1
	if ce := h.Get("Content-Encoding"); ce != "" && decodedCoding(ce) && !strings.EqualFold(ce, "identity") {
		delete(h, "Content-Encoding")
		delete(h, "Content-Length")
		resp.Uncompressed = true
	} else if cl := h.Get("Content-Length"); cl != "" && resp.TransferEncoding == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64); err == nil && v >= 0 {
			resp.ContentLength = v
		}
	}
	noBody := req.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified || (status >= 100 && status < 200)
	if status == http.StatusNoContent || status == http.StatusNotModified {
		resp.ContentLength = 0
	}
	if noBody || resp.ContentLength == 0 {
		_, _ = r.Body() // nothing to read: hands the connection back to the pool
		r.Close()
		resp.Body = http.NoBody
		return resp
	}
	resp.Body = &responseBody{r: r}
	return resp
}

// responseBody is resp.Body of Transport: reads stream from the library,
// Close frees the response (a half-read connection is closed, not pooled).
type responseBody struct {
	r      *Response
	once   sync.Once
	closed bool
	mu     sync.Mutex
}

func (b *responseBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return 0, errors.New("http: read on closed response body")
	}
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		closed = b.closed
		b.mu.Unlock()
		if closed {
			return n, errors.New("http: read on closed response body")
		}
	}
	return n, err
}

func (b *responseBody) Close() error {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.r.Close()
		runtime.KeepAlive(b.r)
	})
	return nil
}
