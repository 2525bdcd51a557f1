package httpx_test

// Tests of Transport (http.RoundTripper) in the style of net/http's own client
// tests: httptest servers on 127.0.0.1, an http.Client on top.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	httpx "libhttpx.org/go/httpx"
)

func newHTTPClient(t *testing.T, tr *httpx.Transport) *http.Client {
	t.Helper()
	if tr == nil {
		tr = &httpx.Transport{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func TestTransportGetHeadersBothWays(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("X-Got-Foo", strings.Join(r.Header.Values("X-Foo"), "|"))
		w.Header().Set("X-Got-Host", r.Host)
		w.Header().Set("X-Got-UA", r.Header.Get("User-Agent"))
		w.Header().Set("X-Got-Method", r.Method)
		w.Header().Set("X-Got-Query", r.URL.RawQuery)
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	req, _ := http.NewRequest("GET", srv.URL+"/path?q=1&r=two", nil)
	req.Header.Add("X-Foo", "1")
	req.Header.Add("X-Foo", "2")
	req.Host = "example.test"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || string(b) != "hello" {
		t.Fatalf("body %q %v", b, err)
	}
	if resp.StatusCode != 200 || resp.Status != "200 OK" || resp.Proto != "HTTP/1.1" || resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
		t.Fatalf("status line %q %q", resp.Status, resp.Proto)
	}
	if got := resp.Header.Values("X-Multi"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("X-Multi %v", got)
	}
	if resp.Header.Get("X-Got-Foo") != "1|2" || resp.Header.Get("X-Got-Host") != "example.test" ||
		resp.Header.Get("X-Got-Method") != "GET" || resp.Header.Get("X-Got-Query") != "q=1&r=two" {
		t.Fatalf("server saw %v", resp.Header)
	}
	if !strings.Contains(resp.Header.Get("X-Got-UA"), "Go-http-client") {
		t.Fatalf("user agent %q", resp.Header.Get("X-Got-UA"))
	}
	if resp.ContentLength != 5 || resp.Request.URL.Path != "/path" {
		t.Fatalf("content length %d", resp.ContentLength)
	}
}

// Redirects are followed by http.Client (the transport sees each hop), with
// its rules: 301/302 turn POST into GET, 307/308 resend the body (GetBody).
func TestTransportRedirects(t *testing.T) {
	var hops atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		switch r.URL.Path {
		case "/301":
			http.Redirect(w, r, "/final", http.StatusMovedPermanently)
		case "/302":
			http.Redirect(w, r, srv.URL+"/final", http.StatusFound)
		case "/307":
			http.Redirect(w, r, "/final", http.StatusTemporaryRedirect)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/final":
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s", r.Method, b)
		}
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	for _, tc := range []struct{ path, method, want string }{
		{"/301", "POST", "GET "},
		{"/302", "POST", "GET "},
		{"/307", "POST", "POST payload"},
		{"/302", "GET", "GET "},
	} {
		hops.Store(0)
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader("payload"))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want || resp.Request.URL.Path != "/final" || hops.Load() != 2 {
			t.Fatalf("%s %s: got %q at %s after %d hops", tc.method, tc.path, b, resp.Request.URL, hops.Load())
		}
	}
	// The transport itself never follows: one hop, the 3xx comes back.
	resp, err := (&httpx.Transport{}).RoundTrip(mustReq(t, "GET", srv.URL+"/301", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/final" {
		t.Fatalf("RoundTrip followed: %d", resp.StatusCode)
	}
	// http.Client's limit of 10 redirects.
	_, err = c.Get(srv.URL + "/loop")
	if err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("loop: %v", err)
	}
}

func mustReq(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Cookies live in http.Client's Jar only: set by one response, sent with the
// next request and across a redirect; the transport keeps none.
func TestTransportCookiesThroughJar(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/set":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "other", Value: "x y", Path: "/"})
		case "/redirect-set":
			http.SetCookie(w, &http.Cookie{Name: "hop", Value: "1", Path: "/"})
			http.Redirect(w, r, "/show", http.StatusFound)
		case "/show":
			var names []string
			for _, c := range r.Cookies() {
				names = append(names, c.Name+"="+c.Value)
			}
			io.WriteString(w, strings.Join(names, ";"))
		}
	}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := newHTTPClient(t, nil)
	c.Jar = jar
	get := func(p string) string {
		resp, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	get("/set")
	if got := get("/show"); got != "session=abc;other=x y" {
		t.Fatalf("cookies sent %q", got)
	}
	if got := get("/redirect-set"); !strings.Contains(got, "hop=1") || !strings.Contains(got, "session=abc") {
		t.Fatalf("after redirect %q", got)
	}
	// Without a jar nothing is remembered by the transport.
	c2 := newHTTPClient(t, nil)
	resp, _ := c2.Get(srv.URL + "/set")
	resp.Body.Close()
	resp, err := c2.Get(srv.URL + "/show")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) != 0 {
		t.Fatalf("transport kept cookies: %q", b)
	}
}

// Large bodies both ways, streamed: 16 MiB down with Content-Length, 8 MiB up
// from an io.Reader of unknown length (chunked), checked by SHA-256.
func TestTransportLargeBodies(t *testing.T) {
	const down = 16 << 20
	const up = 8 << 20
	pattern := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			h := sha256.New()
			n, err := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x %v %v", n, h.Sum(nil), r.TransferEncoding, err)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(down))
		for i := 0; i < down/len(pattern); i++ {
			w.Write(pattern)
		}
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	want := sha256.New()
	for i := 0; i < down/len(pattern); i++ {
		want.Write(pattern)
	}
	if err != nil || n != down || !bytes.Equal(h.Sum(nil), want.Sum(nil)) || resp.ContentLength != down {
		t.Fatalf("download: %d bytes, %v", n, err)
	}

	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < up/len(pattern); i++ {
			if _, err := pw.Write(pattern); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req := mustReq(t, "POST", srv.URL, pr) // ContentLength 0 with a body: unknown, chunked
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantUp := sha256.New()
	for i := 0; i < up/len(pattern); i++ {
		wantUp.Write(pattern)
	}
	if string(b) != fmt.Sprintf("%d %x [chunked] <nil>", up, wantUp.Sum(nil)) {
		t.Fatalf("upload: %s", b)
	}
	// Known length: sent with Content-Length.
	resp, err = c.Post(srv.URL, "application/octet-stream", bytes.NewReader(pattern))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(string(b), strconv.Itoa(len(pattern))+" ") || !strings.HasSuffix(string(b), "[] <nil>") {
		t.Fatalf("sized upload: %s", b)
	}
}

// A chunked response read as it arrives: the first chunk is readable before
// the server sends the second.
func TestTransportChunkedStreaming(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, "second")
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" || resp.Header.Get("Transfer-Encoding") != "" {
		t.Fatalf("framing: %d %v %v", resp.ContentLength, resp.TransferEncoding, resp.Header)
	}
	buf := make([]byte, 64)
	n, err := resp.Body.Read(buf)
	if err != nil || string(buf[:n]) != "first;" {
		t.Fatalf("first read %q %v", buf[:n], err)
	}
	close(release)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "second" {
		t.Fatalf("rest %q %v", rest, err)
	}
}

func TestTransportHeadAnd204(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		default:
			w.Header().Set("Content-Length", "1234")
			if r.Method != "HEAD" {
				w.Write(make([]byte, 1234))
			}
		}
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	for i := 0; i < 3; i++ { // the connection stays usable after each
		resp, err := c.Head(srv.URL + "/doc")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(b) != 0 || resp.ContentLength != 1234 || resp.StatusCode != 200 {
			t.Fatalf("HEAD: %d %d %v", len(b), resp.ContentLength, err)
		}
		for _, p := range []string{"/204", "/304"} {
			resp, err = c.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			b, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || len(b) != 0 || resp.ContentLength != 0 {
				t.Fatalf("%s: %d %v", p, len(b), err)
			}
		}
	}
}

// Closing a body early (half read) closes that connection; the next request
// works on a new one.
func TestTransportEarlyClose(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/small" {
			io.WriteString(w, "ok")
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(4<<20))
		chunk := make([]byte, 32<<10)
		for i := 0; i < (4<<20)/len(chunk); i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newHTTPClient(t, nil)
	for i := 0; i < 3; i++ {
		resp, err := c.Get(srv.URL + "/big")
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp.Body.Close()
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Close took %v", d)
		}
		if _, err := resp.Body.Read(buf); err == nil {
			t.Fatal("read after close succeeded")
		}
		resp, err = c.Get(srv.URL + "/small")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" {
			t.Fatalf("after early close: %q", b)
		}
	}
	// /small reused the connection of the previous /small at most; each /big
	// connection was closed: at least 3 connections.
	if n := conns.Load(); n < 3 {
		t.Fatalf("%d connections: a half-read one was reused", n)
	}
}

// Cancel mid-body: the server sends part of the body and stalls; cancelling
// the context aborts the blocked Read with context.Canceled.
func TestTransportContextCancelMidBody(t *testing.T) {
	needCancel(t)
	stall := make(chan struct{})
	defer close(stall)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	elapsed := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if elapsed > 3*time.Second {
		t.Fatalf("cancel took %v", elapsed)
	}
	t.Logf("blocked read returned %v after the cancel", elapsed-200*time.Millisecond)
}

// Cancel before the response head, and a deadline: errors.Is holds for
// context.Canceled / context.DeadlineExceeded / os.ErrDeadlineExceeded, and
// the error is a net.Error with Timeout() for the deadline.
func TestTransportContextBeforeHead(t *testing.T) {
	needCancel(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	req, _ = http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	start = time.Now()
	_, err = c.Do(req)
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("deadline: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("deadline took %v", d)
	}

	// An already cancelled context sends nothing.
	ctx, cancel3 := context.WithCancel(context.Background())
	cancel3()
	req, _ = http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	if _, err := (&httpx.Transport{}).RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("pre-cancelled: %v", err)
	}
}

// A request body blocked in Read (a pipe nobody writes) is interrupted by the
// cancel: the transport closes req.Body, as net/http does.
func TestTransportContextCancelDuringUpload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("some bytes, then nothing"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL, pr)
	start := time.Now()
	_, err := c.Do(req)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

func TestTransportGzip(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			io.WriteString(w, "plain")
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		io.WriteString(gz, strings.Repeat("compressed ", 1000))
		gz.Close()
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != strings.Repeat("compressed ", 1000) || !resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" || resp.ContentLength != -1 {
		t.Fatalf("gzip: %d bytes, uncompressed=%v, %v", len(b), resp.Uncompressed, resp.Header)
	}
	c2 := newHTTPClient(t, &httpx.Transport{DisableCompression: true})
	resp, err = c2.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "plain" {
		t.Fatalf("DisableCompression: %q", b)
	}
}

// testPKI is a CA with a server certificate for 127.0.0.1 and a client certificate.
type testPKI struct {
	caPEM  []byte
	server tls.Certificate
	client tls.Certificate
	pool   *x509.CertPool
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leaf := func(serial int64, usage x509.ExtKeyUsage, ip bool) tls.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testPKI{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		server: leaf(2, x509.ExtKeyUsageServerAuth, true), client: leaf(3, x509.ExtKeyUsageClientAuth, false), pool: pool}
}

func TestTransportTLS(t *testing.T) {
	pki := newTestPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			n, err := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "%s %d %v", r.Proto, n, err)
			return
		}
		fmt.Fprintf(w, "tls %v client-certs %d", r.TLS != nil, len(r.TLS.PeerCertificates))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	// Not trusted by default.
	c := newHTTPClient(t, nil)
	_, err := c.Get(srv.URL)
	if err == nil || !errors.Is(err, httpx.ErrTLS) {
		t.Fatalf("untrusted: %v", err)
	}
	for name, tc := range map[string]struct {
		tr   *httpx.Transport
		want string
	}{
		"RootCAPEM":          {&httpx.Transport{RootCAPEM: pki.caPEM}, "tls true client-certs 0"},
		"InsecureSkipVerify": {&httpx.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}, "tls true client-certs 0"},
		"client certificate": {&httpx.Transport{RootCAPEM: pki.caPEM, TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{pki.client}}}, "tls true client-certs 1"},
		"HTTP/2":             {&httpx.Transport{RootCAPEM: pki.caPEM, ForceAttemptHTTP2: true}, "tls true client-certs 0"},
	} {
		c := newHTTPClient(t, tc.tr)
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tc.want || resp.TLS == nil {
			t.Fatalf("%s: %q", name, b)
		}
		if name == "HTTP/2" {
			if resp.ProtoMajor != 2 {
				t.Fatalf("HTTP/2: got %s", resp.Proto)
			}
			// A streamed upload of unknown length over HTTP/2.
			pr, pw := io.Pipe()
			go func() {
				chunk := make([]byte, 64<<10)
				for i := 0; i < 32; i++ {
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
				pw.Close()
			}()
			resp, err := c.Post(srv.URL, "application/octet-stream", pr)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "HTTP/2.0 2097152 <nil>" {
				t.Fatalf("HTTP/2 upload: %q", b)
			}
		}
	}
	// A setting that cannot be honoured is an error, never silently ignored.
	c = newHTTPClient(t, &httpx.Transport{TLSClientConfig: &tls.Config{ServerName: "other"}})
	if _, err := c.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "ServerName") {
		t.Fatalf("unsupported field: %v", err)
	}
}

// Proxy: a forward proxy (an httptest server that answers absolute-form
// requests) chosen per request by Transport.Proxy.
func TestTransportProxy(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "direct")
	}))
	defer target.Close()
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", 400)
			return
		}
		proxied.Add(1)
		fmt.Fprintf(w, "via proxy: %s", r.URL)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	tr := &httpx.Transport{Proxy: func(r *http.Request) (*url.URL, error) {
		if r.URL.Path == "/no-proxy" {
			return nil, nil
		}
		return pu, nil
	}}
	c := newHTTPClient(t, tr)
	get := func(p string) string {
		resp, err := c.Get(target.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get("/x"); got != "via proxy: "+target.URL+"/x" || proxied.Load() != 1 {
		t.Fatalf("proxied: %q", got)
	}
	if got := get("/no-proxy"); got != "direct" {
		t.Fatalf("direct: %q", got)
	}
	bad := &httpx.Transport{Proxy: func(*http.Request) (*url.URL, error) { return nil, errors.New("no proxy for you") }}
	if _, err := newHTTPClient(t, bad).Get(target.URL); err == nil || !strings.Contains(err.Error(), "no proxy for you") {
		t.Fatalf("proxy func error: %v", err)
	}
}

// Socket errors wrap syscall.Errno inside a *net.OpError, as net/http's do.
func TestTransportConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newHTTPClient(t, nil)
	_, err = c.Get("http://" + addr + "/")
	var opErr *net.OpError
	var ne net.Error
	var he *httpx.Error
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &opErr) || opErr.Op != "dial" || !errors.As(err, &ne) || ne.Timeout() ||
		!errors.As(err, &he) || he.Code != httpx.CodeConnect {
		t.Fatalf("got %v (%#v)", err, err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("refused is not a deadline")
	}
}

// The library's own timeouts are net.Errors with Timeout() and satisfy
// errors.Is(err, os.ErrDeadlineExceeded).
func TestTransportReadTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	c := newHTTPClient(t, &httpx.Transport{Timeouts: &httpx.Timeouts{Connect: 2 * time.Second, Read: 200 * time.Millisecond,
		Write: 2 * time.Second, Pool: 2 * time.Second}})
	_, err := c.Get(srv.URL)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, httpx.ErrReadTimeout) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v", err)
	}
}

// httptrace hooks fire in net/http's order, from the library's trace events.
func TestTransportHTTPTrace(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") }))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	run := func() []string {
		var mu sync.Mutex
		var events []string
		add := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
		trace := &httptrace.ClientTrace{
			GetConn:      func(hp string) { add("GetConn " + hp) },
			ConnectStart: func(n, a string) { add("ConnectStart " + n + " " + a) },
			ConnectDone: func(n, a string, err error) {
				add(fmt.Sprintf("ConnectDone %s %s %v", n, a, err))
			},
			GotConn: func(i httptrace.GotConnInfo) {
				add(fmt.Sprintf("GotConn reused=%v remote=%v", i.Reused, i.Conn.RemoteAddr()))
			},
			WroteHeaders:         func() { add("WroteHeaders") },
			WroteRequest:         func(i httptrace.WroteRequestInfo) { add("WroteRequest") },
			GotFirstResponseByte: func() { add("GotFirstResponseByte") },
		}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return events
	}
	hp := strings.TrimPrefix(srv.URL, "http://")
	first := strings.Join(run(), "\n")
	want := strings.Join([]string{"GetConn " + hp, "ConnectStart tcp " + hp, "ConnectDone tcp " + hp + " <nil>",
		"GotConn reused=false remote=" + hp, "WroteHeaders", "WroteRequest", "GotFirstResponseByte"}, "\n")
	if first != want {
		t.Fatalf("first request:\n%s\nwant:\n%s", first, want)
	}
	second := strings.Join(run(), "\n")
	want = strings.Join([]string{"GetConn " + hp, "GotConn reused=true remote=" + hp, "WroteHeaders", "WroteRequest", "GotFirstResponseByte"}, "\n")
	if second != want {
		t.Fatalf("second request:\n%s\nwant:\n%s", second, want)
	}
}

// A mock backend under the RoundTripper: net/http code tested without a network.
func TestTransportMockBackend(t *testing.T) {
	mock, err := httpx.NewMockBackend(func(r *httpx.Request) (*httpx.MockResponse, error) {
		body, _ := r.Body()
		return &httpx.MockResponse{StatusCode: 201, Header: http.Header{"X-Echo": {r.Header("X-In")}},
			Body: []byte(r.Method() + " " + r.URL() + " " + string(body))}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	c := newHTTPClient(t, &httpx.Transport{Backend: mock})
	req := mustReq(t, "PUT", "http://api.test/items/1", strings.NewReader("data"))
	req.Header.Set("X-In", "42")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("X-Echo") != "42" || string(b) != "PUT http://api.test/items/1 data" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, b)
	}
}

// 32 goroutines share one http.Client on one Transport (run with -race).
func TestTransportConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Query().Get("i"))
	}))
	defer srv.Close()
	c := newHTTPClient(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				want := strconv.Itoa(g*100 + i)
				resp, err := c.Get(srv.URL + "/?i=" + want)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != want {
					errs <- fmt.Errorf("got %q want %s (%v)", b, want, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// A name that cannot resolve gives a *net.DNSError. The host has a 64-byte
// label, which glibc's resolver rejects before sending any query (checked
// with strace: no socket but nscd's), so the test contacts nothing.
func TestTransportDNSError(t *testing.T) {
	host := strings.Repeat("a", 64) + ".test"
	c := newHTTPClient(t, nil)
	_, err := c.Get("http://" + host + "/")
	var de *net.DNSError
	var ne net.Error
	if !errors.As(err, &de) || de.Name != host || !de.IsNotFound || !errors.As(err, &ne) || ne.Timeout() {
		t.Fatalf("got %v (%#v)", err, err)
	}
}

func needCancel(t *testing.T) {
	t.Helper()
	if !httpx.HaveCancel {
		t.Skip("this libhttpx has no cancel tokens (httpx_cancel_*): a context cannot interrupt a blocked read")
	}
}

// https:// through a proxy: a CONNECT tunnel (an httptest server that
// hijacks CONNECT requests and pipes bytes to the target).
func TestTransportProxyConnectTunnel(t *testing.T) {
	pki := newTestPKI(t)
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret over tls")
	}))
	target.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	target.StartTLS()
	defer target.Close()
	var tunnels atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", 405)
			return
		}
		up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), 502)
			return
		}
		tunnels.Add(1)
		w.WriteHeader(200)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { io.Copy(up, buf); up.Close() }()
		io.Copy(conn, up)
		conn.Close()
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	c := newHTTPClient(t, &httpx.Transport{Proxy: http.ProxyURL(pu), RootCAPEM: pki.caPEM})
	resp, err := c.Get(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "secret over tls" || tunnels.Load() != 1 {
		t.Fatalf("%q, %d tunnels", b, tunnels.Load())
	}
}

// CloseIdleConnections while requests run: none of them fails.
func TestTransportCloseIdleConnectionsConcurrent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	tr := &httpx.Transport{}
	c := newHTTPClient(t, tr)
	stop := make(chan struct{})
	closerDone := make(chan struct{})
	go func() {
		defer close(closerDone)
		for i := 0; i < 200; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				tr.CloseIdleConnections()
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				resp, err := c.Get(srv.URL)
				if err != nil {
					errs <- err
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(b) != "ok" {
					errs <- fmt.Errorf("%q %v", b, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-closerDone
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
