package httpx_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	httpx "libhttpx.org/go/httpx"
)

// stallServer answers /stall-head never, /stall-body with part of a body and
// then nothing, until the test ends.
func stallServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall-body" {
			w.Header().Set("Content-Length", "100000")
			w.Write(make([]byte, 100))
			w.(http.Flusher).Flush()
		}
		select {
		case <-done:
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func TestClientContextCancel(t *testing.T) {
	needCancel(t)
	srv := stallServer(t)
	c := newClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Get(ctx, srv.URL+"/stall-head")
	var he *httpx.Error
	if !errors.Is(err, context.Canceled) || !errors.Is(err, httpx.ErrCancelled) || !errors.As(err, &he) || he.Code != httpx.CodeCancelled {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}
	// The same client works afterwards.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer ok.Close()
	resp, err := c.Get(context.Background(), ok.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Close()
}

func TestClientContextDeadline(t *testing.T) {
	needCancel(t)
	srv := stallServer(t)
	c := newClient(t, httpx.WithTimeout(httpx.NoTimeout))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, srv.URL+"/stall-head")
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, httpx.ErrTimeout) ||
		!errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Fatalf("deadline after %v", d)
	}
	// A request's own, shorter total timeout wins over a later context deadline,
	// and is not the context's error.
	req, _ := httpx.NewRequest("GET", srv.URL+"/stall-head")
	defer req.Close()
	must(t, req.SetTotalTimeout(100*time.Millisecond))
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	_, err = c.Send(ctx2, req)
	if !errors.Is(err, httpx.ErrTotalTimeout) || errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("total timeout: %v", err)
	}
}

// A streamed body: ctx cancels a blocked Read; Close from another goroutine
// aborts a blocked Read too.
func TestClientStreamCancelAndConcurrentClose(t *testing.T) {
	needCancel(t)
	srv := stallServer(t)
	c := newClient(t, httpx.WithTimeout(httpx.NoTimeout))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := httpx.NewRequest("GET", srv.URL+"/stall-body")
	defer req.Close()
	resp, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	if _, err := io.ReadFull(resp, buf); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(150*time.Millisecond, cancel)
	start := time.Now()
	_, err = resp.Read(buf)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("read: %v after %v", err, time.Since(start))
	}
	resp.Close()

	resp, err = c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp, buf); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	var readErr error
	go func() {
		defer wg.Done()
		_, readErr = io.ReadAll(resp)
	}()
	time.Sleep(150 * time.Millisecond)
	start = time.Now()
	resp.Close()
	wg.Wait()
	if readErr == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("read during close: %v after %v", readErr, time.Since(start))
	}
}

// Contexts reach mock handlers; an already cancelled context sends nothing.
func TestClientContextInMock(t *testing.T) {
	type key struct{}
	calls := 0
	mock, _ := httpx.NewMockBackend(func(r *httpx.Request) (*httpx.MockResponse, error) {
		calls++
		v, _ := r.Context().Value(key{}).(string)
		return &httpx.MockResponse{Body: []byte(v)}, nil
	})
	defer mock.Close()
	c := newClient(t, httpx.WithBackend(mock))
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "from ctx"))
	resp, err := c.Get(ctx, "http://mock/")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := resp.Body(); string(b) != "from ctx" {
		t.Fatalf("handler saw %q", b)
	}
	resp.Close()
	cancel()
	if _, err := c.Get(ctx, "http://mock/"); !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("cancelled: %v, %d calls", err, calls)
	}
	if !strings.Contains(httpx.ErrCancelled.Error(), "CANCELLED") && httpx.HaveCancel {
		t.Fatalf("code name %q", httpx.ErrCancelled.Error())
	}
}
