# frozen_string_literal: true

module LibHTTPX
  # A cancel token (httpx_cancel): pass it as `cancel:` to any request; #cancel
  # (from any thread, any time, idempotent) makes the sends and body reads using
  # it raise LibHTTPX::Cancelled within about 100 ms wherever they are blocked.
  # One token may serve many requests. Needs a libhttpx with httpx_cancel_new.
  class CancelToken
    def self.supported? = Native.has?(:httpx_cancel_new)

    def initialize
      raise NotImplementedError, "this libhttpx (#{LibHTTPX.lib_version}) has no cancel tokens" unless CancelToken.supported?

      out = Native.out_ptr
      Native.check(Native.httpx_cancel_new(out), nil, "httpx_cancel_new failed")
      @ptr = Native::CancelPtr.new(out.read_pointer)
    end

    def cancel
      Native.httpx_cancel_fire(@ptr)
      self
    end
    alias fire cancel

    def cancelled? = Native.httpx_cancel_is_fired(@ptr) == 1

    # @api private
    def to_ptr = @ptr
  end

  # Makes blocking libhttpx calls stoppable from Ruby. A call runs with the GVL
  # released (other threads keep running); Timeout.timeout, Thread#raise and
  # Thread#kill cannot unwind C frames, so while it runs they are deferred
  # (Thread.handle_interrupt) and a watcher thread, seeing the interrupt pending
  # (Thread#pending_interrupt?), fires the call's cancel token. The call returns
  # (HTTPX_E_CANCELLED) within libhttpx's 100 ms bound, the handles it produced
  # are cleaned up, and only then the deferred exception is raised (or the thread
  # dies). Ruby callbacks run inside the deferral too, so they are never cut off
  # halfway through a C call.
  #
  # With a libhttpx that has no cancel tokens the deferral still applies and the
  # call ends at its own timeouts.
  module Interrupts
    POLL_INTERVAL = 0.01 # seconds between looks at the watched threads

    @lock = Mutex.new
    @cond = ConditionVariable.new
    @watched = {} # one key per call => [token, thread, linked token or nil]
    @watcher = nil

    module_function

    # A fresh token (nil without library support): for a streamed send, whose
    # body reads come later and must not be cancelled by another call's interrupt.
    def new_token = CancelToken.supported? ? CancelToken.new : nil

    # The current thread's token for buffered sends (nil without library
    # support). A token holds a file descriptor for as long as any request or
    # response uses it, so buffered sends, which need it only while they run,
    # share one per thread (a thread makes one call at a time); once fired it is
    # replaced.
    def thread_token
      return nil unless CancelToken.supported?

      t = Thread.current.thread_variable_get(:__libhttpx_cancel)
      if t.nil? || t.cancelled?
        t = CancelToken.new
        Thread.current.thread_variable_set(:__libhttpx_cancel, t)
      end
      t
    end

    # Run the block (one blocking libhttpx call) so that an interrupt of the
    # current thread fires `token` (the call's own CancelToken, or nil) while it
    # runs; so does firing `link` (the caller's CancelToken given as cancel:, or
    # nil), without the interrupt ever firing the caller's token.
    def guard(token, link: nil)
      Thread.handle_interrupt(Object => :never) do
        return yield if token.nil?

        # An interrupt (or a cancel) that came before the call: fire at once,
        # nothing is sent.
        token.cancel if Thread.pending_interrupt? || link&.cancelled?
        watch(token, link) { yield }
      end
    end

    def watch(token, link = nil)
      key = Object.new
      @lock.synchronize do
        @watched[key] = [token, Thread.current, link]
        start_watcher unless @watcher&.alive?
        @cond.signal
      end
      begin
        yield
      ensure
        @lock.synchronize { @watched.delete(key) }
      end
    end

    def watching = @lock.synchronize { @watched.size }

    # @api private
    def start_watcher
      # A new thread inherits the creator's interrupt mask (here: guard's
      # :never), which would make the watcher unkillable at exit.
      @watcher = Thread.new { Thread.handle_interrupt(Object => :immediate) { watch_loop } }
      @watcher.name = "libhttpx-interrupts" if @watcher.respond_to?(:name=)
      @watcher.report_on_exception = false
    end

    def watch_loop
      loop do
        snapshot = @lock.synchronize do
          @cond.wait(@lock) while @watched.empty?
          @watched.values
        end
        snapshot.each do |token, thread, link|
          token.cancel if thread.pending_interrupt? || !thread.alive? || link&.cancelled?
        end
        sleep POLL_INTERVAL
      end
    end
  end
end
