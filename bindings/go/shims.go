package httpx

/*
#include <stdlib.h>
#include "httpx.h"

// The Go-side state of the binding call running on this thread (a slot number
// from the call registry, 0 = none). The call wrappers below set it around each
// library call; the callback shims hand it to Go, so a callback finds its call's
// context, trace hooks and error stash without any lookup by thread. Callbacks
// run on the thread that made the call (include/httpx.h); nested calls (a
// handler sending again) save and restore it.
static __thread uintptr_t go_call;
// What the call wants reported: GO_TRACE (httptrace hooks), GO_PROGRESS (the
// progress callback checks for a cancelled context).
static __thread int go_flags;
#define GO_TRACE 1
#define GO_PROGRESS 2

extern httpx_code goHttpxTransport(uintptr_t, void *, httpx_request *, httpx_response_builder *);
extern httpx_code goHttpxRead(uintptr_t, void *, uint8_t *, uintptr_t, uintptr_t *);
extern void goHttpxTrace(uintptr_t, uint32_t, double, char *);
extern int32_t goHttpxProgress(uintptr_t, uint64_t, int64_t, uint64_t, int64_t);
extern void goHttpxFree(void *);

static httpx_code shim_transport(void *ud, const httpx_request *req, httpx_response_builder *out) {
	return goHttpxTransport(go_call, ud, (httpx_request *)req, out);
}
static httpx_code shim_read(void *ud, uint8_t *buf, uintptr_t cap, uintptr_t *n) {
	return goHttpxRead(go_call, ud, buf, cap, n);
}
static void shim_trace(void *ud, uint32_t ev, double elapsed, const char *detail) {
	(void)ud;
	if (go_flags & GO_TRACE) goHttpxTrace(go_call, ev, elapsed, (char *)detail);
}
static int32_t shim_progress(void *ud, uint64_t sent, int64_t st, uint64_t recv, int64_t rt) {
	(void)ud;
	if (!(go_flags & GO_PROGRESS)) return 0;
	return goHttpxProgress(go_call, sent, st, recv, rt);
}
static void shim_free(void *ud) { goHttpxFree(ud); }

extern void goHttpxDebug(void *, uint32_t, uint8_t *, uintptr_t);
#ifdef HTTPX_DEBUG_TEXT
static void shim_debug(void *ud, uint32_t kind, const uint8_t *data, uintptr_t len) {
	goHttpxDebug(ud, kind, (uint8_t *)data, len);
}
static httpx_code go_config_set_debug(httpx_client_config *cfg, void *ud) {
	return httpx_client_config_set_debug(cfg, shim_debug, ud, shim_free);
}
#else
static httpx_code go_config_set_debug(httpx_client_config *cfg, void *ud) { (void)cfg; (void)ud; return HTTPX_E_INVALID_ARGUMENT; }
#endif

static httpx_code go_transport_callback(void *ud, httpx_transport **out) {
	return httpx_transport_callback(shim_transport, ud, shim_free, out);
}
static httpx_code go_builder_set_body_reader(httpx_response_builder *b, void *ud) {
	return httpx_response_builder_set_body_reader(b, shim_read, ud, shim_free);
}
static httpx_code go_request_set_body_reader(httpx_request *r, void *ud, int64_t len) {
	return httpx_request_set_body_reader(r, shim_read, ud, shim_free, len);
}
static httpx_code go_config_set_observers(httpx_client_config *cfg, int progress) {
	httpx_code rc = httpx_client_config_set_trace(cfg, shim_trace, NULL, NULL);
	if (rc == HTTPX_OK && progress) rc = httpx_client_config_set_progress(cfg, shim_progress, NULL, NULL);
	return rc;
}

// Library calls that may run Go callbacks, with go_call set around them.
static httpx_code go_send(const httpx_client *c, const httpx_request *r, int stream, uintptr_t call, int flags,
                          httpx_response **out, httpx_error **err) {
	uintptr_t saved = go_call;
	int saved_flags = go_flags;
	go_call = call;
	go_flags = flags;
	httpx_code rc = stream ? httpx_client_send_stream(c, r, out, err) : httpx_client_send(c, r, out, err);
	go_call = saved;
	go_flags = saved_flags;
	return rc;
}
static httpx_code go_read(httpx_response *resp, uint8_t *buf, uintptr_t cap, uintptr_t *n, uintptr_t call, int flags, httpx_error **err) {
	uintptr_t saved = go_call;
	int saved_flags = go_flags;
	go_call = call;
	go_flags = flags;
	httpx_code rc = httpx_response_read(resp, buf, cap, n, err);
	go_call = saved;
	go_flags = saved_flags;
	return rc;
}
static httpx_code go_body(httpx_response *resp, const uint8_t **data, uintptr_t *n, uintptr_t call, int flags, httpx_error **err) {
	uintptr_t saved = go_call;
	int saved_flags = go_flags;
	go_call = call;
	go_flags = flags;
	httpx_code rc = httpx_response_body(resp, data, n, err);
	go_call = saved;
	go_flags = saved_flags;
	return rc;
}
static httpx_code go_text(httpx_response *resp, const char **text, uintptr_t *n, uintptr_t call, int flags, httpx_error **err) {
	uintptr_t saved = go_call;
	int saved_flags = go_flags;
	go_call = call;
	go_flags = flags;
	httpx_code rc = httpx_response_text(resp, text, n, err);
	go_call = saved;
	go_flags = saved_flags;
	return rc;
}

// The multi's perform (multi.go): every callback of the multi's transfers runs
// inside it, on this thread, under the Run's call slot.
static httpx_code go_multi_perform(httpx_multi *m, double timeout, uint32_t *running, uintptr_t call, int flags) {
	uintptr_t saved = go_call;
	int saved_flags = go_flags;
	go_call = call;
	go_flags = flags;
	httpx_code rc = httpx_multi_perform(m, timeout, running);
	go_call = saved;
	go_flags = saved_flags;
	return rc;
}

// Cancel tokens and the total timeout (libhttpx's second-round API): used when
// the header has them, else the progress callback stands in for cancellation.
#ifdef HTTPX_E_CANCELLED
#define GO_HAVE_CANCEL 1
static httpx_code go_cancel_new(void **out) { return httpx_cancel_new((httpx_cancel **)out); }
static void go_cancel_fire(void *t) { (void)httpx_cancel_fire((const httpx_cancel *)t); }
static void go_cancel_free(void *t) { httpx_cancel_free((httpx_cancel *)t); }
static httpx_code go_request_set_cancel(httpx_request *r, void *t) {
	return httpx_request_set_cancel(r, (const httpx_cancel *)t);
}
static httpx_code go_request_set_total_timeout(httpx_request *r, double s) {
	return httpx_request_set_total_timeout(r, s);
}
static httpx_code go_config_set_total_timeout(httpx_client_config *c, double s) {
	return httpx_client_config_set_total_timeout(c, s);
}
#else
#define GO_HAVE_CANCEL 0
static httpx_code go_cancel_new(void **out) { (void)out; return HTTPX_E_INTERNAL; }
static void go_cancel_fire(void *t) { (void)t; }
static void go_cancel_free(void *t) { (void)t; }
static httpx_code go_request_set_cancel(httpx_request *r, void *t) { (void)r; (void)t; return HTTPX_E_INTERNAL; }
static httpx_code go_request_set_total_timeout(httpx_request *r, double s) { (void)r; (void)s; return HTTPX_E_INTERNAL; }
static httpx_code go_config_set_total_timeout(httpx_client_config *c, double s) { (void)c; (void)s; return HTTPX_E_INTERNAL; }
#endif
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// newHandle stores v behind a cgo.Handle in a small C allocation, the userdata
// given to the library. freeHandle (called by the library's free_fn, or by us
// when the library did not take it) releases both.
func newHandle(v any) unsafe.Pointer {
	liveHandles.Add(1)
	p := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
	*(*C.uintptr_t)(p) = C.uintptr_t(cgo.NewHandle(v))
	return p
}

func handleValue(p unsafe.Pointer) any {
	if p == nil {
		return nil
	}
	return cgo.Handle(*(*C.uintptr_t)(p)).Value()
}

func freeHandle(p unsafe.Pointer) {
	if p == nil {
		return
	}
	cgo.Handle(*(*C.uintptr_t)(p)).Delete()
	C.free(p)
	liveHandles.Add(-1)
}

// liveHandles counts userdata not yet released by the library (for tests).
var liveHandles atomic.Int64

// call is the Go side of one binding call into the library (a send, a read of
// a streamed body): its controls (context, trace) and the error a Go callback
// returned, which end attaches to the library's HTTPX_E_CALLBACK. It also holds
// the out-parameters of the C call, so that nothing escapes per call: calls
// are pooled.
type call struct {
	ctl   *sendCtl
	cbErr error
	id    uintptr
	cerr  *C.httpx_error
	n     C.uintptr_t
	data  *C.uint8_t
	text  *C.char
	resp  *C.httpx_response
}

var callPool = sync.Pool{New: func() any { return new(call) }}

// The call registry: slot numbers (never 0) the C side can hold, without cgo
// handles' per-call allocation.
var calls struct {
	mu    sync.Mutex
	slots []*call
	free  []uintptr
}

// beginCall registers a call; pass c.slot() and c.flags() to the go_* wrapper,
// then c.end(code).
func beginCall(ctl *sendCtl) *call {
	c := callPool.Get().(*call)
	c.ctl = ctl
	calls.mu.Lock()
	if n := len(calls.free); n > 0 {
		c.id = calls.free[n-1]
		calls.free = calls.free[:n-1]
		calls.slots[c.id-1] = c
	} else {
		calls.slots = append(calls.slots, c)
		c.id = uintptr(len(calls.slots))
	}
	calls.mu.Unlock()
	return c
}

func (c *call) slot() C.uintptr_t { return C.uintptr_t(c.id) }
func (c *call) flags() C.int      { return c.ctl.flags() }

// end unregisters the call and converts the code and detailed error,
// attaching the Go error a callback returned and the context's error (see
// sendCtl.wrap). c must not be used afterwards.
func (c *call) end(code C.httpx_code) error {
	calls.mu.Lock()
	calls.slots[c.id-1] = nil
	calls.free = append(calls.free, c.id)
	calls.mu.Unlock()
	var err error
	if code != C.HTTPX_OK || c.cerr != nil {
		err = takeErr(code, c.cerr)
	}
	if err != nil {
		e := err.(*Error)
		if c.cbErr != nil {
			e.Err = c.cbErr
		}
		err = c.ctl.wrap(e)
	}
	*c = call{}
	callPool.Put(c)
	return err
}

func lookupCall(id C.uintptr_t) *call {
	if id == 0 {
		return nil
	}
	calls.mu.Lock()
	defer calls.mu.Unlock()
	if int(id) > len(calls.slots) {
		return nil
	}
	return calls.slots[id-1]
}

// stash records a callback's Go error for the call in progress.
func stash(id C.uintptr_t, err error) {
	if c := lookupCall(id); c != nil && c.cbErr == nil {
		c.cbErr = err
	}
}

func newCallbackTransport(st *backendState) (*C.httpx_transport, error) {
	ud := newHandle(st)
	var t *C.httpx_transport
	if code := C.go_transport_callback(ud, &t); code != C.HTTPX_OK {
		freeHandle(ud) // not taken on error
		return nil, codeErr(code, "httpx_transport_callback")
	}
	return t, nil
}

func builderSetBodyReader(b *C.httpx_response_builder, r any) error {
	ud := newHandle(r)
	if code := C.go_builder_set_body_reader(b, ud); code != C.HTTPX_OK {
		freeHandle(ud)
		return codeErr(code, "httpx_response_builder_set_body_reader")
	}
	return nil
}

func requestSetBodyReader(req *C.httpx_request, r any, length int64) error {
	ud := newHandle(r)
	if code := C.go_request_set_body_reader(req, ud, C.int64_t(length)); code != C.HTTPX_OK {
		freeHandle(ud)
		return codeErr(code, "httpx_request_set_body_reader")
	}
	return nil
}

// flags are the go_flags of a call under this control.
func (s *sendCtl) flags() C.int {
	if s == nil {
		return 0
	}
	var f C.int
	if s.trace != nil {
		f |= C.GO_TRACE
	}
	if progressCancel && s.ctx.Done() != nil {
		f |= C.GO_PROGRESS
	}
	return f
}

func configSetObservers(cfg *C.httpx_client_config) error {
	return codeErr(C.go_config_set_observers(cfg, cbool(progressCancel)), "trace callback")
}

// Calls through the go_* C wrappers above (static C functions are visible
// only from this file), each registered as a call under ctl.

func doSend(ctl *sendCtl, h *C.httpx_client, req *C.httpx_request, stream bool) (*C.httpx_response, error) {
	c := beginCall(ctl)
	code := C.go_send(h, req, C.int(cbool(stream)), c.slot(), c.flags(), &c.resp, &c.cerr)
	resp := c.resp
	return resp, c.end(code)
}

func doRead(ctl *sendCtl, r *C.httpx_response, p []byte) (int, error) {
	c := beginCall(ctl)
	code := C.go_read(r, (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(p))), C.uintptr_t(len(p)), &c.n, c.slot(), c.flags(), &c.cerr)
	n := int(c.n)
	return n, c.end(code)
}

func doBody(ctl *sendCtl, r *C.httpx_response) ([]byte, error) {
	c := beginCall(ctl)
	code := C.go_body(r, &c.data, &c.n, c.slot(), c.flags(), &c.cerr)
	var out []byte
	if code == C.HTTPX_OK {
		out = copyBytes(c.data, c.n)
	}
	return out, c.end(code)
}

func doText(ctl *sendCtl, r *C.httpx_response) (string, error) {
	c := beginCall(ctl)
	code := C.go_text(r, &c.text, &c.n, c.slot(), c.flags(), &c.cerr)
	var out string
	if code == C.HTTPX_OK {
		out = C.GoStringN(c.text, C.int(c.n))
	}
	return out, c.end(code)
}

// doMultiPerform is one httpx_multi_perform registered as a call under ctl
// (callbacks then see ctl's context). It returns the transfers still running.
func doMultiPerform(ctl *sendCtl, m *C.httpx_multi, timeout C.double) (int, error) {
	c := beginCall(ctl)
	var running C.uint32_t
	code := C.go_multi_perform(m, timeout, &running, c.slot(), c.flags())
	return int(running), c.end(code)
}

// haveCancel: the library has cancel tokens and the total timeout.
const haveCancel = C.GO_HAVE_CANCEL == 1

// cancelToken is an httpx_cancel (nil when the library has none).
type cancelToken struct{ p unsafe.Pointer }

// Unfired tokens are reused: each one is an eventfd in the library, so making
// one per send would cost two system calls. A token goes back only once the
// send and its body are done (nothing the library still does can see it).
var tokenPool struct {
	mu   sync.Mutex
	free []*cancelToken
}

const maxPooledTokens = 64

func getCancelToken() (*cancelToken, error) {
	tokenPool.mu.Lock()
	if n := len(tokenPool.free); n > 0 {
		t := tokenPool.free[n-1]
		tokenPool.free = tokenPool.free[:n-1]
		tokenPool.mu.Unlock()
		return t, nil
	}
	tokenPool.mu.Unlock()
	return newCancelToken()
}

// putCancelToken returns an unfired token to the pool (a fired one is freed).
func putCancelToken(t *cancelToken, fired bool) {
	if t == nil {
		return
	}
	if !fired {
		tokenPool.mu.Lock()
		if len(tokenPool.free) < maxPooledTokens {
			tokenPool.free = append(tokenPool.free, t)
			tokenPool.mu.Unlock()
			return
		}
		tokenPool.mu.Unlock()
	}
	t.free()
}

func newCancelToken() (*cancelToken, error) {
	if !haveCancel {
		return nil, nil
	}
	var p unsafe.Pointer
	if code := C.go_cancel_new(&p); code != C.HTTPX_OK {
		return nil, codeErr(code, "httpx_cancel_new")
	}
	return &cancelToken{p: p}, nil
}

func (t *cancelToken) fire() {
	if t != nil {
		C.go_cancel_fire(t.p)
	}
}

func (t *cancelToken) free() {
	if t != nil {
		C.go_cancel_free(t.p)
	}
}

// requestSetCancel attaches t to req (nil removes it).
func requestSetCancel(req *C.httpx_request, t *cancelToken) error {
	if !haveCancel {
		return nil
	}
	var p unsafe.Pointer
	if t != nil {
		p = t.p
	}
	return codeErr(C.go_request_set_cancel(req, p), "httpx_request_set_cancel")
}

// requestSetTotalTimeout sets req's total deadline (negative = none).
func requestSetTotalTimeout(req *C.httpx_request, d time.Duration) error {
	if !haveCancel {
		return &Error{Code: CodeInvalidArgument, Message: "this libhttpx has no total timeout (httpx_request_set_total_timeout)"}
	}
	return codeErr(C.go_request_set_total_timeout(req, seconds(d)), "httpx_request_set_total_timeout")
}

func configSetTotalTimeout(cfg *C.httpx_client_config, d time.Duration) error {
	if !haveCancel {
		return &Error{Code: CodeInvalidArgument, Message: "this libhttpx has no total timeout (httpx_client_config_set_total_timeout)"}
	}
	return codeErr(C.go_config_set_total_timeout(cfg, seconds(d)), "httpx_client_config_set_total_timeout")
}

func configSetDebug(cfg *C.httpx_client_config, f DebugFunc) error {
	if !haveInfo {
		return &Error{Code: CodeInvalidArgument, Message: "this libhttpx has no debug callback (httpx_client_config_set_debug)"}
	}
	ud := newHandle(f)
	if code := C.go_config_set_debug(cfg, ud); code != C.HTTPX_OK {
		freeHandle(ud)
		return codeErr(code, "httpx_client_config_set_debug")
	}
	return nil
}
