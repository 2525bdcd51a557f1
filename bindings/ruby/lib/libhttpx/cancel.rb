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
    @watched = {} # token => [thread, linked token or nil]
    @watcher = nil

    module_function

    # A fresh token for one call (nil without library support).
    def new_token = CancelToken.supported? ? CancelToken.new : nil

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
      thread = Thread.current
      @lock.synchronize do
        @watched[token] = [thread, link]
        start_watcher unless @watcher&.alive?
        @cond.signal
      end
      begin
        yield
      ensure
        @lock.synchronize { @watched.delete(token) }
      end
    end

    def watching = @lock.synchronize { @watched.size }

    # @api private
    def start_watcher
      @watcher = Thread.new { watch_loop }
      @watcher.name = "libhttpx-interrupts" if @watcher.respond_to?(:name=)
      @watcher.report_on_exception = false
    end

    def watch_loop
      loop do
        snapshot = @lock.synchronize do
          @cond.wait(@lock) while @watched.empty?
          @watched.to_a
        end
        snapshot.each do |token, (thread, link)|
          token.cancel if thread.pending_interrupt? || !thread.alive? || link&.cancelled?
        end
        sleep POLL_INTERVAL
      end
    end
  end
end
