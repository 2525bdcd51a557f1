# frozen_string_literal: true

module LibHTTPX
  # Several requests at once from one thread (libhttpx's multi interface, the
  # counterpart of HTTPX's AsyncClient): add requests, then let #run (or your own
  # loop over #io with IO.select, #timeout and #perform) drive them all; completions
  # come back as Multi::Completion (tag, response or error). Every callback of the
  # requests (hooks, auth flows, progress) runs inside #perform, on this thread.
  #
  #   LibHTTPX::Client.open do |client|
  #     multi = LibHTTPX::Multi.new(client)
  #     urls.each { |u| multi.add(client.build_request("GET", u), tag: u) }
  #     multi.run { |done| puts "#{done.tag}: #{done.response&.status_code || done.error}" }
  #     multi.close
  #   end
  #
  # A multi belongs to one thread at a time. Close it before its client (the GC
  # frees it otherwise); requests still in flight are dropped, their connections
  # closed.
  class Multi
    # A finished request: `tag` as given to #add, `response` (body read) or `error`
    # (the exception the blocking send would have raised).
    Completion = Struct.new(:tag, :response, :error) do
      def ok? = error.nil?

      # The response, or raise the error.
      def value!
        raise error if error

        response
      end
    end

    # @api private
    class Ptr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_multi_free(ptr)
    end

    def initialize(client)
      Native.require!(:httpx_multi_new, "Multi")
      @client = client
      out = Native.out_ptr
      client.send(:with_client) { |p| Native.check(Native.httpx_multi_new(p, out), nil, "multi_new failed") }
      @ptr = Ptr.new(out.read_pointer)
      @tags = {}
      @next_id = 1
      @io = nil
    end

    # Queue a send of (a copy of) `request` (a Request; or method + url + options as
    # Client#build_request). Returns at once; nothing is sent before #perform.
    # Returns the tag (`tag:`, else a fresh Integer).
    def add(request, url = nil, tag: nil, **opts)
      own = nil
      unless request.is_a?(Request)
        own = @client.build_request(request, url, **opts)
        request = own
      end
      request._raise_setter_error!
      id = @next_id
      @next_id += 1
      @tags[id] = tag.nil? ? id : tag
      begin
        Native.call { |err| Native.httpx_multi_add(to_ptr, request.to_ptr, id, err) }
      rescue StandardError
        @tags.delete(id)
        raise
      end
      @tags[id]
    ensure
      own&.close
    end

    # Requests not finished yet (completions not taken with #next included).
    def size = @tags.size

    # The multi's file descriptor as an IO (readable whenever #perform has work),
    # for IO.select or a fiber scheduler. Do not close or read it.
    def io
      @io ||= IO.for_fd(Native.httpx_multi_fd(to_ptr), autoclose: false)
    end

    # Seconds the caller may wait (on #io) before the next #perform: 0 when work is
    # pending, nil when there is no timer.
    def timeout
      out = FFI::MemoryPointer.new(:double)
      Native.check(Native.httpx_multi_timeout(to_ptr, out))
      t = out.read_double
      t.negative? ? nil : t
    end

    # Do the I/O that is ready, waiting up to `wait` seconds for some (0 = do not
    # wait). Returns the number of requests still running.
    def perform(wait = 0)
      running = FFI::MemoryPointer.new(:uint32)
      Callbacks.clear_pending
      code = Native.httpx_multi_perform(to_ptr, Float(wait), running)
      pending = Callbacks.take_pending
      raise pending if pending

      Native.check(code, nil, "multi_perform failed")
      running.read_uint32
    end

    # The next finished request (a Completion), or nil.
    def next
      out = Native.out_ptr
      Native.check(Native.httpx_multi_next(to_ptr, out))
      c = out.read_pointer
      return nil if c.null?

      begin
        tag = @tags.delete(Native.httpx_completion_tag(c))
        code = Native.httpx_completion_code(c)
        if code == Native::OK
          rout = Native.out_ptr
          Native.check(Native.httpx_completion_take_response(c, rout))
          Completion.new(tag, Response.new(rout.read_pointer), nil)
        else
          e = Native.httpx_completion_error(c)
          msg = e.null? ? Native.httpx_code_str(code) : Native.httpx_error_message(e).dup.force_encoding(Encoding::UTF_8)
          Completion.new(tag, nil, LibHTTPX::Error.for_code(code, msg))
        end
      ensure
        Native.httpx_completion_free(c)
      end
    end

    # Cancel the request added under `tag`: it completes with a LibHTTPX::Cancelled
    # error, its connection closed.
    def cancel(tag)
      @tags.each { |id, t| Native.check(Native.httpx_multi_cancel(to_ptr, id)) if t == tag }
      nil
    end

    # Drive every request to its end with IO.select on #io (bounded by
    # `timeout:` seconds overall, nil = none); yields each Completion (or returns
    # them all when no block is given).
    def run(timeout: nil)
      deadline = timeout && (Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout)
      all = []
      loop do
        while (c = self.next)
          block_given? ? yield(c) : all << c
        end
        break if @tags.empty?

        wait = self.timeout
        if deadline
          left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
          raise LibHTTPX::Error.for_code(Codes::TOTAL_TIMEOUT, "Multi#run timed out") if left <= 0

          wait = wait.nil? ? left : [wait, left].min
        end
        IO.select([io], nil, nil, wait) unless wait&.zero?
        perform(0)
      end
      block_given? ? nil : all
    end

    # Free the multi: requests still in flight are dropped (connections closed).
    def close
      return if @ptr.nil?

      @io = nil
      @ptr.free
      @ptr = nil
      @tags.clear
    end

    def closed? = @ptr.nil?

    # @api private
    def to_ptr
      raise LibHTTPX::InvalidArgument.new(1, "the multi is closed") if @ptr.nil?

      @ptr
    end
  end
end
