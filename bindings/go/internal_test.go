package httpx

import (
	"context"
	"io"
	"strings"
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
