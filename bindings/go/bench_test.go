package httpx_test

// Benchmarks against net/http's own Transport on the same local server:
//
//	go test -tags httpx_dev -run '^$' -bench . -benchmem
//
// GetKeepAlive: a 13-byte GET on a kept-alive connection; Download1MiB: a
// 1 MiB body read to the end. "nethttp" is http.Transport, "transport" is
// httpx.Transport under http.Client, "client" is httpx.Client's own API.
//
// The server is a net/http server in a child process (this test binary run
// again with HTTPX_BENCH_SERVE=1), listening on 127.0.0.1: an in-process
// server would share the Go scheduler with the client, and a goroutine
// blocked in a cgo call holds its P until sysmon takes it away, which
// measures the scheduler rather than the clients. HTTPX_BENCH_INPROC=1 uses an
// httptest server in this process instead.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	httpx "libhttpx.org/go/httpx"
)

var mib = bytes.Repeat([]byte("x"), 1<<20)

var benchHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/1m" {
		w.Header().Set("Content-Length", strconv.Itoa(len(mib)))
		w.Write(mib)
		return
	}
	w.Header().Set("Content-Length", "13")
	io.WriteString(w, "Hello, world!")
})

func TestMain(m *testing.M) {
	if os.Getenv("HTTPX_BENCH_SERVE") == "1" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("http://" + l.Addr().String())
		// The parent closes our stdin when it is done (or dies): exit then.
		go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
		http.Serve(l, benchHandler)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchServer is the URL of the benchmark server (see the file comment).
func benchServer(b *testing.B) string {
	if os.Getenv("HTTPX_BENCH_INPROC") == "1" {
		srv := httptest.NewServer(benchHandler)
		b.Cleanup(srv.Close)
		return srv.URL
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HTTPX_BENCH_SERVE=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	select {
	case u, ok := <-line:
		if !ok || !strings.HasPrefix(u, "http://") {
			b.Fatalf("benchmark server: %q", u)
		}
		return u
	case <-time.After(20 * time.Second):
		b.Fatal("benchmark server did not start")
	}
	return ""
}

// cpuTime is the user+system CPU time of this process so far (the server runs
// in another process, so this is the client's cost alone).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the client CPU per operation, less sensitive to a loaded
// machine than ns/op (wall time).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func benchHTTPClient(b *testing.B, rt http.RoundTripper, url string, size int64) {
	c := &http.Client{Transport: rt}
	buf := make([]byte, 64<<10)
	b.ReportAllocs()
	if size > 13 {
		b.SetBytes(size)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { reportCPU(b, cpu0) }()
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
	cpu0 := cpuTime()
	defer func() { reportCPU(b, cpu0) }()
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
		benchHTTPClient(b, tr, srv+path, size)
	})
	b.Run("transport", func(b *testing.B) {
		tr := &httpx.Transport{}
		defer tr.CloseIdleConnections()
		benchHTTPClient(b, tr, srv+path, size)
	})
	b.Run("client", func(b *testing.B) { benchNative(b, srv+path, size) })
	b.Run("multi", func(b *testing.B) { benchMulti(b, srv+path, size) })
}

// benchMulti: the b.N GETs through one Multi driven by Run on one goroutine,
// at most 16 in flight (as many connections as nethttp's idle pool keeps).
func benchMulti(b *testing.B, url string, size int64) {
	c, err := httpx.NewClient(httpx.WithTrustEnv(false))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	m, err := httpx.NewMulti(c)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	req, err := httpx.NewRequest("GET", url)
	if err != nil {
		b.Fatal(err)
	}
	defer req.Close()
	const inflight = 16
	added := 0
	add := func() {
		if added < b.N {
			if _, err := m.Add(req); err != nil {
				b.Fatal(err)
			}
			added++
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	if size > 13 {
		b.SetBytes(size)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { reportCPU(b, cpu0) }()
	for i := 0; i < inflight; i++ {
		add()
	}
	err = m.Run(ctx, func(cp *httpx.Completion) {
		defer cp.Close()
		if cp.Err != nil {
			b.Fatal(cp.Err)
		}
		if body, _ := cp.Response.Body(); int64(len(body)) != size {
			b.Fatalf("%d bytes", len(body))
		}
		add()
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkGetKeepAlive(b *testing.B) { runBench(b, "/small", 13) }

func BenchmarkDownload1MiB(b *testing.B) { runBench(b, "/1m", 1<<20) }
