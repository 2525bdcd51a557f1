# frozen_string_literal: true

module LibHTTPX
  # Ruby objects handed to libhttpx as callback userdata. The userdata pointer is
  # an integer id into OBJECTS; FREE_FN (called exactly once by the library)
  # drops the entry, so each object stays alive exactly as long as the library
  # needs it. The FFI::Function objects are constants: never collected.
  #
  # Callbacks must not let an exception unwind through the C frames: they rescue
  # everything, remember the exception for the calling thread, and return an
  # error code; Native.call re-raises it once the C call has returned.
  module Callbacks
    # id => object. Reads and deletes need no lock (single Hash calls are atomic
    # under the GVL), so FREE_FN can run safely inside a GC finalizer.
    OBJECTS = {}
    ID_LOCK = Mutex.new
    @next_id = 0

    module_function

    def register(obj)
      id = ID_LOCK.synchronize { @next_id += 1 }
      OBJECTS[id] = obj
      FFI::Pointer.new(id)
    end

    def release(ptr) = OBJECTS.delete(ptr.address)
    def fetch(ptr) = OBJECTS[ptr.address]
    def live_count = OBJECTS.size

    def clear_pending = (Thread.current[:__httpx_callback_error] = nil)

    def take_pending
      e = Thread.current[:__httpx_callback_error]
      Thread.current[:__httpx_callback_error] = nil
      e
    end

    def stash(exc)
      Thread.current[:__httpx_callback_error] ||= exc
    end

    FREE_FN = FFI::Function.new(:void, [:pointer]) do |ud|
      Callbacks.release(ud)
    rescue Exception # rubocop:disable Lint/RescueException
      nil
    end

    # httpx_read_fn over an object with #read(n) (IO, StringIO) or #each (Rack body).
    READ_FN = FFI::Function.new(:uint32, %i[pointer pointer size_t pointer]) do |ud, buf, cap, n_out|
      src = Callbacks.fetch(ud)
      data = src.next_chunk(cap)
      n = data ? data.bytesize : 0
      buf.put_bytes(0, data, 0, n) if n.positive?
      n_out.write(:size_t, n)
      0
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.stash(e)
      Codes::CALLBACK
    end

    TRANSPORT_FN = FFI::Function.new(:uint32, %i[pointer pointer pointer]) do |ud, req, builder|
      Callbacks.fetch(ud).call(req, builder)
    rescue LibHTTPX::RecursiveCall => e
      Callbacks.stash(e)
      Codes::RECURSIVE_CALL
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.stash(e)
      Codes::CALLBACK
    end
  end

  module Callbacks
    # Hooks see a view of the request/response that is valid during the call only.
    REQUEST_HOOK_FN = FFI::Function.new(:uint32, %i[pointer pointer]) do |ud, req|
      view = Request._view(req)
      Callbacks.fetch(ud).call(view)
      Codes::OK
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.stash(e)
      Codes::CALLBACK
    ensure
      view&._detach
    end

    RESPONSE_HOOK_FN = FFI::Function.new(:uint32, %i[pointer pointer]) do |ud, resp|
      view = Response._view(resp)
      Callbacks.fetch(ud).call(view)
      Codes::OK
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.stash(e)
      Codes::CALLBACK
    ensure
      view&._detach
    end

    # block.call(sent, send_total, received, receive_total) (totals nil when
    # unknown); returning :abort, or raising, stops the transfer.
    PROGRESS_FN = FFI::Function.new(:int32, %i[pointer uint64 int64 uint64 int64]) do |ud, sent, st, recv, rt|
      Callbacks.fetch(ud).call(sent, st.negative? ? nil : st, recv, rt.negative? ? nil : rt) == :abort ? 1 : 0
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.stash(e)
      1
    end

    TRACE_EVENTS = {
      1 => :connect_start, 2 => :connected, 3 => :connection_reused, 4 => :tls_done,
      5 => :request_sent, 6 => :headers_received, 7 => :body_done, 8 => :failed
    }.freeze

    # block.call(event Symbol, seconds since the send began, detail String). It
    # cannot stop the transfer: an exception it raises is printed and dropped.
    TRACE_FN = FFI::Function.new(:void, %i[pointer uint32 double string]) do |ud, event, elapsed, detail|
      Callbacks.fetch(ud).call(TRACE_EVENTS.fetch(event, event), elapsed, detail&.dup&.force_encoding(Encoding::UTF_8))
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.warn_dropped("trace", e)
    end

    # Kinds of debug data (HTTPX_DEBUG_*).
    DEBUG_KINDS = { 0 => :text, 1 => :header_in, 2 => :header_out, 3 => :data_in, 4 => :data_out }.freeze

    DEBUG_FN = FFI::Function.new(:void, %i[pointer uint32 pointer size_t]) do |ud, kind, data, len|
      bytes = len.zero? || data.null? ? "".b : data.read_bytes(len)
      Callbacks.fetch(ud).call(DEBUG_KINDS.fetch(kind, kind), bytes)
    rescue Exception => e # rubocop:disable Lint/RescueException
      Callbacks.warn_dropped("debug", e)
    end

    def self.warn_dropped(what, exc)
      warn "libhttpx: exception in #{what} block ignored: #{exc.class}: #{exc.message}"
    rescue Exception # rubocop:disable Lint/RescueException
      nil
    end
  end

  # Adapts IO-like objects (read(n)), Strings and Rack-style bodies (each) to
  # the chunked pull interface of httpx_read_fn.
  class BodySource
    def initialize(body)
      @body = body
      @pending = +""
      @enum = nil
    end

    # Up to max bytes, or nil at the end.
    def next_chunk(max)
      if @body.respond_to?(:read)
        data = @body.read(max)
        return data.nil? || data.empty? ? nil : data.b
      end
      @enum ||= (@body.is_a?(String) ? [@body] : @body).each
      while @pending.empty?
        begin
          @pending = @enum.next.to_s.b
        rescue StopIteration
          return nil
        end
      end
      out = @pending.byteslice(0, max)
      @pending = @pending.byteslice(max..) || +""
      out
    end
  end
end
