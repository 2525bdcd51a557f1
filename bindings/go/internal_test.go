package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Every userdata handed to libhttpx comes back exactly once through free_fn
// (a second Delete of a cgo.Handle would panic).
func TestUserdataReleased(t *testing.T) {
	base := liveHandles.Load()
	tr, err := NewMockBackend(func(req *Request) (*MockResponse, error) {
		return &MockResponse{BodyReader: strings.NewReader("streamed body")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(WithBackend(tr))
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	req, _ := NewRequest("POST", "http://mock/")
	if err := req.SetBodyReader(strings.NewReader("upload"), 6); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp)
	if err != nil || string(b) != "streamed body" {
		t.Fatalf("%q %v", b, err)
	}
	resp.Close()
	req.Close()
	// An unsent body reader is released when its request is freed.
	req2, _ := NewRequest("POST", "http://mock/")
	_ = req2.SetBodyReader(strings.NewReader("never sent"), -1)
	req2.Close()
	if n := liveHandles.Load() - base; n != 1 { // only the transport's handler is left
		t.Fatalf("%d handles alive before client close, want 1", n)
	}
	c.Close()
	if n := liveHandles.Load() - base; n != 0 {
		t.Fatalf("%d handles leaked", n)
	}
}

// The library's messages for socket and resolve failures become the errors
// net returns (the socket cases also run for real in roundtripper_test.go; a
// failing name lookup would need a DNS server outside 127.0.0.0/8, so the
// resolve case is checked on the library's message text).
func TestNetCause(t *testing.T) {
	e := &Error{Code: CodeConnect, Message: "connect failed: connecting to [::1]:8080: Connection refused (os error 111)"}
	e.Err = netCause(e.Code, e.Message)
	var oe *net.OpError
	if !errors.Is(e, syscall.ECONNREFUSED) || !errors.As(e, &oe) || oe.Op != "dial" || oe.Addr == nil || oe.Addr.String() != "[::1]:8080" {
		t.Fatalf("refused: %#v", e.Err)
	}
	for _, tc := range []struct {
		code Code
		msg  string
	}{
		{CodeConnect, "connect failed: cannot resolve nohost.invalid: failed to lookup address information: Name or service not known"},
		{CodeResolve, "cannot resolve nohost.invalid: failed to lookup address information: Name or service not known"},
		{CodeResolve, "could not resolve host: nohost.invalid (failed to lookup address information: Name or service not known)"},
	} {
		e := &Error{Code: tc.code, Message: tc.msg}
		e.Err = netCause(e.Code, e.Message)
		var de *net.DNSError
		if !errors.As(e, &de) || de.Name != "nohost.invalid" || !de.IsNotFound || de.IsTimeout ||
			de.Err != "failed to lookup address information: Name or service not known" {
			t.Fatalf("dns %d: %#v", tc.code, e.Err)
		}
	}
	r := &Error{Code: CodeRead, Message: "read failed: Connection reset by peer (os error 104)"}
	r.Err = netCause(r.Code, r.Message)
	if !errors.Is(r, syscall.ECONNRESET) || r.Timeout() || errors.Is(r, os.ErrDeadlineExceeded) {
		t.Fatalf("reset: %#v", r.Err)
	}
	to := &Error{Code: CodeReadTimeout, Message: "read timed out: Resource temporarily unavailable (os error 11)"}
	to.Err = netCause(to.Code, to.Message)
	var ne net.Error
	if !errors.Is(to, os.ErrDeadlineExceeded) || !errors.As(to, &ne) || !ne.Timeout() || !errors.Is(to, ErrTimeout) {
		t.Fatalf("timeout: %v", to)
	}
	if netCause(CodeHTTPStatus, "404 (os error 2)") != nil {
		t.Fatal("non-network codes carry no errno")
	}
}
