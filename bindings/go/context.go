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

// progressCancel: the library build this binding targets has no cancel token
// yet, so a cancelled context aborts a transfer from the progress callback
// (which runs whenever body bytes move).
const progressCancel = true

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
}

func newSendCtl(ctx context.Context) *sendCtl {
	if ctx == nil {
		ctx = backgroundCtx
	}
	ct := httptrace.ContextClientTrace(ctx)
	if ctx.Done() == nil && ct == nil {
		return nil
	}
	s := &sendCtl{ctx: ctx}
	if ct != nil {
		s.trace = &tracer{ct: ct}
	}
	if d, ok := ctx.Deadline(); ok {
		s.deadline = d
	}
	return s
}

// context is ctx, Background for a nil sendCtl.
func (s *sendCtl) context() context.Context {
	if s == nil {
		return backgroundCtx
	}
	return s.ctx
}

// start checks ctx before anything is sent and arms the cancellation.
func (s *sendCtl) start() error {
	if s == nil || s.ctx.Done() == nil {
		return nil
	}
	if err := s.ctx.Err(); err != nil {
		return s.wrap(&Error{Code: CodeCancelled, Message: "the context ended before the request was sent"})
	}
	s.stop = context.AfterFunc(s.ctx, s.cancel)
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

// prepare readies req for a send under s: it returns the C request to send
// and a function to call once the send has returned.
func (s *sendCtl) prepare(req *Request) (*C.httpx_request, func(), error) {
	if s == nil {
		return req.c, noop, nil
	}
	if cl := req.bodyCloser; cl != nil {
		s.onCancelDo(func() { _ = cl.Close() })
	}
	return req.c, noop, nil
}

// abort fires the cancellation now (closing a response early).
func (s *sendCtl) abort() {
	if s != nil {
		s.cancel()
	}
}
