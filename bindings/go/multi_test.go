package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	httpx "libhttpx.org/go/httpx"
)

// 100 GETs through one multi, driven by Run on one goroutine.
func TestMulti100Gets(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, httpx.WithBaseURL(srv.URL), httpx.WithTimeout(20*time.Second))
	m, err := httpx.NewMulti(c)
	must(t, err)
	defer m.Close()
	want := map[uint64]string{}
	for i := 0; i < 100; i++ {
		req, err := c.BuildRequest("GET", "/echo")
		must(t, err)
		must(t, req.AddParam("i", fmt.Sprint(i)))
		tag, err := m.Add(req)
		must(t, err)
		req.Close() // the multi sent a copy
		want[tag] = fmt.Sprint(i)
	}
	if m.Len() != 100 {
		t.Fatalf("Len = %d, want 100", m.Len())
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	got := 0
	err = m.Run(ctx, func(cp *httpx.Completion) {
		defer cp.Close()
		if cp.Err != nil {
			t.Errorf("tag %d: %v", cp.Tag, cp.Err)
			return
		}
		var e echo
		if err := cp.Response.JSON(&e); err != nil {
			t.Errorf("tag %d: %v", cp.Tag, err)
			return
		}
		if e.Query["i"] != want[cp.Tag] {
			t.Errorf("tag %d: query i=%q, want %q", cp.Tag, e.Query["i"], want[cp.Tag])
		}
		delete(want, cp.Tag)
		got++
	})
	must(t, err)
	if got != 100 || len(want) != 0 || m.Len() != 0 {
		t.Fatalf("got %d completions, %d tags missing, Len %d", got, len(want), m.Len())
	}
}

// Do returns the completions in the order of the requests; the hand-driven
// loop (Fd/Timeout/Perform/Next) works as well.
func TestMultiDoAndManualLoop(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, httpx.WithBaseURL(srv.URL), httpx.WithTimeout(20*time.Second))
	m, err := httpx.NewMulti(c)
	must(t, err)
	defer m.Close()
	var reqs []*httpx.Request
	for _, p := range []string{"/get", "/status/404", "/echo"} {
		r, err := c.BuildRequest("GET", p)
		must(t, err)
		defer r.Close()
		reqs = append(reqs, r)
	}
	out, err := m.Do(ctx, reqs...)
	must(t, err)
	for i, st := range []int{200, 404, 200} {
		if out[i].Err != nil || out[i].Response.StatusCode() != st {
			t.Fatalf("completion %d: %v %+v", i, out[i].Err, out[i].Response)
		}
		out[i].Close()
	}

	// By hand.
	if m.Fd() < 0 {
		t.Fatal("no fd")
	}
	tag, err := m.Add(reqs[0])
	must(t, err)
	deadline := time.Now().Add(20 * time.Second)
	var done *httpx.Completion
	for done == nil && time.Now().Before(deadline) {
		d, ok, err := m.Timeout()
		must(t, err)
		if !ok || d > 50*time.Millisecond {
			d = 50 * time.Millisecond
		}
		_, err = m.Perform(d)
		must(t, err)
		done, err = m.Next()
		must(t, err)
	}
	if done == nil || done.Tag != tag || done.Err != nil {
		t.Fatalf("manual loop: %+v", done)
	}
	b, _ := done.Response.Body()
	if string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
	done.Close()
}

// Cancelling Run's context mid-flight: the finished transfers came through,
// the others are cancelled with errors wrapping context.Canceled, Run returns
// ctx.Err() promptly.
func TestMultiContextCancel(t *testing.T) {
	srv := newServer(t) // /slow answers after 3 s
	c := newClient(t, httpx.WithBaseURL(srv.URL), httpx.WithTimeout(20*time.Second))
	m, err := httpx.NewMulti(c)
	must(t, err)
	defer m.Close()
	for i := 0; i < 10; i++ {
		path := "/get"
		if i%2 == 1 {
			path = "/slow"
		}
		r, err := c.BuildRequest("GET", path)
		must(t, err)
		_, err = m.Add(r)
		must(t, err)
		r.Close()
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ok, cancelled int
	var cancelAt atomic.Int64
	start := time.Now()
	err = m.Run(rctx, func(cp *httpx.Completion) {
		defer cp.Close()
		switch {
		case cp.Err == nil:
			ok++
			if ok == 5 {
				// Every fast one is done: cancel from another goroutine (the
				// wake-up must come through the poll).
				go func() { time.Sleep(100 * time.Millisecond); cancelAt.Store(time.Now().UnixNano()); cancel() }()
			}
		case errors.Is(cp.Err, context.Canceled) && errors.Is(cp.Err, httpx.ErrCancelled):
			cancelled++
		default:
			t.Errorf("tag %d: unexpected error %v", cp.Tag, cp.Err)
		}
	})
	elapsed := time.Since(start)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if ok != 5 || cancelled != 5 || m.Len() != 0 {
		t.Fatalf("ok %d, cancelled %d, Len %d", ok, cancelled, m.Len())
	}
	if elapsed > 2500*time.Millisecond {
		t.Fatalf("Run took %v (the slow answers come after 3 s)", elapsed)
	}
	t.Logf("Run returned %v after the cancel (Run took %v)", time.Duration(time.Now().UnixNano()-cancelAt.Load()), elapsed)

	// A deadline: errors.Is(err, context.DeadlineExceeded).
	r, err := c.BuildRequest("GET", "/slow")
	must(t, err)
	defer r.Close()
	dctx, dcancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer dcancel()
	out, err := m.Do(dctx, r)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(out[0].Err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v / %v, want DeadlineExceeded", err, out[0].Err)
	}

	// Cancel(tag) while Run runs: ErrCancelled, not the context's error.
	tag, err := m.Add(r)
	must(t, err)
	must(t, m.Cancel(tag))
	var got error
	must(t, m.Run(ctx, func(cp *httpx.Completion) { got = cp.Err; cp.Close() }))
	if !errors.Is(got, httpx.ErrCancelled) || errors.Is(got, context.Canceled) {
		t.Fatalf("Cancel(tag): %v", got)
	}
}

// Close with transfers in flight: their connections are closed (the server
// sees its requests' contexts end), nothing comes back, and the client goes on.
func TestMultiCloseInFlight(t *testing.T) {
	var started, gone atomic.Int32
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hold", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that net/http watches the connection for its close
		started.Add(1)
		select {
		case <-r.Context().Done():
			gone.Add(1)
		case <-release:
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer close(release)
	c := newClient(t, httpx.WithBaseURL(srv.URL), httpx.WithTimeout(20*time.Second))
	m, err := httpx.NewMulti(c)
	must(t, err)
	base := httpx.LiveHandles()
	const n = 8
	for i := 0; i < n; i++ {
		r, err := c.BuildRequest("POST", "/hold")
		must(t, err)
		// A streamed body: its reader's handle goes with the multi's copy.
		must(t, r.SetBodyReader(strings.NewReader("hello"), 5))
		_, err = m.Add(r)
		must(t, err)
		r.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for started.Load() < n && time.Now().Before(deadline) {
		_, err := m.Perform(20 * time.Millisecond)
		must(t, err)
	}
	if started.Load() != n {
		t.Fatalf("server saw %d of %d requests", started.Load(), n)
	}
	must(t, m.Close())
	must(t, m.Close()) // idempotent
	for gone.Load() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if gone.Load() != n {
		t.Fatalf("%d of %d connections closed after Close", gone.Load(), n)
	}
	if left := httpx.LiveHandles() - base; left != 0 {
		t.Fatalf("%d body reader handles not released by Close", left)
	}
	if _, err := m.Add(nil); err == nil {
		t.Fatal("Add on a closed multi succeeded")
	}
	if m.Fd() != -1 {
		t.Fatal("Fd of a closed multi")
	}
	// The client is fine and can be closed afterwards.
	resp, err := c.Get(ctx, "/get")
	must(t, err)
	resp.Close()
}

// Callbacks run inside Perform on Run's thread: a mock handler sees Run's
// context; calling the multi from inside one is ErrRecursiveCall; several
// multis on several goroutines share one client (-race).
func TestMultiCallbacksAndGoroutines(t *testing.T) {
	type key struct{}
	var m *httpx.Multi
	var recursive error
	mock, err := httpx.NewMockBackend(func(r *httpx.Request) (*httpx.MockResponse, error) {
		if strings.HasSuffix(r.URL(), "/recurse") {
			_, recursive = m.Perform(0)
		}
		v, _ := r.Context().Value(key{}).(string)
		return &httpx.MockResponse{Body: []byte(v)}, nil
	})
	must(t, err)
	defer mock.Close()
	c := newClient(t, httpx.WithBackend(mock))
	m, err = httpx.NewMulti(c)
	must(t, err)
	defer m.Close()
	for _, u := range []string{"http://mock/a", "http://mock/recurse"} {
		r, err := httpx.NewRequest("GET", u)
		must(t, err)
		_, err = m.Add(r)
		must(t, err)
		r.Close()
	}
	rctx := context.WithValue(ctx, key{}, "from-run")
	must(t, m.Run(rctx, func(cp *httpx.Completion) {
		defer cp.Close()
		if cp.Err != nil {
			t.Errorf("%v", cp.Err)
			return
		}
		if b, _ := cp.Response.Body(); string(b) != "from-run" {
			t.Errorf("handler saw context value %q", b)
		}
	}))
	if !errors.Is(recursive, httpx.ErrRecursiveCall) {
		t.Fatalf("Perform from a callback: %v", recursive)
	}

	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mm, err := httpx.NewMulti(c)
			if err != nil {
				t.Error(err)
				return
			}
			defer mm.Close()
			var reqs []*httpx.Request
			for i := 0; i < 20; i++ {
				r, _ := httpx.NewRequest("GET", fmt.Sprintf("http://mock/%d", i))
				defer r.Close()
				reqs = append(reqs, r)
			}
			out, err := mm.Do(ctx, reqs...)
			if err != nil {
				t.Error(err)
			}
			for _, cp := range out {
				if cp.Err != nil {
					t.Error(cp.Err)
				}
				cp.Close()
			}
		}()
	}
	wg.Wait()
}

// A failed transfer's error maps like Send's: a refused connection is an
// *httpx.Error with CodeConnect.
func TestMultiTransferError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	c := newClient(t, httpx.WithTimeout(5*time.Second))
	m, err := httpx.NewMulti(c)
	must(t, err)
	defer m.Close()
	r, err := httpx.NewRequest("GET", url+"/")
	must(t, err)
	defer r.Close()
	out, err := m.Do(ctx, r)
	must(t, err)
	var he *httpx.Error
	if !errors.As(out[0].Err, &he) || he.Code != httpx.CodeConnect || !errors.Is(out[0].Err, httpx.ErrConnect) {
		t.Fatalf("got %v", out[0].Err)
	}
	_, sendErr := c.Send(ctx, r)
	if sendErr == nil || sendErr.(*httpx.Error).Code != he.Code {
		t.Fatalf("Send: %v, multi: %v", sendErr, he)
	}
}
