# frozen_string_literal: true

require "json"

module LibHTTPX
  # What a MockTransport block answers (HTTPX's Response(status, ...) in a handler).
  # stream: an IO-like (#read(n)) or Enumerable of Strings sent as the body
  # while the client reads it.
  class MockResponse
    attr_reader :status, :headers, :body, :stream

    def initialize(status = 200, headers: {}, content: nil, text: nil, json: UNSET, stream: nil)
      @status = Integer(status)
      @headers = headers.to_a
      @stream = stream
      if !json.equal?(UNSET)
        @body = JSON.generate(json)
        @headers += [["Content-Type", "application/json"]] unless header?("content-type")
      elsif text
        @body = text.to_s
        @headers += [["Content-Type", "text/plain; charset=utf-8"]] unless header?("content-type")
      else
        @body = content
      end
    end

    # @api private
    def fill(builder)
      Native.check(Native.httpx_response_builder_set_status(builder, @status), nil, "invalid status #{@status}")
      @headers.each do |name, value|
        Native.check(Native.httpx_response_builder_add_header(builder, Native.str(name, "header name"), Native.str(value, "header value")), nil, "invalid header #{name}")
      end
      if @stream
        ud = Callbacks.register(BodySource.new(@stream))
        code = Native.httpx_response_builder_set_body_reader(builder, Callbacks::READ_FN, ud, Callbacks::FREE_FN)
        if code != Native::OK
          Callbacks.release(ud)
          Native.check(code, nil, "set body reader failed")
        end
      elsif @body
        data = @body.to_s.b
        buf = FFI::MemoryPointer.new(:uint8, [data.bytesize, 1].max)
        buf.put_bytes(0, data)
        Native.check(Native.httpx_response_builder_set_body(builder, buf, data.bytesize), nil, "set body failed")
      end
    end

    # A Rack-style [status, headers, body] triple, or a MockResponse.
    def self.coerce(answer)
      case answer
      when MockResponse then answer
      when Array
        status, headers, body = answer
        if body.nil? || body.is_a?(String) || body.is_a?(Array)
          new(status, headers: headers || {}, content: body.is_a?(Array) ? body.join : body)
        else
          new(status, headers: headers || {}, stream: body)
        end
      when Integer then new(answer)
      when nil then new(200)
      else raise TypeError, "a MockTransport block must return a LibHTTPX::MockResponse or [status, headers, body], not #{answer.class}"
      end
    end

    private

    def header?(name) = @headers.any? { |n, _| n.to_s.casecmp?(name) }
  end

  # Base of transports given to Client.new(transport:, mounts:).
  class Transport
    # @api private
    def to_ptr
      raise InvalidArgument.new(Codes::INVALID_ARGUMENT, "transport is closed") if @ptr.nil?

      @ptr
    end

    # The first failure of a setter on this transport (a LibHTTPX::Error with
    # the library's message), or nil. Client.new raises it for a transport (or
    # mount) whose setter failed.
    def setter_error = Native.setter_error(:httpx_transport_error, to_ptr)

    # @api private
    def _raise_setter_error!
      e = setter_error
      raise e, cause: e.errno if e
    end

    # @api private: a setter's code (the first failure raises with the library's message).
    def _setter(code, what = nil) = Native.check_setter(code, self, :httpx_transport_error, to_ptr, what)

    # Release this handle; clients using the transport keep it alive.
    def close
      @ptr&.free
      @ptr = nil
    end
  end

  # Answers requests in-process with a block (HTTPX MockTransport), so code that
  # uses a Client can be tested without a network:
  #
  #   transport = LibHTTPX::MockTransport.new do |request|
  #     LibHTTPX::MockResponse.new(200, json: { "text" => "Hello, world!" })
  #   end
  #   client = LibHTTPX::Client.new(transport: transport)
  #
  # The block gets a read-only LibHTTPX::Request (#method, #url, #headers,
  # #content) and returns a MockResponse or a Rack-style [status, headers, body].
  # An exception it raises is re-raised by the client's call (unless
  # raise_app_exceptions: false, which answers 500 instead).
  class MockTransport < Transport
    Handler = Struct.new(:block) do
      def call(req_ptr, builder)
        view = Request._view(req_ptr, builder: builder)
        answer = block.call(view)
        MockResponse.coerce(answer).fill(builder)
        Codes::OK
      ensure
        view&._detach
      end
    end

    def initialize(raise_app_exceptions: true, &block)
      raise ArgumentError, "MockTransport needs a block" unless block

      ud = Callbacks.register(Handler.new(block))
      out = Native.out_ptr
      code = Native.httpx_transport_callback(Callbacks::TRANSPORT_FN, ud, Callbacks::FREE_FN, out)
      if code != Native::OK
        Callbacks.release(ud)
        Native.check(code, nil, "httpx_transport_callback failed")
      end
      @ptr = Native::TransportPtr.new(out.read_pointer)
      _setter(Native.httpx_transport_callback_set_raise_errors(@ptr, raise_app_exceptions ? 1 : 0), "raise_app_exceptions") unless raise_app_exceptions
    end
  end

  # A network transport with its own pool (HTTPX HTTPTransport), for mounts.
  class HTTPTransport < Transport
    # local_address: bind the connections to this local IP address (HTTPX
    # HTTPTransport(local_address=...)); a bad one raises LibHTTPX::InvalidArgument.
    def initialize(retries: 0, local_address: nil)
      out = Native.out_ptr
      Native.check(Native.httpx_transport_http(out))
      @ptr = Native::TransportPtr.new(out.read_pointer)
      _setter(Native.httpx_transport_http_set_retries(@ptr, retries), "retries") if retries.positive?
      self.local_address = local_address if local_address
    end

    # Bind the connections to a local IP address (before first use).
    def local_address=(addr)
      Native.require!(:httpx_transport_http_set_local_address, "local_address")
      _setter(Native.httpx_transport_http_set_local_address(to_ptr, Native.str(addr, "local address")), "local_address")
    end
  end
end
