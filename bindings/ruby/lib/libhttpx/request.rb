# frozen_string_literal: true

require "json"

module LibHTTPX
  # An HTTP request (HTTPX Request). Make one with Request.new (absolute URL) or
  # Client#build_request (client defaults merged in), edit it, send it with
  # Client#send (as often as you like), close it (or let the GC free it).
  #
  # The request a MockTransport block receives is a read-only view, valid only
  # during the block.
  class Request
    # Options accepted by Request.new, Client#build_request and Client#request.
    OPTION_KEYS = %i[params headers cookies content data json auth timeout total_timeout follow_redirects cancel].freeze

    # The LibHTTPX::CancelToken given as cancel: (or nil).
    attr_reader :cancel_token

    def initialize(method, url, **opts)
      out = Native.out_ptr
      Native.call { |err| Native.httpx_request_new(Native.str(method, "method").upcase, Native.str(url, "url"), out, err) }
      _own(out.read_pointer)
      apply(**opts)
    end

    # @api private
    def self._own(ptr) = allocate.tap { |r| r._own(ptr) }

    # @api private: a borrowed request (valid while owner lives, or during a callback).
    def self._view(ptr, owner: nil, builder: nil)
      allocate.tap { |r| r._view(ptr, owner, builder) }
    end

    # @api private
    def _own(ptr)
      @ptr = Native::RequestPtr.new(ptr)
      @owned = true
    end

    # @api private
    def _view(ptr, owner, builder)
      @ptr = ptr
      @owner = owner
      @builder = builder
      @owned = false
    end

    # @api private
    def _detach
      @ptr = nil
      @builder = nil
    end

    # @api private: a setter's code (the first failure raises with the library's message).
    def _setter(code, _err = nil, what = nil) = Native.check_setter(code, self, :httpx_request_error, to_ptr, what)

    # @api private
    def to_ptr
      raise InvalidArgument.new(Codes::INVALID_ARGUMENT, "request is closed") if @ptr.nil?

      @ptr
    end

    def close
      @ptr.free if @owned && @ptr
      @ptr = nil
    end

    def closed? = @ptr.nil?

    # A copy of this request (its own owner).
    def dup
      out = Native.out_ptr
      Native.check(Native.httpx_request_clone(to_ptr, out), nil, "clone failed")
      self.class._own(out.read_pointer).tap { |r| r.cancel = @cancel_token }
    end
    alias clone dup

    # The HTTP method ("GET"); with arguments, Object#method.
    def method(*args)
      return super unless args.empty?

      Native.httpx_request_method(to_ptr)
    end
    alias http_method method

    def url = Native.httpx_request_url(to_ptr).force_encoding(Encoding::UTF_8)

    def headers
      p = to_ptr
      name = Native.out_ptr
      value = Native.out_ptr
      pairs = Array.new(Native.httpx_request_header_count(p)) do |i|
        Native.check(Native.httpx_request_header_at(p, i, name, value))
        [name.read_pointer.read_string.force_encoding(Encoding::UTF_8), value.read_pointer.read_string.force_encoding(Encoding::UTF_8)]
      end
      Headers.new(pairs)
    end

    def [](name) = headers[name]

    # Replace every value of a header.
    def []=(name, value)
      _setter(Native.httpx_request_set_header(to_ptr, Native.str(name, "header name"), Native.str(value, "header value")), nil, "invalid header #{name}")
    end
    alias set_header []=

    def add_header(name, value)
      _setter(Native.httpx_request_add_header(to_ptr, Native.str(name, "header name"), Native.str(value, "header value")), nil, "invalid header #{name}")
      self
    end

    def remove_header(name)
      _setter(Native.httpx_request_remove_header(to_ptr, Native.str(name, "header name")))
      self
    end
    alias delete_header remove_header

    # Set a query param (replaces existing values of the key).
    def add_param(key, value)
      _setter(Native.httpx_request_add_param(to_ptr, Native.str(key, "param"), Native.str(value, "param value")))
      self
    end

    def set_cookie(name, value)
      _setter(Native.httpx_request_set_cookie(to_ptr, Native.str(name, "cookie name"), Native.str(value, "cookie value")), nil, "invalid cookie")
      self
    end

    # Body bytes (HTTPX content=), copied.
    def set_body(data, content_type: nil)
      data = data.to_s.b
      buf = FFI::MemoryPointer.new(:uint8, [data.bytesize, 1].max)
      buf.put_bytes(0, data)
      ct = content_type && Native.str(content_type, "content type")
      _setter(Native.httpx_request_set_body(to_ptr, buf, data.bytesize, ct), nil, "set body failed")
      self
    end

    def content=(data)
      set_body(data)
    end

    # JSON body (HTTPX json=): any object JSON.generate accepts.
    def json=(obj)
      _setter(Native.httpx_request_set_json(to_ptr, Native.str(JSON.generate(obj), "json")), nil, "invalid JSON")
    end

    # Urlencoded form (HTTPX data=): a Hash (Array values repeat the key).
    def form=(fields)
      pairs = fields.flat_map { |k, v| Array(v).map { |x| [Native.str(k, "form name"), Native.str(x, "form value")] } }
      names = FFI::MemoryPointer.new(:pointer, [pairs.size, 1].max)
      values = FFI::MemoryPointer.new(:pointer, [pairs.size, 1].max)
      keep = pairs.map { |n, v| [FFI::MemoryPointer.from_string(n), FFI::MemoryPointer.from_string(v)] }
      names.write_array_of_pointer(keep.map(&:first)) unless keep.empty?
      values.write_array_of_pointer(keep.map(&:last)) unless keep.empty?
      _setter(Native.httpx_request_set_form(to_ptr, names, values, pairs.size), nil, "invalid form")
    end

    # Stream the body at send time from an IO-like (#read(n)) or an Enumerable of
    # Strings. length >= 0 is sent as Content-Length, nil/negative is chunked.
    def body_stream(io, length: nil)
      ud = Callbacks.register(BodySource.new(io))
      code = Native.httpx_request_set_body_reader(to_ptr, Callbacks::READ_FN, ud, Callbacks::FREE_FN, length.nil? ? -1 : length)
      if code != Native::OK
        Callbacks.release(ud) # not taken on error
        _setter(code, nil, "set body reader failed")
      end
      self
    end

    # Auth for this request only; nil sends no auth at all (HTTPX auth=None).
    def auth=(auth)
      if auth.nil?
        _setter(Native.httpx_request_set_auth(to_ptr, nil))
      else
        LibHTTPX.with_native_auth(auth) { |a| _setter(Native.httpx_request_set_auth(to_ptr, a)) }
      end
    end

    # Numeric (all four), nil (none), or a Hash with :connect/:read/:write/:pool
    # (others default to :default, 5.0).
    def timeout=(t)
      if t.is_a?(Hash)
        c, r, w, p = LibHTTPX.timeouts_from_hash(t)
        _setter(Native.httpx_request_set_timeouts(to_ptr, c, r, w, p))
      else
        _setter(Native.httpx_request_set_timeout(to_ptr, Native.timeout_seconds(t)))
      end
    end

    # One deadline (seconds) for the whole send, body included; nil = none.
    # Expiry raises LibHTTPX::TotalTimeout. Needs a libhttpx with total timeouts.
    def total_timeout=(seconds)
      Native.require!(:httpx_request_set_total_timeout, "total_timeout")
      _setter(Native.httpx_request_set_total_timeout(to_ptr, Native.timeout_seconds(seconds)))
    end

    # A LibHTTPX::CancelToken (or nil): firing it stops sends of this request and
    # reads of their bodies with LibHTTPX::Cancelled.
    def cancel=(token)
      raise TypeError, "cancel: needs a LibHTTPX::CancelToken" unless token.nil? || token.is_a?(CancelToken)

      @cancel_token = token
    end

    def follow_redirects=(on)
      _setter(Native.httpx_request_set_follow_redirects(to_ptr, on ? 1 : 0))
    end

    # The body bytes (in a MockTransport block: the body as received).
    def content
      data = Native.out_ptr
      len = FFI::MemoryPointer.new(:size_t)
      code = if @builder
               Native.httpx_response_builder_request_body(@builder, data, len)
             else
               Native.httpx_request_body(to_ptr, data, len)
             end
      Native.check(code, nil, "request body not available")
      n = len.read(:size_t)
      n.zero? ? "".b : data.read_pointer.read_bytes(n)
    end
    alias body content

    def json(**opts) = JSON.parse(content, **opts)

    # @api private: keyword options of Client#request and friends.
    def apply(params: nil, headers: nil, cookies: nil, content: nil, data: nil, json: UNSET, auth: UNSET, timeout: UNSET,
              total_timeout: UNSET, follow_redirects: nil, cancel: UNSET)
      params&.each { |k, v| add_param(k, v) }
      headers&.each { |k, v| self[k] = v }
      cookies&.each { |k, v| set_cookie(k, v) }
      if content.respond_to?(:read) || (content.respond_to?(:each) && !content.is_a?(String))
        body_stream(content)
      elsif !content.nil?
        set_body(content)
      end
      self.form = data unless data.nil?
      self.json = json unless json.equal?(UNSET)
      self.auth = auth unless auth.equal?(UNSET)
      self.timeout = timeout unless timeout.equal?(UNSET)
      self.total_timeout = total_timeout unless total_timeout.equal?(UNSET)
      self.cancel = cancel unless cancel.equal?(UNSET)
      self.follow_redirects = follow_redirects unless follow_redirects.nil?
      self
    end

    # The first failure of a setter on this request (a LibHTTPX::Error with the
    # library's message, e.g. an invalid header value), or nil. Each setter
    # raises it at once; Client#send_request and Multi#add raise it again for a
    # request whose setter failed (and was rescued), so that request is never
    # sent without that edit. #dup starts without one.
    def setter_error = Native.setter_error(:httpx_request_error, to_ptr)

    # @api private: raise setter_error, if any.
    def _raise_setter_error!
      e = setter_error
      raise e, cause: e.errno if e
    end

    def inspect = @ptr ? "#<LibHTTPX::Request #{http_method} #{url}>" : "#<LibHTTPX::Request closed>"
  end

  # [connect, read, write, pool] from a Hash (missing keys: :default or 5.0).
  def self.timeouts_from_hash(hash)
    default = hash.fetch(:default, 5.0)
    %i[connect read write pool].map { |k| Native.timeout_seconds(hash.fetch(k, default)) }
  end
end
