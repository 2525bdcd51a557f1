package httpx_test

import (
	"errors"
	"strings"
	"testing"

	httpx "libhttpx.org/go/httpx"
)

// A failed setter reports the library's own message (httpx_client_config_error,
// httpx_request_error, httpx_transport_error), and a request or backend with a
// failed setter is refused where it is used, even when the setter's own error
// was ignored.
func TestSetterErrors(t *testing.T) {
	// Config: NewClient returns the failed option's error with the library's message.
	_, err := httpx.NewClient(httpx.WithTrustEnv(false), httpx.WithHeader("X-Bad", "a\r\nInjected: 1"))
	var he *httpx.Error
	if !errors.As(err, &he) || he.Code != httpx.CodeInvalidArgument || he.Message == "header value" || he.Message == "" {
		t.Fatalf("config: %#v", err)
	}
	t.Logf("config: %v", err)

	// Request: the setter's error carries the message; Err keeps it; Send,
	// Stream and Multi.Add refuse the request; Clone starts clean.
	c := newClient(t)
	req, err := httpx.NewRequest("GET", "http://127.0.0.1:1/")
	must(t, err)
	defer req.Close()
	must(t, req.Err())
	serr := req.SetHeader("X-Bad", "a\nb")
	if !errors.As(serr, &he) || he.Code != httpx.CodeInvalidArgument || he.Message == "header name" {
		t.Fatalf("request setter: %#v", serr)
	}
	t.Logf("request: %v", serr)
	_ = req.AddParam("ok", "fine") // a later success keeps the first failure
	if err := req.Err(); err == nil || err.Error() != serr.Error() {
		t.Fatalf("Err = %v, want %v", err, serr)
	}
	if _, err := c.Send(ctx, req); err == nil || err.Error() != serr.Error() {
		t.Fatalf("Send = %v, want the setter's error", err)
	}
	if _, err := c.Stream(ctx, req); err == nil || err.Error() != serr.Error() {
		t.Fatalf("Stream = %v, want the setter's error", err)
	}
	m, err := httpx.NewMulti(c)
	must(t, err)
	defer m.Close()
	if _, err := m.Add(req); err == nil || err.Error() != serr.Error() {
		t.Fatalf("Multi.Add = %v, want the setter's error", err)
	}
	cl, err := req.Clone()
	must(t, err)
	defer cl.Close()
	must(t, cl.Err())

	// Transport (Backend): the setter's error carries the message; WithBackend
	// refuses the backend.
	b, err := httpx.NewHTTPBackend()
	must(t, err)
	defer b.Close()
	berr := b.SetLocalAddress("not-an-address")
	if !errors.As(berr, &he) || he.Message == "local address" {
		t.Fatalf("backend setter: %#v", berr)
	}
	t.Logf("backend: %v", berr)
	if err := b.Err(); err == nil || err.Error() != berr.Error() {
		t.Fatalf("Backend.Err = %v", err)
	}
	if _, err := httpx.NewClient(httpx.WithBackend(b)); err == nil || !strings.Contains(err.Error(), he.Message) {
		t.Fatalf("NewClient(WithBackend(bad)) = %v", err)
	}
}
