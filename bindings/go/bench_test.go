package httpx_test

// Benchmarks against net/http's own Transport on the same local server:
//
//	go test -tags httpx_dev -run '^$' -bench . -benchmem
//
// GetKeepAlive: a 13-byte GET on a kept-alive connection; Download1MiB: a
// 1 MiB body read to the end. "nethttp" is http.Transport, "transport" is
// httpx.Transport under http.Client, "client" is httpx.Client's own API.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	httpx "libhttpx.org/go/httpx"
)

var mib = bytes.Repeat([]byte("x"), 1<<20)

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/1m" {
			w.Header().Set("Content-Length", strconv.Itoa(len(mib)))
			w.Write(mib)
			return
		}
		w.Header().Set("Content-Length", "13")
		io.WriteString(w, "Hello, world!")
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchHTTPClient(b *testing.B, rt http.RoundTripper, url string, size int64) {
	c := &http.Client{Transport: rt}
	buf := make([]byte, 64<<10)
	b.ReportAllocs()
	if size > 13 {
		b.SetBytes(size)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp.Body}, buf)
		resp.Body.Close()
		if err != nil || n != size {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}

func benchNative(b *testing.B, url string, size int64) {
	c, err := httpx.NewClient(httpx.WithTrustEnv(false))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req, err := httpx.NewRequest("GET", url)
	if err != nil {
		b.Fatal(err)
	}
	defer req.Close()
	buf := make([]byte, 64<<10)
	ctx := context.Background()
	b.ReportAllocs()
	if size > 13 {
		b.SetBytes(size)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Stream(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{resp}, buf)
		resp.Close()
		if err != nil || n != size {
			b.Fatalf("%d bytes, %v", n, err)
		}
	}
}

func runBench(b *testing.B, path string, size int64) {
	srv := benchServer(b)
	b.Run("nethttp", func(b *testing.B) {
		tr := &http.Transport{MaxIdleConnsPerHost: 16}
		defer tr.CloseIdleConnections()
		benchHTTPClient(b, tr, srv.URL+path, size)
	})
	b.Run("transport", func(b *testing.B) {
		tr := &httpx.Transport{}
		defer tr.CloseIdleConnections()
		benchHTTPClient(b, tr, srv.URL+path, size)
	})
	b.Run("client", func(b *testing.B) { benchNative(b, srv.URL+path, size) })
}

func BenchmarkGetKeepAlive(b *testing.B) { runBench(b, "/small", 13) }

func BenchmarkDownload1MiB(b *testing.B) { runBench(b, "/1m", 1<<20) }
