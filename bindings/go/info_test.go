package httpx_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	httpx "libhttpx.org/go/httpx"
)

func needInfo(t *testing.T) {
	t.Helper()
	if !httpx.HaveInfo {
		t.Skip("this libhttpx has no connection info / debug API")
	}
}

func TestResponseConnInfoTimingsDebug(t *testing.T) {
	needInfo(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	defer srv.Close()
	var mu sync.Mutex
	var heads, texts []string
	c := newClient(t, httpx.WithDebug(func(kind httpx.DebugKind, data []byte) {
		mu.Lock()
		defer mu.Unlock()
		switch kind {
		case httpx.DebugHeaderOut:
			heads = append(heads, string(data))
		case httpx.DebugText:
			texts = append(texts, string(data))
		}
	}))
	for i := 0; i < 2; i++ {
		resp, err := c.Get(ctx, srv.URL+"/x")
		if err != nil {
			t.Fatal(err)
		}
		info := resp.ConnInfo()
		tm := resp.Timings()
		resp.Close()
		if info.RemoteAddr != strings.TrimPrefix(srv.URL, "http://") || info.LocalAddr == "" || info.TLSVersion != "" || info.Reused != (i == 1) {
			t.Fatalf("request %d: %+v", i, info)
		}
		if tm.FirstByte <= 0 || tm.Total < tm.FirstByte || tm.FirstByte < tm.RequestSent || tm.RequestSent < tm.Connect {
			t.Fatalf("timings %+v", tm)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heads) != 2 || !strings.HasPrefix(heads[0], "GET /x HTTP/1.1\r\n") || len(texts) == 0 {
		t.Fatalf("debug: heads %q texts %q", heads, texts)
	}
}

func TestTransportTLSState(t *testing.T) {
	needInfo(t)
	pki := newTestPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}}
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	for _, h2 := range []bool{false, true} {
		c := newHTTPClient(t, &httpx.Transport{RootCAPEM: pki.caPEM, ForceAttemptHTTP2: h2})
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		st := resp.TLS
		wantALPN := "http/1.1"
		if h2 {
			wantALPN = "h2"
		}
		if !h2 && st != nil && st.NegotiatedProtocol == "" {
			wantALPN = "" // libhttpx may offer no ALPN without HTTP/2
		}
		if st == nil || st.Version != tls.VersionTLS13 || st.CipherSuite == 0 || st.NegotiatedProtocol != wantALPN {
			t.Fatalf("h2=%v: %+v", h2, st)
		}
	}
}
