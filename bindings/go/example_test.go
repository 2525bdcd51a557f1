package httpx_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	httpx "libhttpx.org/go/httpx"
)

// net/http code on libhttpx: only the Transport changes.
func ExampleTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+r.URL.Path)
	}))
	defer srv.Close()

	client := &http.Client{Transport: &httpx.Transport{}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/docs", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello from /docs
}

// Unit-testing HTTP code without a server: a mock backend answers in-process.
func ExampleNewMockBackend() {
	mock, _ := httpx.NewMockBackend(func(r *httpx.Request) (*httpx.MockResponse, error) {
		return httpx.JSONResponse(200, map[string]string{"path": r.URL()})
	})
	defer mock.Close()

	client := &http.Client{Transport: &httpx.Transport{Backend: mock}}
	resp, err := client.Get("http://api.test/v1/users")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("Content-Type"), string(body))
	// Output: application/json {"path":"http://api.test/v1/users"}
}

// HTTPX's explicit request flow, with a context.
func ExampleClient_Send() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s key=%q", r.Method, r.URL.RequestURI(), r.Header.Get("X-Api-Key"))
	}))
	defer srv.Close()

	client, _ := httpx.NewClient(httpx.WithBaseURL(srv.URL+"/v1"), httpx.WithHeader("X-Api-Key", "secret"))
	defer client.Close()
	req, _ := client.BuildRequest("GET", "/users")
	defer req.Close()
	req.AddParam("page", "2")
	req.RemoveHeader("X-Api-Key")

	resp, err := client.Send(context.Background(), req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Close()
	text, _ := resp.Text()
	fmt.Println(resp.StatusCode(), text)
	// Output: 200 GET /v1/users?page=2 key=""
}

// Errors behave like net/http's: context errors, net.Error, errno.
func ExampleError() {
	client, _ := httpx.NewClient()
	defer client.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := client.Get(ctx, "http://127.0.0.1:9/")
	fmt.Println(errors.Is(err, context.Canceled), errors.Is(err, httpx.ErrCancelled))
	// Output: true true
}

// Many requests from one goroutine: a Multi (here answered by a mock backend).
func ExampleMulti() {
	mock, _ := httpx.NewMockBackend(func(r *httpx.Request) (*httpx.MockResponse, error) {
		return &httpx.MockResponse{Body: []byte("answer to " + r.URL())}, nil
	})
	defer mock.Close()
	client, _ := httpx.NewClient(httpx.WithBackend(mock))
	defer client.Close()
	m, err := httpx.NewMulti(client)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	var reqs []*httpx.Request
	for _, u := range []string{"http://api.test/a", "http://api.test/b"} {
		req, _ := httpx.NewRequest("GET", u)
		defer req.Close()
		reqs = append(reqs, req)
	}
	done, err := m.Do(context.Background(), reqs...) // in the order of reqs
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range done {
		body, _ := c.Response.Body()
		fmt.Println(string(body))
		c.Close()
	}
	// Output:
	// answer to http://api.test/a
	// answer to http://api.test/b
}
