package httpx

/*
#include "httpx.h"
*/
import "C"

import (
	"context"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

var backgroundCtx = context.Background()

// progressCancel: with a library that has no cancel tokens yet, a cancelled
// context aborts a transfer from the progress callback instead (which runs
// only while body bytes move, so a wait for a response head is not cut short).
const progressCancel = !haveCancel

// sendCtl carries one send's context into the library: cancellation, the
// deadline and the httptrace hooks. It lives until the response body is done
// (a streamed body is still cancellable). A nil *sendCtl is a context that can
// neither be cancelled nor traced: no per-call cost.
type sendCtl struct {
	ctx      context.Context
	trace    *tracer
	fired    atomic.Bool
	mu       sync.Mutex
	stop     func() bool
	onCancel []func()
	released bool
	// deadline set on the request from ctx (zero: none)
	deadline time.Time
	tok      *cancelToken
	needTok  bool
}

// newSendCtl is the control of a send under ctx (nil when there is nothing to
// control). stream: the body will be read later; with cancel tokens the send
// then always gets one, so that Response.Close can abort a Read blocked in
// another goroutine.
func newSendCtl(ctx context.Context, stream bool) *sendCtl {
	if ctx == nil {
		ctx = backgroundCtx
	}
	ct := httptrace.ContextClientTrace(ctx)
	needTok := haveCancel && (ctx.Done() != nil || stream)
	if !needTok && ctx.Done() == nil && ct == nil {
		return nil
	}
	s := &sendCtl{ctx: ctx, needTok: needTok}
	if ct != nil {
		s.trace = &tracer{ct: ct}
	}
	if d, ok := ctx.Deadline(); ok {
		s.deadline = d
	}
	return s
}

// start checks ctx before anything is sent and arms the cancellation.
func (s *sendCtl) start() error {
	if s == nil {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return s.wrap(&Error{Code: CodeCancelled, Message: "the context ended before the request was sent"})
	}
	if s.needTok {
		tok, err := getCancelToken()
		if err != nil {
			return err
		}
		s.tok = tok
	}
	if s.ctx.Done() != nil {
		s.stop = context.AfterFunc(s.ctx, s.cancel)
	}
	return nil
}

// onCancelDo registers f to run when ctx is cancelled (e.g. closing a request
// body a callback may be blocked reading).
func (s *sendCtl) onCancelDo(f func()) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.fired.Load() {
		s.mu.Unlock()
		f()
		return
	}
	s.onCancel = append(s.onCancel, f)
	s.mu.Unlock()
}

func (s *sendCtl) cancel() {
	s.mu.Lock()
	if s.released {
		s.mu.Unlock()
		return
	}
	s.fired.Store(true)
	s.tok.fire()
	fs := s.onCancel
	s.onCancel = nil
	s.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// release ends the control (body done or closed); idempotent.
func (s *sendCtl) release() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	s.onCancel = nil
	if s.stop != nil {
		s.stop()
	}
	// Our handle only: requests and responses keep their own references.
	putCancelToken(s.tok, s.fired.Load())
	s.tok = nil
}

// wrap attaches the context's error to an error of a call it controlled:
// errors.Is(err, context.Canceled / context.DeadlineExceeded) then holds.
func (s *sendCtl) wrap(e *Error) error {
	if s == nil {
		return e
	}
	cerr := s.ctx.Err()
	if cerr == nil && e.Code == CodeTotalTimeout && !s.deadline.IsZero() && time.Until(s.deadline) < 5*time.Millisecond {
		cerr = context.DeadlineExceeded // the library's clock got there first
	}
	if cerr == nil {
		return e
	}
	switch {
	case cerr == context.DeadlineExceeded:
		if e.Code != CodeTotalTimeout && !e.Code.IsTimeout() {
			e.Code = CodeTotalTimeout
		}
		e.Err = context.DeadlineExceeded
	default:
		if e.Code != CodeCancelled {
			e.Code = CodeCancelled
		}
		e.Err = cerr
	}
	if e.Message == "" {
		e.Message = cerr.Error()
	}
	return e
}

func noop() {}

// prepare readies req for a send under s: the cancel token and the deadline
// (the earlier of ctx's and the request's or client's own total timeout) go on
// the request for this send. With a deadline a copy of the request is sent
// (setting a total timeout cannot be undone on the caller's request); else the
// token is set on req and the returned function removes it again once the
// send returned (the response keeps its own reference).
func (s *sendCtl) prepare(req *Request, clientTotal time.Duration) (*C.httpx_request, func(), error) {
	if s == nil {
		return req.c, noop, nil
	}
	if cl := req.bodyCloser; cl != nil {
		s.onCancelDo(func() { _ = cl.Close() })
	}
	if !haveCancel {
		return req.c, noop, nil
	}
	c := req.c
	restore := noop
	if !s.deadline.IsZero() {
		left := time.Until(s.deadline)
		if left <= 0 {
			left = time.Nanosecond
		}
		limit := req.totalTimeout
		if limit < 0 {
			limit = clientTotal
		}
		if limit >= 0 && limit <= left {
			s.deadline = time.Time{} // the request's or client's own total timeout comes first
		} else {
			var cp *C.httpx_request
			if code := C.httpx_request_clone(c, &cp); code != C.HTTPX_OK {
				return nil, nil, codeErr(code, "httpx_request_clone")
			}
			if err := requestSetTotalTimeout(cp, left); err != nil {
				C.httpx_request_free(cp)
				return nil, nil, err
			}
			if err := requestSetCancel(cp, s.tok); err != nil {
				C.httpx_request_free(cp)
				return nil, nil, err
			}
			return cp, func() { C.httpx_request_free(cp) }, nil
		}
	}
	if s.tok != nil {
		if err := requestSetCancel(c, s.tok); err != nil {
			return nil, nil, err
		}
		restore = func() { _ = requestSetCancel(c, nil) }
	}
	return c, restore, nil
}

// abort fires the cancellation now (closing a response early).
func (s *sendCtl) abort() {
	if s != nil {
		s.cancel()
	}
}
