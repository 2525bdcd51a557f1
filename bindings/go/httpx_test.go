package httpx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	httpx "libhttpx.org/go/httpx"
)

var ctx = context.Background()

type echo struct {
	Method      string            `json:"method"`
	Path        string            `json:"path"`
	Query       map[string]string `json:"query"`
	Body        string            `json:"body"`
	ContentType string            `json:"content_type"`
	Headers     map[string]string `json:"headers"`
}

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/get", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Test", "yes")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e := echo{Method: r.Method, Path: r.URL.Path, Body: string(b), ContentType: r.Header.Get("Content-Type"),
			Query: map[string]string{}, Headers: map[string]string{}}
		for k, v := range r.URL.Query() {
			e.Query[k] = strings.Join(v, ",")
		}
		for k, v := range r.Header {
			e.Headers[strings.ToLower(k)] = strings.Join(v, ",")
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(3 * time.Second):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "late")
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		f := w.(http.Flusher)
		for i := 0; i < 5; i++ {
			fmt.Fprintf(w, "chunk-%d\n", i)
			f.Flush()
		}
	})
	mux.HandleFunc("/status/404", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusNotFound)
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "user" || p != "pass" {
			w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "welcome "+u)
	})
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, opts ...httpx.Option) *httpx.Client {
	t.Helper()
	c, err := httpx.NewClient(append([]httpx.Option{httpx.WithTrustEnv(false)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestVersionAndCodes(t *testing.T) {
	if httpx.Version() == "" {
		t.Fatal("empty version")
	}
	if httpx.CodeReadTimeout.String() != "READ_TIMEOUT" || !httpx.CodeReadTimeout.IsTimeout() || httpx.CodeConnect.IsTimeout() {
		t.Fatal("code helpers")
	}
}

func TestGet(t *testing.T) {
	srv := newServer(t)
	c := newClient(t)
	resp, err := c.Get(ctx, srv.URL+"/get")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	if resp.StatusCode() != 200 || resp.Reason() != "OK" || resp.HTTPVersion() != "HTTP/1.1" {
		t.Fatalf("head: %d %q %q", resp.StatusCode(), resp.Reason(), resp.HTTPVersion())
	}
	body, err := resp.Body()
	if err != nil || string(body) != "hello" {
		t.Fatalf("body %q %v", body, err)
	}
	if txt, _ := resp.Text(); txt != "hello" {
		t.Fatalf("text %q", txt)
	}
	if resp.Header("x-test") != "yes" {
		t.Fatalf("header x-test = %q", resp.Header("x-test"))
	}
	if v := resp.HeaderValues("X-MULTI"); len(v) != 2 || v[0] != "a" || v[1] != "b" {
		t.Fatalf("multi %v", v)
	}
	found := false
	for _, h := range resp.Headers() {
		if strings.EqualFold(h.Name, "content-type") && strings.HasPrefix(h.Value, "text/plain") {
			found = true
		}
	}
	if !found {
		t.Fatalf("headers %v", resp.Headers())
	}
	if resp.URL() != srv.URL+"/get" || resp.Elapsed() <= 0 {
		t.Fatalf("url %q elapsed %v", resp.URL(), resp.Elapsed())
	}
	if err := resp.RaiseForStatus(); err != nil {
		t.Fatal(err)
	}
	if resp.Request().Method() != "GET" {
		t.Fatal("request view")
	}
}

func TestTopLevelGet(t *testing.T) {
	srv := newServer(t)
	resp, err := httpx.Get(ctx, srv.URL+"/get")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	if resp.StatusCode() != 200 {
		t.Fatal(resp.StatusCode())
	}
}

func TestPostEcho(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, httpx.WithBaseURL(srv.URL))
	resp, err := c.Post(ctx, "/echo", "text/plain", []byte("ping"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var e echo
	if err := resp.JSON(&e); err != nil {
		t.Fatal(err)
	}
	if e.Method != "POST" || e.Body != "ping" || e.ContentType != "text/plain" {
		t.Fatalf("%+v", e)
	}
}

func TestBuildRequestMerging(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, httpx.WithBaseURL(srv.URL), httpx.WithHeader("X-Api-Key", "secret"),
		httpx.WithHeader("X-Client", "go"), httpx.WithParam("a", "1"))
	req, err := c.BuildRequest("PUT", "/echo")
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	must(t, req.AddParam("b", "2"))
	must(t, req.RemoveHeader("X-Api-Key"))
	must(t, req.SetHeader("X-One", "1"))
	must(t, req.SetJSON(map[string]any{"name": "httpx"}))
	if req.Method() != "PUT" || !strings.Contains(req.URL(), "a=1") || !strings.Contains(req.URL(), "b=2") {
		t.Fatalf("request %s %s", req.Method(), req.URL())
	}
	if req.Header("x-one") != "1" || req.Header("X-Api-Key") != "" {
		t.Fatalf("headers %v", req.Headers())
	}
	if b, err := req.Body(); err != nil || string(b) != `{"name":"httpx"}` {
		t.Fatalf("body %q %v", b, err)
	}
	for i := 0; i < 2; i++ { // a request may be sent again
		resp, err := c.Send(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var e echo
		must(t, resp.JSON(&e))
		resp.Close()
		if e.Method != "PUT" || e.Query["a"] != "1" || e.Query["b"] != "2" || e.Body != `{"name":"httpx"}` ||
			e.ContentType != "application/json" || e.Headers["x-api-key"] != "" || e.Headers["x-client"] != "go" || e.Headers["x-one"] != "1" {
			t.Fatalf("%+v", e)
		}
	}
}

func TestBodyReaderUpload(t *testing.T) {
	srv := newServer(t)
	c := newClient(t)
	req, err := httpx.NewRequest("POST", srv.URL+"/echo")
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	must(t, req.SetBodyReader(strings.NewReader(strings.Repeat("x", 100000)), -1))
	resp, err := c.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var e echo
	must(t, resp.JSON(&e))
	if len(e.Body) != 100000 || e.Headers["transfer-encoding"] != "" && e.Headers["transfer-encoding"] != "chunked" {
		t.Fatalf("len %d", len(e.Body))
	}
}

func TestRaiseForStatus(t *testing.T) {
	srv := newServer(t)
	c := newClient(t)
	resp, err := c.Get(ctx, srv.URL+"/status/404")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	err = resp.RaiseForStatus()
	var he *httpx.Error
	if !errors.Is(err, httpx.ErrHTTPStatus) || !errors.As(err, &he) || !strings.Contains(he.Message, "404") {
		t.Fatalf("got %v", err)
	}
}

func TestReadTimeout(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, httpx.WithTimeouts(httpx.Timeouts{Connect: 2 * time.Second, Read: 200 * time.Millisecond,
		Write: 2 * time.Second, Pool: 2 * time.Second}))
	start := time.Now()
	resp, err := c.Get(ctx, srv.URL+"/slow")
	if err == nil {
		resp.Close()
		t.Fatal("expected a timeout")
	}
	if time.Since(start) > 2500*time.Millisecond {
		t.Fatalf("timeout took %v", time.Since(start))
	}
	var he *httpx.Error
	if !errors.As(err, &he) || he.Code != httpx.CodeReadTimeout {
		t.Fatalf("got %#v", err)
	}
	if !errors.Is(err, httpx.ErrReadTimeout) || !errors.Is(err, httpx.ErrTimeout) || errors.Is(err, httpx.ErrConnectTimeout) {
		t.Fatal("errors.Is")
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("Timeout()")
	}
	// A per-request timeout works too.
	c2 := newClient(t)
	req, _ := httpx.NewRequest("GET", srv.URL+"/slow")
	defer req.Close()
	must(t, req.SetTimeout(150*time.Millisecond))
	if _, err := c2.Send(ctx, req); !errors.Is(err, httpx.ErrTimeout) {
		t.Fatalf("per-request: %v", err)
	}
}

func TestStreamingRead(t *testing.T) {
	srv := newServer(t)
	c := newClient(t)
	req, _ := httpx.NewRequest("GET", srv.URL+"/stream")
	defer req.Close()
	resp, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var got []byte
	buf := make([]byte, 4)
	for i := 0; i < 1000; i++ {
		n, err := resp.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n"
	if string(got) != want {
		t.Fatalf("got %q", got)
	}
	// io.ReadAll through the io.Reader interface.
	resp2, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Close()
	all, err := io.ReadAll(resp2)
	if err != nil || string(all) != want {
		t.Fatalf("ReadAll %q %v", all, err)
	}
}

func TestBadURL(t *testing.T) {
	if _, err := httpx.NewRequest("GET", "http://exa mple.com/"); !errors.Is(err, httpx.ErrInvalidURL) {
		t.Fatalf("invalid url: %v", err)
	}
	c := newClient(t)
	if _, err := c.Get(ctx, "ftp://127.0.0.1/x"); !errors.Is(err, httpx.ErrUnsupportedProtocol) {
		t.Fatalf("ftp: %v", err)
	}
	if _, err := c.Get(ctx, "/relative-without-base"); err == nil {
		t.Fatal("relative URL without base_url accepted")
	}
	if _, err := httpx.NewClient(httpx.WithBaseURL("http://exa mple.com")); !errors.Is(err, httpx.ErrInvalidURL) {
		t.Fatalf("base url: %v", err)
	}
	if _, err := httpx.NewRequest("GET", "http://a\x00b/"); !errors.Is(err, httpx.ErrInvalidArgument) {
		t.Fatalf("NUL: %v", err)
	}
}

func TestConnectError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, httpx.WithTimeout(2*time.Second))
	if _, err := c.Get(ctx, "http://"+addr+"/"); !errors.Is(err, httpx.ErrConnect) {
		t.Fatalf("got %v", err)
	}
}

func TestBasicAuth(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, httpx.WithAuth(httpx.BasicAuth("user", "pass")))
	resp, err := c.Get(ctx, srv.URL+"/auth")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	if txt, _ := resp.Text(); resp.StatusCode() != 200 || txt != "welcome user" {
		t.Fatalf("%d %q", resp.StatusCode(), txt)
	}
	req, _ := c.BuildRequest("GET", srv.URL+"/auth")
	defer req.Close()
	must(t, req.DisableAuth())
	resp2, err := c.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Close()
	if resp2.StatusCode() != 401 {
		t.Fatalf("no-auth status %d", resp2.StatusCode())
	}
}

// HTTPX's MockTransport example: a handler that echoes the request as JSON.
func TestMockTransportJSONEcho(t *testing.T) {
	calls := 0
	tr, err := httpx.NewMockBackend(func(req *httpx.Request) (*httpx.MockResponse, error) {
		calls++
		body, err := req.Body()
		if err != nil {
			return nil, err
		}
		return httpx.JSONResponse(200, map[string]any{
			"method": req.Method(), "url": req.URL(), "body": string(body), "x-token": req.Header("X-Token"),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c := newClient(t, httpx.WithBackend(tr), httpx.WithBaseURL("http://testserver"), httpx.WithHeader("X-Token", "t0k"))
	req, err := c.BuildRequest("POST", "/items")
	if err != nil {
		t.Fatal(err)
	}
	defer req.Close()
	must(t, req.SetJSON(map[string]int{"n": 1}))
	resp, err := c.Send(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	var got map[string]string
	must(t, resp.JSON(&got))
	if resp.StatusCode() != 200 || resp.Header("content-type") != "application/json" || got["method"] != "POST" ||
		got["url"] != "http://testserver/items" || got["body"] != `{"n":1}` || got["x-token"] != "t0k" || calls != 1 {
		t.Fatalf("%d %v", resp.StatusCode(), got)
	}
}

func TestMockTransportErrorsAndStreaming(t *testing.T) {
	boom := errors.New("boom")
	tr, err := httpx.NewMockBackend(func(req *httpx.Request) (*httpx.MockResponse, error) {
		switch {
		case strings.HasSuffix(req.URL(), "/fail"):
			return nil, boom
		case strings.HasSuffix(req.URL(), "/panic"):
			panic("handler panic")
		case strings.HasSuffix(req.URL(), "/stream"):
			return &httpx.MockResponse{StatusCode: 201, BodyReader: strings.NewReader(strings.Repeat("z", 70000))}, nil
		case strings.HasSuffix(req.URL(), "/edit"):
			return nil, req.SetHeader("X", "y") // views are read-only
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, httpx.WithBackend(tr))
	tr.Close() // the client keeps it alive

	_, err = c.Get(ctx, "http://mock/fail")
	if !errors.Is(err, httpx.ErrCallback) || !errors.Is(err, boom) {
		t.Fatalf("fail: %v", err)
	}
	if _, err = c.Get(ctx, "http://mock/panic"); !errors.Is(err, httpx.ErrCallback) || !strings.Contains(err.Error(), "handler panic") {
		t.Fatalf("panic: %v", err)
	}
	if _, err = c.Get(ctx, "http://mock/edit"); !errors.Is(err, httpx.ErrCallback) || !errors.Is(err, httpx.ErrInvalidArgument) {
		t.Fatalf("edit: %v", err)
	}
	resp, err := c.Get(ctx, "http://mock/empty")
	if err != nil || resp.StatusCode() != 200 {
		t.Fatalf("empty: %v", err)
	}
	resp.Close()

	req, _ := httpx.NewRequest("GET", "http://mock/stream")
	defer req.Close()
	sresp, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Close()
	all, err := io.ReadAll(sresp)
	if err != nil || len(all) != 70000 || sresp.StatusCode() != 201 {
		t.Fatalf("stream %d %v", len(all), err)
	}
}

func TestRecursiveSendFromHandler(t *testing.T) {
	var c *httpx.Client
	tr, _ := httpx.NewMockBackend(func(req *httpx.Request) (*httpx.MockResponse, error) {
		if strings.HasSuffix(req.URL(), "/outer") {
			_, err := c.Get(ctx, "http://mock/inner")
			return nil, err
		}
		return nil, nil
	})
	defer tr.Close()
	c = newClient(t, httpx.WithBackend(tr))
	if _, err := c.Get(ctx, "http://mock/outer"); !errors.Is(err, httpx.ErrRecursiveCall) {
		t.Fatalf("got %v", err)
	}
}

func TestRaiseErrorsOff(t *testing.T) {
	tr, _ := httpx.NewMockBackend(func(*httpx.Request) (*httpx.MockResponse, error) { return nil, errors.New("x") })
	defer tr.Close()
	must(t, tr.SetRaiseErrors(false))
	c := newClient(t, httpx.WithBackend(tr))
	resp, err := c.Get(ctx, "http://mock/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	if resp.StatusCode() != 500 {
		t.Fatal(resp.StatusCode())
	}
}

func TestCloseAndConcurrency(t *testing.T) {
	srv := newServer(t)
	c, err := httpx.NewClient(httpx.WithTrustEnv(false), httpx.WithLimits(httpx.DefaultLimits))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				resp, err := c.Get(ctx, srv.URL+"/get")
				if err != nil {
					errs <- err
					return
				}
				if b, _ := resp.Body(); string(b) != "hello" {
					errs <- fmt.Errorf("body %q", b)
				}
				resp.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A streamed response outlives the client.
	req, _ := httpx.NewRequest("GET", srv.URL+"/stream")
	defer req.Close()
	resp, err := c.Stream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	must(t, c.Close())
	must(t, c.Close())
	if _, err := c.Get(ctx, srv.URL+"/get"); !errors.Is(err, httpx.ErrClientClosed) {
		t.Fatalf("after close: %v", err)
	}
	if b, err := io.ReadAll(resp); err != nil || !strings.HasPrefix(string(b), "chunk-0") {
		t.Fatalf("stream after close %q %v", b, err)
	}
	resp.Close()
	resp.Close()
	if resp.StatusCode() != 0 {
		t.Fatal("closed response status")
	}
}

func TestFinalizers(t *testing.T) {
	srv := newServer(t)
	for i := 0; i < 20; i++ {
		c, err := httpx.NewClient(httpx.WithTrustEnv(false))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(ctx, srv.URL+"/get")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.StatusCode()
		tr, _ := httpx.NewMockBackend(func(*httpx.Request) (*httpx.MockResponse, error) { return nil, nil })
		_ = tr
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
