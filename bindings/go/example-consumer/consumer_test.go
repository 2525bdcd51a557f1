package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	httpx "libhttpx.org/go/httpx"
)

func TestFetchItemFromServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/items/7" || r.Header.Get("Accept") != "application/json" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(Item{ID: 7, Name: "seven"})
	}))
	defer srv.Close()
	c := NewHTTPClient()
	it, err := FetchItem(context.Background(), c, srv.URL, 7)
	if err != nil || it.ID != 7 || it.Name != "seven" {
		t.Fatalf("%+v %v", it, err)
	}
	if _, err := FetchItem(context.Background(), c, srv.URL, 8); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	if _, err := FetchItem(ctx, c, srv.URL, 7); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
}

// The same code against libhttpx's in-process mock backend: no server at all.
func TestFetchItemFromMock(t *testing.T) {
	mock, err := httpx.NewMockBackend(func(r *httpx.Request) (*httpx.MockResponse, error) {
		return httpx.JSONResponse(200, Item{ID: 1, Name: "from " + r.URL()})
	})
	if err != nil {
		t.Fatal(err)
	}
	defer mock.Close()
	c := &http.Client{Transport: &httpx.Transport{Backend: mock}}
	it, err := FetchItem(context.Background(), c, "http://api.test", 1)
	if err != nil || it.Name != "from http://api.test/items/1" {
		t.Fatalf("%+v %v", it, err)
	}
}
