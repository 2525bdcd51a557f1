# frozen_string_literal: true

require "json"

module LibHTTPX
  # An HTTP response (HTTPX Response). From Client#request/#get... the body is
  # already read; from Client#stream read it with #each_chunk or #read.
  # #close frees it (the GC does too).
  class Response
    # @api private: owns ptr; token/link: the CancelTokens of the send (see Interrupts).
    def initialize(ptr, token: nil, link: nil)
      @ptr = Native::ResponsePtr.new(ptr)
      @token = token
      @link = link
      @owned = true
    end

    # @api private: a borrowed response (a response hook's), valid during the call.
    def self._view(ptr) = allocate.tap { |r| r._view(ptr) }

    # @api private
    def _view(ptr)
      @ptr = ptr
      @owned = false
    end

    # @api private
    def _detach = (@ptr = nil)

    # @api private
    def to_ptr
      raise StreamError.new(nil, "the response is closed") if @ptr.nil?

      @ptr
    end

    def status_code = Native.httpx_response_status(to_ptr)
    alias status status_code
    alias code status_code

    def reason_phrase = Native.httpx_response_reason(to_ptr).force_encoding(Encoding::UTF_8)
    def http_version = Native.httpx_response_http_version(to_ptr)
    def url = Native.httpx_response_url(to_ptr).force_encoding(Encoding::UTF_8)

    # Seconds (Float) from sending the request to the end of the body.
    def elapsed = Native.httpx_response_elapsed(to_ptr)

    def headers
      @headers ||= begin
        p = to_ptr
        name = Native.out_ptr
        value = Native.out_ptr
        Headers.new(Array.new(Native.httpx_response_header_count(p)) do |i|
          Native.check(Native.httpx_response_header_at(p, i, name, value))
          [name.read_pointer.read_string.force_encoding(Encoding::UTF_8), value.read_pointer.read_string.force_encoding(Encoding::UTF_8)]
        end)
      end
    end

    def [](name) = headers[name]

    # The whole decoded body, binary (ASCII-8BIT).
    def content
      @content ||= begin
        data = Native.out_ptr
        len = FFI::MemoryPointer.new(:size_t)
        blocking { Native.call { |err| Native.httpx_response_body(to_ptr, data, len, err) } }
        n = len.read(:size_t)
        (n.zero? ? "".b : data.read_pointer.read_bytes(n)).freeze
      end
    end
    alias body content

    # The body decoded to UTF-8 by its charset.
    def text
      @text ||= begin
        data = Native.out_ptr
        len = FFI::MemoryPointer.new(:size_t)
        blocking { Native.call { |err| Native.httpx_response_text(to_ptr, data, len, err) } }
        n = len.read(:size_t)
        (n.zero? ? +"" : data.read_pointer.read_bytes(n)).force_encoding(Encoding::UTF_8).freeze
      end
    end
    alias to_s text

    def json(**opts) = JSON.parse(text, **opts)

    def success? = (200..299).cover?(status_code)
    alias is_success success?

    # HTTPX raise_for_status: self for 2xx, else raises LibHTTPX::HTTPStatusError.
    def raise_for_status
      err = Native.out_ptr
      Native.check(Native.httpx_response_raise_for_status(to_ptr, err), err)
      self
    end

    # Streaming read, like IO#read: up to n bytes (nil at the end), or all
    # that is left when n is nil.
    def read(n = nil)
      if n.nil?
        out = +"".b
        each_chunk { |c| out << c }
        return out
      end
      raise ArgumentError, "negative length" if n.negative?

      out = +"".b
      while out.bytesize < n
        chunk = read_some(n - out.bytesize)
        break if chunk.nil?

        out << chunk
      end
      out.empty? && n.positive? ? nil : out
    end

    # Yield the decoded body chunk by chunk (at most chunk_size bytes each).
    def each_chunk(chunk_size = 64 * 1024)
      return to_enum(:each_chunk, chunk_size) unless block_given?

      while (chunk = read_some(chunk_size))
        yield chunk
      end
      self
    end
    alias iter_bytes each_chunk

    # The request as sent (read-only, valid while the response is open).
    def request = Request._view(Native.httpx_response_request(to_ptr), owner: self)

    def history_count = Native.httpx_response_history_count(to_ptr)

    def close
      @ptr.free if @owned && @ptr
      @ptr = nil
    end

    def closed? = @ptr.nil?

    def inspect = @ptr ? "#<LibHTTPX::Response [#{status_code} #{reason_phrase}]>" : "#<LibHTTPX::Response closed>"

    private

    def blocking(&block) = Interrupts.guard(@token, link: @link, &block)

    def read_some(max)
      @buf = FFI::MemoryPointer.new(:uint8, max) if @buf.nil? || @buf.size < max
      n = FFI::MemoryPointer.new(:size_t)
      blocking { Native.call { |err| Native.httpx_response_read(to_ptr, @buf, max, n, err) } }
      got = n.read(:size_t)
      got.zero? ? nil : @buf.read_bytes(got)
    end
  end
end
