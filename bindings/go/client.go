package httpx

/*
#include <stdlib.h>
#include "httpx.h"
*/
import "C"

import (
	"context"
	"net"
	neturl "net/url"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Option configures a Client (HTTPX's Client(...) keyword arguments).
type Option func(*config) error

type config struct {
	c            *C.httpx_client_config
	totalTimeout time.Duration
}

// err is the first failure of a setter on the config (httpx_client_config_error).
func (cfg *config) err() error {
	var cerr *C.httpx_error
	return takeErr(C.httpx_client_config_error(cfg.c, &cerr), cerr)
}

// setterErr gives an option's error the library's message: options run in
// order and NewClient stops at the first failure, so the config's first
// failed setter is this option's (an error found in Go, e.g. a NUL byte,
// leaves none and is returned as it is).
func (cfg *config) setterErr(err error) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	if lib := cfg.err(); lib != nil && lib.(*Error).Code == e.Code {
		return lib
	}
	return err
}

func (cfg *config) str1(s, what string, f func(*C.char) C.httpx_code) error {
	p, err := cstring(s, what)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(p))
	return codeErr(f(p), what)
}

func (cfg *config) str2(a, aw, b, bw string, f func(*C.char, *C.char) C.httpx_code) error {
	ps, free, err := cstrings(a, aw, b, bw)
	if err != nil {
		return err
	}
	defer free()
	return codeErr(f(ps[0], ps[1]), aw)
}

// WithBaseURL prefixes relative request URLs (HTTPX base_url).
func WithBaseURL(url string) Option {
	return func(c *config) error {
		return c.str1(url, "base URL", func(p *C.char) C.httpx_code { return C.httpx_client_config_set_base_url(c.c, p) })
	}
}

// WithHeader adds a header sent with every request.
func WithHeader(name, value string) Option {
	return func(c *config) error {
		return c.str2(name, "header name", value, "header value", func(n, v *C.char) C.httpx_code {
			return C.httpx_client_config_add_header(c.c, n, v)
		})
	}
}

// WithParam adds a query parameter sent with every request.
func WithParam(key, value string) Option {
	return func(c *config) error {
		return c.str2(key, "param key", value, "param value", func(k, v *C.char) C.httpx_code {
			return C.httpx_client_config_add_param(c.c, k, v)
		})
	}
}

// WithCookie seeds the cookie jar with a cookie sent to every host.
func WithCookie(name, value string) Option {
	return func(c *config) error {
		return c.str2(name, "cookie name", value, "cookie value", func(n, v *C.char) C.httpx_code {
			return C.httpx_client_config_add_cookie(c.c, n, v, nil, nil)
		})
	}
}

// WithTimeout sets all four timeouts (NoTimeout disables them).
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_timeout(c.c, seconds(d)), "timeout")
	}
}

// WithTimeouts sets the connect, read, write and pool timeouts.
func WithTimeouts(t Timeouts) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_timeouts(c.c, seconds(t.Connect), seconds(t.Read), seconds(t.Write), seconds(t.Pool)), "timeouts")
	}
}

// WithTotalTimeout bounds every send as a whole (see Request.SetTotalTimeout);
// NoTimeout (the default) removes it. A context deadline that comes earlier wins.
func WithTotalTimeout(d time.Duration) Option {
	return func(c *config) error {
		if err := configSetTotalTimeout(c.c, d); err != nil {
			return err
		}
		if d < 0 {
			d = NoTimeout
		}
		c.totalTimeout = d
		return nil
	}
}

// WithLimits sets the pool limits (negative = no limit).
func WithLimits(l Limits) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_limits(c.c, C.int64_t(l.MaxConnections), C.int64_t(l.MaxKeepaliveConnections), seconds(l.KeepaliveExpiry)), "limits")
	}
}

func cbool(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

// WithVerify turns TLS certificate verification on (default) or off.
func WithVerify(on bool) Option {
	return func(c *config) error { return codeErr(C.httpx_client_config_set_verify(c.c, cbool(on)), "verify") }
}

// WithCAFile trusts the CA certificates of a PEM file instead of the default roots.
func WithCAFile(path string) Option {
	return func(c *config) error {
		return c.str1(path, "CA file", func(p *C.char) C.httpx_code { return C.httpx_client_config_set_ca_file(c.c, p) })
	}
}

// WithClientCert sets a client certificate chain and key (PEM files).
func WithClientCert(certPath, keyPath string) Option {
	return func(c *config) error {
		return c.str2(certPath, "certificate path", keyPath, "key path", func(a, b *C.char) C.httpx_code {
			return C.httpx_client_config_set_client_cert(c.c, a, b)
		})
	}
}

// WithTrustEnv honours (default) or ignores proxy/TLS/netrc environment variables.
func WithTrustEnv(on bool) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_trust_env(c.c, cbool(on)), "trust_env")
	}
}

// WithFollowRedirects follows redirects by default (off by default, as in HTTPX).
func WithFollowRedirects(on bool) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_follow_redirects(c.c, cbool(on)), "follow_redirects")
	}
}

// WithMaxRedirects caps the redirects followed (default 20).
func WithMaxRedirects(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return &Error{Code: CodeInvalidArgument, Message: "max redirects must be >= 0"}
		}
		return codeErr(C.httpx_client_config_set_max_redirects(c.c, C.uint32_t(n)), "max_redirects")
	}
}

// WithProxy routes requests matching the routing key ("all://", "https://", ...)
// through the proxy at url ("" = no proxy for that key).
func WithProxy(key, url string) Option {
	return func(c *config) error {
		k, err := cstring(key, "proxy key")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(k))
		var u *C.char
		if url != "" {
			if u, err = cstring(url, "proxy URL"); err != nil {
				return err
			}
			defer C.free(unsafe.Pointer(u))
		}
		return codeErr(C.httpx_client_config_add_proxy(c.c, k, u, C.HTTPX_PROXY_DEFAULT), "proxy")
	}
}

// WithHTTP2 offers HTTP/2 by ALPN over TLS (falls back to HTTP/1.1).
func WithHTTP2(on bool) Option {
	return func(c *config) error { return codeErr(C.httpx_client_config_set_http2(c.c, cbool(on)), "http2") }
}

// WithCAPEM trusts the CA certificates in pem instead of the default roots.
func WithCAPEM(pem []byte) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_ca_pem(c.c, bytesPtr(pem), C.uintptr_t(len(pem))), "CA PEM")
	}
}

// WithClientCertPEM sets a client certificate chain and its key (PEM bytes).
func WithClientCertPEM(cert, key []byte) Option {
	return func(c *config) error {
		return codeErr(C.httpx_client_config_set_client_cert_pem(c.c, bytesPtr(cert), C.uintptr_t(len(cert)),
			bytesPtr(key), C.uintptr_t(len(key))), "client certificate PEM")
	}
}

// WithMinTLSVersion refuses TLS versions below v (tls.VersionTLS12 or tls.VersionTLS13).
func WithMinTLSVersion(v uint16) Option {
	return func(c *config) error {
		switch v {
		case 0x0303:
			return codeErr(C.httpx_client_config_set_min_tls_version(c.c, C.HTTPX_TLS_1_2), "min TLS version")
		case 0x0304:
			return codeErr(C.httpx_client_config_set_min_tls_version(c.c, C.HTTPX_TLS_1_3), "min TLS version")
		}
		return &Error{Code: CodeInvalidArgument, Message: "minimum TLS version must be tls.VersionTLS12 or tls.VersionTLS13"}
	}
}

// WithProxyMode is WithProxy with HTTPX's proxy mode (ProxyDefault, ProxyForwardOnly, ProxyTunnelOnly).
func WithProxyMode(key, url string, mode ProxyMode) Option {
	return func(c *config) error {
		k, err := cstring(key, "proxy key")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(k))
		var u *C.char
		if url != "" {
			if u, err = cstring(url, "proxy URL"); err != nil {
				return err
			}
			defer C.free(unsafe.Pointer(u))
		}
		return codeErr(C.httpx_client_config_add_proxy(c.c, k, u, C.uint32_t(mode)), "proxy")
	}
}

// ProxyMode is HTTPX's Proxy(mode=...).
type ProxyMode uint32

// Proxy modes: DEFAULT forwards http:// and tunnels https://.
const (
	ProxyDefault     ProxyMode = C.HTTPX_PROXY_DEFAULT
	ProxyForwardOnly ProxyMode = C.HTTPX_PROXY_FORWARD_ONLY
	ProxyTunnelOnly  ProxyMode = C.HTTPX_PROXY_TUNNEL_ONLY
)

// WithAuth authenticates every request (requests may override it).
func WithAuth(a Auth) Option {
	return func(c *config) error {
		h, err := a.newC()
		if err != nil {
			return err
		}
		defer C.httpx_auth_free(h) // the config keeps its own reference
		return codeErr(C.httpx_client_config_set_auth(c.c, h), "auth")
	}
}

// WithBackend answers every request not matched by a mount with t
// (HTTPX transport=). The client keeps t alive; t may still be closed.
func WithBackend(t *Backend) Option {
	return func(c *config) error {
		if t == nil {
			return codeErr(C.httpx_client_config_set_transport(c.c, nil), "transport")
		}
		defer runtime.KeepAlive(t)
		if err := t.Err(); err != nil {
			return err
		}
		return codeErr(C.httpx_client_config_set_transport(c.c, t.handle()), "transport")
	}
}

// WithMount uses t for URLs matching a routing key (HTTPX mounts=).
func WithMount(key string, t *Backend) Option {
	return func(c *config) error {
		var h *C.httpx_transport
		if t != nil {
			if err := t.Err(); err != nil {
				return err
			}
			h = t.handle()
			defer runtime.KeepAlive(t)
		}
		return c.str1(key, "mount key", func(k *C.char) C.httpx_code { return C.httpx_client_config_mount(c.c, k, h) })
	}
}

// Client is an HTTPX client: a connection pool plus merged defaults. It is safe
// for concurrent use. Close it when done (a finalizer also frees it).
type Client struct {
	mu           sync.Mutex
	c            *C.httpx_client
	users        int
	closed       bool
	totalTimeout time.Duration // WithTotalTimeout (NoTimeout: none)
}

// NewClient builds a client from options.
func NewClient(opts ...Option) (*Client, error) {
	cfg := &config{totalTimeout: NoTimeout}
	if code := C.httpx_client_config_new(&cfg.c); code != C.HTTPX_OK {
		return nil, codeErr(code, "httpx_client_config_new")
	}
	defer C.httpx_client_config_free(cfg.c)
	for _, o := range opts {
		if err := o(cfg); err != nil {
			return nil, cfg.setterErr(err)
		}
	}
	// Every option checks its setter; this catches any that did not.
	if err := cfg.err(); err != nil {
		return nil, err
	}
	if err := configSetObservers(cfg.c); err != nil {
		return nil, err
	}
	var cerr *C.httpx_error
	cl := &Client{totalTimeout: cfg.totalTimeout}
	if err := takeErr(C.httpx_client_new(cfg.c, &cl.c, &cerr), cerr); err != nil {
		return nil, err
	}
	runtime.SetFinalizer(cl, (*Client).Close)
	return cl, nil
}

// acquire pins the C handle for one call; release unpins it (and frees it if
// Close came in meanwhile).
func (c *Client) acquire() (*C.httpx_client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.c == nil {
		return nil, &Error{Code: CodeClientClosed, Message: "the client has been closed"}
	}
	c.users++
	return c.c, nil
}

func (c *Client) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	if c.closed && c.users == 0 && c.c != nil {
		C.httpx_client_free(c.c)
		c.c = nil
	}
}

// Close closes the pool and frees the client (once in-flight calls finish).
// Responses being streamed keep working. Idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	runtime.SetFinalizer(c, nil)
	if c.users == 0 {
		C.httpx_client_free(c.c)
		c.c = nil
	} else {
		C.httpx_client_close(c.c)
	}
	return nil
}

// retire stops new calls and frees the client once the calls in flight are
// done, without closing its pool under them (Transport.CloseIdleConnections).
func (c *Client) retire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	runtime.SetFinalizer(c, nil)
	if c.users == 0 {
		C.httpx_client_free(c.c)
		c.c = nil
	}
}

// BuildRequest is HTTPX's client.build_request: the client's base URL,
// headers, params and cookies merged in, ready to edit and Send.
func (c *Client) BuildRequest(method, url string) (*Request, error) {
	h, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release()
	ps, free, err := cstrings(method, "method", url, "URL")
	if err != nil {
		return nil, err
	}
	defer free()
	var req *C.httpx_request
	var cerr *C.httpx_error
	if err := takeErr(C.httpx_request_build(h, ps[0], ps[1], &req, &cerr), cerr); err != nil {
		return nil, err
	}
	return ownRequest(req), nil
}

func (c *Client) send(ctx context.Context, req *Request, stream bool) (*Response, error) {
	if req == nil || req.c == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "request is nil or closed"}
	}
	h, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release()
	return c.sendOn(h, ctx, req, stream)
}

// sendOn is send on a handle the caller acquired.
func (c *Client) sendOn(h *C.httpx_client, ctx context.Context, req *Request, stream bool) (*Response, error) {
	if err := req.Err(); err != nil {
		return nil, err // a setter failed on req (see Request.Err)
	}
	ctl := newSendCtl(ctx, stream)
	if err := ctl.start(); err != nil {
		return nil, err
	}
	creq, done, err := ctl.prepare(req, c.totalTimeout)
	if err != nil {
		ctl.release()
		return nil, err
	}
	if ctl != nil && ctl.trace != nil {
		ctl.trace.getConn(hostPortOf(req.URL()))
	}
	resp, err := doSend(ctl, h, creq, stream)
	done()
	runtime.KeepAlive(req)
	if err != nil {
		if ctl != nil {
			ctl.trace.failed(err)
		}
		ctl.release()
		return nil, err
	}
	if !stream {
		ctl.release()
		ctl = nil
	}
	return ownResponse(resp, ctl), nil
}

// Send sends req (which may be sent again) and reads the whole body. ctx
// cancels the send and its deadline bounds it.
func (c *Client) Send(ctx context.Context, req *Request) (*Response, error) {
	return c.send(ctx, req, false)
}

// Stream sends req and returns once the response head is in: read the body
// with Read (Response is an io.ReadCloser) and Close the response. ctx keeps
// governing the body reads: cancelling it aborts a blocked Read.
func (c *Client) Stream(ctx context.Context, req *Request) (*Response, error) {
	return c.send(ctx, req, true)
}

func (c *Client) simple(ctx context.Context, method, url string, body []byte, contentType string) (*Response, error) {
	req, err := c.BuildRequest(method, url)
	if err != nil {
		return nil, err
	}
	defer req.Close()
	if body != nil || contentType != "" {
		if err := req.SetBody(body, contentType); err != nil {
			return nil, err
		}
	}
	return c.Send(ctx, req)
}

// Get sends a GET (url relative to the base URL, if any).
func (c *Client) Get(ctx context.Context, url string) (*Response, error) {
	return c.simple(ctx, "GET", url, nil, "")
}

// Head sends a HEAD.
func (c *Client) Head(ctx context.Context, url string) (*Response, error) {
	return c.simple(ctx, "HEAD", url, nil, "")
}

// Delete sends a DELETE.
func (c *Client) Delete(ctx context.Context, url string) (*Response, error) {
	return c.simple(ctx, "DELETE", url, nil, "")
}

// Post sends body (contentType may be "") with POST.
func (c *Client) Post(ctx context.Context, url, contentType string, body []byte) (*Response, error) {
	return c.simple(ctx, "POST", url, body, contentType)
}

// Put sends body with PUT.
func (c *Client) Put(ctx context.Context, url, contentType string, body []byte) (*Response, error) {
	return c.simple(ctx, "PUT", url, body, contentType)
}

// Get is HTTPX's top-level httpx.get: a fresh connection for one request.
func Get(ctx context.Context, url string) (*Response, error) {
	c, err := NewClient(WithLimits(Limits{MaxConnections: -1, MaxKeepaliveConnections: 0, KeepaliveExpiry: 0}))
	if err != nil {
		return nil, err
	}
	defer c.Close() // a response outlives its client
	return c.Get(ctx, url)
}

// hostPortOf is "host:port" of an absolute URL (httptrace's GetConn argument).
func hostPortOf(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Auth is an authentication scheme for WithAuth and Request.SetAuth.
type Auth interface {
	newC() (*C.httpx_auth, error)
}

type credAuth struct {
	digest     bool
	user, pass string
}

func (a credAuth) newC() (*C.httpx_auth, error) {
	ps, free, err := cstrings(a.user, "user", a.pass, "password")
	if err != nil {
		return nil, err
	}
	defer free()
	var h *C.httpx_auth
	var code C.httpx_code
	if a.digest {
		code = C.httpx_auth_digest(ps[0], ps[1], &h)
	} else {
		code = C.httpx_auth_basic(ps[0], ps[1], &h)
	}
	return h, codeErr(code, "auth")
}

// BasicAuth is HTTPX's auth=(user, pass).
func BasicAuth(user, pass string) Auth { return credAuth{user: user, pass: pass} }

// DigestAuth is HTTPX's DigestAuth(user, pass).
func DigestAuth(user, pass string) Auth { return credAuth{digest: true, user: user, pass: pass} }

// WithTransport is the earlier name of WithBackend.
//
// Deprecated: use WithBackend.
func WithTransport(t *Backend) Option { return WithBackend(t) }
