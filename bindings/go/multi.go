package httpx

/*
#include <errno.h>
#include <poll.h>
#include "httpx.h"

// Wait for the multi's fd (and, when wfd >= 0, the Run's wake pipe) to become
// readable, at most timeout_ms (-1: no limit). 0 on a timeout or EINTR, else
// the number of ready fds, or -errno.
static int go_multi_wait(int mfd, int wfd, int timeout_ms) {
	struct pollfd p[2];
	p[0].fd = mfd; p[0].events = POLLIN; p[0].revents = 0;
	p[1].fd = wfd; p[1].events = POLLIN; p[1].revents = 0;
	int n = poll(p, wfd >= 0 ? 2 : 1, timeout_ms);
	if (n < 0) return errno == EINTR ? 0 : -errno;
	return n;
}
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// Multi drives many requests of one Client from one goroutine, with no
// goroutine or thread per request (libhttpx's multi interface, HTTPX's
// AsyncClient): Add requests, then Run (or your own loop over Fd, Timeout,
// Perform and Next) until they complete.
//
//	m, err := httpx.NewMulti(client)
//	if err != nil { return err }
//	defer m.Close()
//	for _, u := range urls {
//		req, _ := client.BuildRequest("GET", u)
//		m.Add(req) // the multi sends a copy: req may be closed now
//		req.Close()
//	}
//	err = m.Run(ctx, func(c *httpx.Completion) {
//		defer c.Close()
//		if c.Err != nil { log.Print(c.Err); return }
//		body, _ := c.Response.Body() // already read
//		...
//	})
//
// Threads: a Multi belongs to one goroutine at a time; its methods must not be
// called concurrently (the Client stays safe for concurrent use, and blocking
// sends on other goroutines share its pool). Every callback of the multi's
// transfers (mock handlers, body readers, hooks, auth flows) runs inside
// Perform, on the calling goroutine's OS thread; Run locks its goroutine to one
// OS thread (runtime.LockOSThread) for its whole duration, so all of them run on
// that one thread. From inside such a callback, calling the same Multi's methods
// or sending on its Client fails with ErrRecursiveCall.
//
// Close the Multi before its Client: the Multi holds the Client (a Client.Close
// meanwhile fails the multi's transfers with ErrClientClosed and the handle is
// freed with the Multi). A finalizer closes an unreachable Multi.
type Multi struct {
	client   *Client
	m        *C.httpx_multi
	nextTag  uint64
	inflight map[uint64]struct{}
}

// Completion is a finished transfer of a Multi: the Tag that Add returned,
// and the Response (its body read; the caller's: Close it) or Err, the error
// Client.Send would have returned (an *Error; after Multi.Cancel it matches
// ErrCancelled; when Run's context ended it, errors.Is(Err, context.Canceled)
// or context.DeadlineExceeded holds, as with Send).
type Completion struct {
	Tag      uint64
	Response *Response
	Err      error
}

// Close closes the completion's response, if any. Idempotent.
func (c *Completion) Close() error {
	if c != nil && c.Response != nil {
		return c.Response.Close()
	}
	return nil
}

func errMultiClosed() error {
	return &Error{Code: CodeInvalidArgument, Message: "the multi is closed"}
}

// NewMulti is a multi for client's transfers (two file descriptors: an epoll
// fd and an eventfd). The client must stay open while the multi is used.
func NewMulti(client *Client) (*Multi, error) {
	if client == nil {
		return nil, &Error{Code: CodeInvalidArgument, Message: "client is nil"}
	}
	h, err := client.acquire() // released by Close: the client's handle outlives the multi
	if err != nil {
		return nil, err
	}
	var m *C.httpx_multi
	if code := C.httpx_multi_new(h, &m); code != C.HTTPX_OK {
		client.release()
		return nil, codeErr(code, "httpx_multi_new")
	}
	mu := &Multi{client: client, m: m, inflight: make(map[uint64]struct{})}
	runtime.SetFinalizer(mu, (*Multi).Close)
	return mu, nil
}

// Close frees the multi. Transfers still in flight are dropped: their
// connections are closed (never pooled), their completions never appear.
// Completions already returned stay valid. Idempotent.
func (m *Multi) Close() error {
	if m.m == nil {
		return nil
	}
	runtime.SetFinalizer(m, nil)
	C.httpx_multi_free(m.m)
	m.m = nil
	m.inflight = map[uint64]struct{}{}
	m.client.release()
	return nil
}

// Add queues a send of a copy of req (with its settings: auth, redirects,
// timeouts) and returns at once with the transfer's tag; nothing is sent
// before Perform (or Run). req stays the caller's and may be closed or
// edited now (a streamed body's reader is shared with the copy). A request
// with a failed setter is refused with that setter's error (see Request.Err).
func (m *Multi) Add(req *Request) (uint64, error) {
	if m.m == nil {
		return 0, errMultiClosed()
	}
	if req == nil || req.c == nil {
		return 0, &Error{Code: CodeInvalidArgument, Message: "request is nil or closed"}
	}
	if err := req.Err(); err != nil {
		return 0, err
	}
	m.nextTag++
	tag := m.nextTag
	var cerr *C.httpx_error
	err := takeErr(C.httpx_multi_add(m.m, req.c, C.uint64_t(tag), &cerr), cerr)
	runtime.KeepAlive(req)
	if err != nil {
		return 0, err
	}
	m.inflight[tag] = struct{}{}
	return tag, nil
}

// Len is the number of transfers added whose completion Next (or Run) has not
// returned yet.
func (m *Multi) Len() int { return len(m.inflight) }

// Perform does the I/O that is ready, waiting up to wait for some (0: do not
// wait; negative: until something happens), and runs the transfers'
// callbacks. It returns the number of transfers not yet complete. An error is
// the multi's own (e.g. ErrRecursiveCall); a transfer's comes in its
// Completion.
func (m *Multi) Perform(wait time.Duration) (int, error) {
	return m.perform(nil, seconds(wait))
}

func (m *Multi) perform(ctl *sendCtl, wait C.double) (int, error) {
	if m.m == nil {
		return 0, errMultiClosed()
	}
	return doMultiPerform(ctl, m.m, wait)
}

// Fd is the multi's file descriptor, readable whenever Perform has work (for
// poll/epoll; -1 once closed). It belongs to the multi: never read, write or
// close it.
func (m *Multi) Fd() int {
	if m.m == nil {
		return -1
	}
	return int(C.httpx_multi_fd(m.m))
}

// Timeout is the longest to wait for Fd before the next Perform: 0 when work
// is pending; ok is false when there is no timer (wait for Fd alone).
func (m *Multi) Timeout() (d time.Duration, ok bool, err error) {
	if m.m == nil {
		return 0, false, errMultiClosed()
	}
	var s C.double
	if code := C.httpx_multi_timeout(m.m, &s); code != C.HTTPX_OK {
		return 0, false, codeErr(code, "httpx_multi_timeout")
	}
	if s < 0 {
		return 0, false, nil
	}
	return time.Duration(float64(s) * float64(time.Second)), true, nil
}

// Next pops a finished transfer, or returns nil when none has finished.
func (m *Multi) Next() (*Completion, error) {
	return m.next(nil)
}

// next pops a completion; ctl (may be nil) wraps its error with the Run's
// context error when that context has ended.
func (m *Multi) next(ctl *sendCtl) (*Completion, error) {
	if m.m == nil {
		return nil, errMultiClosed()
	}
	var c *C.httpx_completion
	if code := C.httpx_multi_next(m.m, &c); code != C.HTTPX_OK {
		return nil, codeErr(code, "httpx_multi_next")
	}
	if c == nil {
		return nil, nil
	}
	defer C.httpx_completion_free(c)
	out := &Completion{Tag: uint64(C.httpx_completion_tag(c))}
	delete(m.inflight, out.Tag)
	code := C.httpx_completion_code(c)
	if code == C.HTTPX_OK {
		var resp *C.httpx_response
		if rc := C.httpx_completion_take_response(c, &resp); rc != C.HTTPX_OK {
			out.Err = codeErr(rc, "httpx_completion_take_response")
			return out, nil
		}
		out.Response = ownResponse(resp, nil)
		return out, nil
	}
	e := &Error{Code: Code(code)}
	if ce := C.httpx_completion_error(c); ce != nil { // borrowed: freed with c
		e.Message = C.GoString(C.httpx_error_message(ce))
	}
	e.Err = netCause(e.Code, e.Message)
	e.derived = e.Err != nil
	if e.Code == CodeCancelled || e.Code == CodeTotalTimeout {
		out.Err = ctl.wrap(e) // the Run's context ended it: errors.Is(err, ctx.Err())
	} else {
		out.Err = e
	}
	return out, nil
}

// Cancel cancels the transfer tagged tag: its connection is closed and it
// completes at once with an error matching ErrCancelled. An unknown or
// finished tag is not an error.
func (m *Multi) Cancel(tag uint64) error {
	if m.m == nil {
		return errMultiClosed()
	}
	return codeErr(C.httpx_multi_cancel(m.m, C.uint64_t(tag)), "httpx_multi_cancel")
}

// Do adds reqs, runs them to completion with Run and returns their
// completions in the order of reqs (close their responses). On an error from
// Run (ctx ended: ctx.Err()) the completions are still all there, those cut
// short with errors wrapping the context's error.
func (m *Multi) Do(ctx context.Context, reqs ...*Request) ([]*Completion, error) {
	out := make([]*Completion, len(reqs))
	index := make(map[uint64]int, len(reqs))
	for i, r := range reqs {
		tag, err := m.Add(r)
		if err != nil {
			out[i] = &Completion{Err: err}
			continue
		}
		index[tag] = i
	}
	var others []*Completion
	err := m.Run(ctx, func(c *Completion) {
		if i, ok := index[c.Tag]; ok {
			out[i] = c
		} else {
			others = append(others, c) // added earlier, outside this Do
		}
	})
	for _, c := range others {
		c.Close()
	}
	return out, err
}

// Run drives every transfer of the multi to its end: it waits on Fd with
// poll(2) (no goroutine per transfer), calls Perform and hands each Completion
// to fn (fn may be nil: completions are then closed and dropped). fn runs on
// Run's goroutine outside the library, so it may Add more requests (Run then
// drives them too), Cancel, or Close the multi (Run then returns an error).
// Run returns nil once no transfer is left.
//
// Run locks its goroutine to its OS thread while it runs: every callback of
// the multi's transfers runs inside Perform on that thread.
//
// ctx: when it ends, every transfer still in flight is cancelled
// (httpx_multi_cancel), their completions go to fn with errors for which
// errors.Is(err, context.Canceled) (or context.DeadlineExceeded) holds, and
// Run returns ctx.Err().
func (m *Multi) Run(ctx context.Context, fn func(*Completion)) error {
	if ctx == nil {
		ctx = backgroundCtx
	}
	if fn == nil {
		fn = func(c *Completion) { c.Close() }
	}
	if m.m == nil {
		return errMultiClosed()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ctl := &sendCtl{ctx: ctx} // wraps errors with ctx's (wrap); no token, no trace
	if d, ok := ctx.Deadline(); ok {
		ctl.deadline = d
	}
	var wake *wakePipe
	if ctx.Done() != nil {
		var err error
		if wake, err = newWakePipe(); err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, wake.signal)
		defer func() {
			stop()
			wake.close()
		}()
	}
	wfd := C.int(-1)
	if wake != nil {
		wfd = C.int(wake.r)
	}
	for {
		if err := m.drain(ctl, fn); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return m.cancelAll(ctl, fn)
		}
		if len(m.inflight) == 0 {
			return nil
		}
		ms := C.int(-1)
		d, ok, err := m.Timeout()
		if err != nil {
			return err
		}
		if ok {
			ms = C.int(math.Ceil(float64(d) / float64(time.Millisecond)))
		}
		if ms != 0 {
			if n := C.go_multi_wait(C.int(C.httpx_multi_fd(m.m)), wfd, ms); n < 0 {
				return &Error{Code: CodeIO, Message: "poll on the multi's fd failed", Err: syscall.Errno(-n)}
			}
		}
		if _, err := m.perform(ctl, 0); err != nil {
			return err
		}
	}
}

// cancelAll cancels every transfer in flight once Run's context has ended and
// hands their completions (errors wrapping ctx.Err()) to fn.
func (m *Multi) cancelAll(ctl *sendCtl, fn func(*Completion)) error {
	for tag := range m.inflight {
		if err := m.Cancel(tag); err != nil {
			return err
		}
	}
	// Cancelled transfers complete at once; a bounded number of rounds picks
	// them up (each round pops every completion that is ready).
	for round := 0; round < 100 && len(m.inflight) > 0; round++ {
		if _, err := m.perform(ctl, 0); err != nil {
			return err
		}
		if err := m.drain(ctl, fn); err != nil {
			return err
		}
	}
	return ctl.ctx.Err()
}

// drain hands every completion that is ready to fn, stopping if fn closed the
// multi.
func (m *Multi) drain(ctl *sendCtl, fn func(*Completion)) error {
	for {
		c, err := m.next(ctl)
		if err != nil {
			return err
		}
		if c == nil {
			return nil
		}
		fn(c)
		if m.m == nil {
			return errMultiClosed()
		}
	}
}

// wakePipe wakes Run's poll when its context ends.
type wakePipe struct {
	mu     sync.Mutex
	r, w   int
	closed bool
}

func newWakePipe() (*wakePipe, error) {
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return nil, &Error{Code: CodeIO, Message: "pipe2 for the multi's wake-up failed", Err: err}
	}
	return &wakePipe{r: fds[0], w: fds[1]}, nil
}

func (p *wakePipe) signal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		b := [1]byte{1}
		_, _ = syscall.Write(p.w, b[:])
	}
}

func (p *wakePipe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		syscall.Close(p.r)
		syscall.Close(p.w)
	}
}
