package httpx

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"time"
)

// Trace events of the library (HTTPX_TRACE_* in include/httpx.h).
const (
	traceConnectStart    = 1
	traceConnected       = 2
	traceConnectionReuse = 3
	traceTLSDone         = 4
	traceRequestSent     = 5
	traceHeadersRecv     = 6
	traceBodyDone        = 7
	traceFailed          = 8 // newer libraries: the send or a body read failed (detail: the message)
)

// tracer feeds a net/http/httptrace.ClientTrace from the library's trace
// callback, which reports: connect start, TLS done, connected, reused, request
// sent, headers received, body done. The hooks run on the goroutine making the
// call, in net/http's order:
//
//	GetConn, ConnectStart, ConnectDone, TLSHandshakeStart, TLSHandshakeDone,
//	GotConn, WroteHeaders, WroteRequest, GotFirstResponseByte
//
// DNSStart/DNSDone, WroteHeaderField, Got100Continue, Got1xxResponse and
// PutIdleConn are not called: the library reports no such events. The TLS
// handshake is reported once done (Start and Done back to back), with a
// ConnectionState that has HandshakeComplete and ServerName set only.
type tracer struct {
	ct          *httptrace.ClientTrace
	host        string // host of the URL (for TLS ServerName)
	hostPort    string // GetConn's argument
	connecting  string // target of a connect in progress
	connectDone bool
	gotConn     bool
}

func (t *tracer) getConn(hostPort string) {
	t.hostPort = hostPort
	if i := strings.LastIndexByte(hostPort, ':'); i > 0 {
		t.host = strings.Trim(hostPort[:i], "[]")
	}
	if t.ct.GetConn != nil {
		t.ct.GetConn(hostPort)
	}
}

func (t *tracer) event(ev uint32, _ float64, detail string) {
	ct := t.ct
	switch ev {
	case traceConnectStart:
		t.connecting, t.connectDone, t.gotConn = detail, false, false
		if ct.ConnectStart != nil {
			ct.ConnectStart("tcp", detail)
		}
	case traceTLSDone:
		t.connectDone2(nil)
		if ct.TLSHandshakeStart != nil {
			ct.TLSHandshakeStart()
		}
		if ct.TLSHandshakeDone != nil {
			ct.TLSHandshakeDone(tls.ConnectionState{HandshakeComplete: true, ServerName: t.host}, nil)
		}
	case traceConnected:
		t.connectDone2(nil)
		t.got(false, detail)
	case traceConnectionReuse:
		t.got(true, t.hostPort) // the library's detail is the host alone
	case traceRequestSent:
		if ct.WroteHeaders != nil {
			ct.WroteHeaders()
		}
		if ct.WroteRequest != nil {
			ct.WroteRequest(httptrace.WroteRequestInfo{})
		}
	case traceFailed:
		t.connectDone2(errors.New(detail))
	case traceHeadersRecv:
		if ct.GotFirstResponseByte != nil {
			ct.GotFirstResponseByte()
		}
	}
}

func (t *tracer) connectDone2(err error) {
	if t.connecting == "" || t.connectDone {
		return
	}
	t.connectDone = true
	if t.ct.ConnectDone != nil {
		t.ct.ConnectDone("tcp", t.connecting, err)
	}
}

func (t *tracer) got(reused bool, target string) {
	if t.gotConn {
		return
	}
	t.gotConn = true
	if t.ct.GotConn != nil {
		t.ct.GotConn(httptrace.GotConnInfo{Conn: libConn{remote: target}, Reused: reused, WasIdle: reused})
	}
}

// failed reports a connect that did not finish (the send failed meanwhile).
func (t *tracer) failed(err error) {
	if t != nil && err != nil {
		t.connectDone2(err)
	}
}

// libConn stands for a connection the library owns, in httptrace.GotConnInfo:
// only RemoteAddr (the "host:port" the library connected to) is meaningful.
type libConn struct{ remote string }

var errLibConn = errors.New("httpx: the connection belongs to libhttpx")

func (c libConn) Read([]byte) (int, error)         { return 0, errLibConn }
func (c libConn) Write([]byte) (int, error)        { return 0, errLibConn }
func (c libConn) Close() error                     { return errLibConn }
func (c libConn) LocalAddr() net.Addr              { return libAddr("") }
func (c libConn) RemoteAddr() net.Addr             { return parseAddr(c.remote) }
func (c libConn) SetDeadline(time.Time) error      { return errLibConn }
func (c libConn) SetReadDeadline(time.Time) error  { return errLibConn }
func (c libConn) SetWriteDeadline(time.Time) error { return errLibConn }

type libAddr string

func (a libAddr) Network() string { return "tcp" }
func (a libAddr) String() string  { return string(a) }

func parseAddr(s string) net.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return libAddr(s)
}
