# frozen_string_literal: true

module LibHTTPX
  # An HTTP client (HTTPX Client): a connection pool plus defaults merged into
  # every request. Safe to share between threads. #close it when done (or use
  # Client.open with a block); the GC frees it otherwise.
  class Client
    # Options (all optional), as HTTPX's Client(...):
    #   base_url:, headers: {}, params: {}, cookies: {},
    #   auth: [user, pass] | BasicAuth | DigestAuth,
    #   timeout: seconds | nil (none) | {connect:, read:, write:, pool:, default:},
    #   limits: {max_connections:, max_keepalive_connections:, keepalive_expiry:} (nil = no limit),
    #   verify: true | false | "ca.pem", cert: ["cert.pem", "key.pem"], trust_env: true,
    #   follow_redirects: false, max_redirects: 20, proxy: "http://proxy:3128",
    #   transport: Transport, mounts: {"http://host" => Transport}, http2: false,
    #   ca_pem: "-----BEGIN CERTIFICATE-----...", cert_pem: [cert_pem, key_pem], min_tls_version: 1.2 | 1.3,
    #   default_encoding: "utf-8", total_timeout: seconds (one deadline for the whole send),
    #   event_hooks: { request: [callables], response: [callables] } (HTTPX event_hooks=),
    #   progress: callable(sent, send_total, received, receive_total),
    #   trace: callable(event, elapsed, detail), debug: a Logger (or callable(kind, data))
    #
    # With a block, the block gets a Client::Hooks to register blocks instead:
    #   Client.new(base_url: url) do |on|
    #     on.request { |req| req["X-Trace"] = "1" }
    #     on.response { |resp| resp.raise_for_status }
    #     on.progress { |sent, send_total, received, receive_total| ... }
    #     on.trace { |event, elapsed, detail| ... }
    #   end
    def initialize(base_url: nil, headers: nil, params: nil, cookies: nil, auth: nil, timeout: UNSET, limits: nil,
                   verify: true, cert: nil, ca_pem: nil, cert_pem: nil, min_tls_version: nil, trust_env: true, follow_redirects: false, max_redirects: nil, proxy: nil,
                   transport: nil, mounts: nil, http2: false, default_encoding: nil, total_timeout: nil,
                   event_hooks: nil, progress: nil, trace: nil, debug: nil)
      hooks = Hooks.new(event_hooks: event_hooks, progress: progress, trace: trace, debug: debug)
      yield hooks if block_given?
      out = Native.out_ptr
      Native.check(Native.httpx_client_config_new(out))
      cfg = Native::ConfigPtr.new(out.read_pointer)
      begin
        # The first failed setter raises with the library's message (httpx_client_config_error).
        c = ->(code, what) { Native.check_setter(code, cfg, :httpx_client_config_error, cfg, what) }
        c.(Native.httpx_client_config_set_base_url(cfg, Native.str(base_url, "base_url")), "invalid base_url #{base_url.inspect}") if base_url
        headers&.each { |k, v| c.(Native.httpx_client_config_add_header(cfg, Native.str(k, "header"), Native.str(v, "header value")), "invalid header #{k}") }
        params&.each { |k, v| c.(Native.httpx_client_config_add_param(cfg, Native.str(k, "param"), Native.str(v, "param value")), "invalid param #{k}") }
        cookies&.each { |k, v| c.(Native.httpx_client_config_add_cookie(cfg, Native.str(k, "cookie"), Native.str(v, "cookie value"), nil, nil), "invalid cookie #{k}") }
        LibHTTPX.with_native_auth(auth) { |a| c.(Native.httpx_client_config_set_auth(cfg, a), "auth") } if auth
        unless timeout.equal?(UNSET)
          if timeout.is_a?(Hash)
            c.(Native.httpx_client_config_set_timeouts(cfg, *LibHTTPX.timeouts_from_hash(timeout)), "timeouts")
          else
            c.(Native.httpx_client_config_set_timeout(cfg, Native.timeout_seconds(timeout)), "timeout")
          end
        end
        if limits
          lim = ->(k, d) { v = limits.fetch(k, d); v.nil? ? -1 : Integer(v) }
          exp = limits.fetch(:keepalive_expiry, 5.0)
          c.(Native.httpx_client_config_set_limits(cfg, lim.(:max_connections, 100), lim.(:max_keepalive_connections, 20), exp.nil? ? -1.0 : Float(exp)), "limits")
        end
        case verify
        when true, false then c.(Native.httpx_client_config_set_verify(cfg, verify ? 1 : 0), "verify")
        else c.(Native.httpx_client_config_set_ca_file(cfg, Native.str(verify, "CA file")), "CA file")
        end
        c.(Native.httpx_client_config_set_client_cert(cfg, Native.str(cert[0], "cert"), Native.str(cert[1], "key")), "cert") if cert
        if ca_pem
          buf, len = Native.bytes(ca_pem)
          c.(Native.httpx_client_config_set_ca_pem(cfg, buf, len), "invalid ca_pem")
        end
        if cert_pem
          cbuf, clen = Native.bytes(cert_pem[0])
          kbuf, klen = Native.bytes(cert_pem[1])
          c.(Native.httpx_client_config_set_client_cert_pem(cfg, cbuf, clen, kbuf, klen), "invalid cert_pem")
        end
        if min_tls_version
          v = { "1.2" => 12, "1.3" => 13 }.fetch(min_tls_version.to_s) { raise ArgumentError, "min_tls_version: 1.2 or 1.3, not #{min_tls_version.inspect}" }
          c.(Native.httpx_client_config_set_min_tls_version(cfg, v), "min_tls_version")
        end
        c.(Native.httpx_client_config_set_trust_env(cfg, trust_env ? 1 : 0), "trust_env")
        c.(Native.httpx_client_config_set_follow_redirects(cfg, follow_redirects ? 1 : 0), "follow_redirects")
        c.(Native.httpx_client_config_set_max_redirects(cfg, Integer(max_redirects)), "max_redirects") if max_redirects
        c.(Native.httpx_client_config_add_proxy(cfg, "all://", Native.str(proxy, "proxy"), 0), "invalid proxy") if proxy
        c.(Native.httpx_client_config_set_http2(cfg, 1), "http2") if http2
        c.(Native.httpx_client_config_set_default_encoding(cfg, Native.str(default_encoding, "encoding")), "encoding") if default_encoding
        if transport
          transport._raise_setter_error!
          c.(Native.httpx_client_config_set_transport(cfg, transport.to_ptr), "transport")
        end
        mounts&.each do |key, t|
          t&._raise_setter_error!
          c.(Native.httpx_client_config_mount(cfg, Native.str(key, "mount key"), t&.to_ptr), "invalid mount #{key}")
        end
        unless total_timeout.nil?
          Native.require!(:httpx_client_config_set_total_timeout, "total_timeout")
          c.(Native.httpx_client_config_set_total_timeout(cfg, Float(total_timeout)), "total_timeout")
        end
        hooks.install(cfg)
        if (e = Native.setter_error(:httpx_client_config_error, cfg)) # every setter above checks; a backstop
          raise e, cause: e.errno
        end
        out = Native.out_ptr
        Native.call { |err| Native.httpx_client_new(cfg, out, err) }
        @ptr = Native::ClientPtr.new(out.read_pointer)
      ensure
        cfg.free
      end
      @lock = Mutex.new
      @users = 0
      @closed = false
    end

    # Client.open(**opts) { |client| ... }: closed when the block returns.
    def self.open(**opts)
      client = new(**opts)
      return client unless block_given?

      begin
        yield client
      ensure
        client.close
      end
    end

    # HTTPX client.build_request: a Request with the client's defaults merged in.
    def build_request(method, url, **opts)
      with_client do |p|
        out = Native.out_ptr
        Native.call { |err| Native.httpx_request_build(p, Native.str(method, "method").upcase, Native.str(url, "url"), out, err) }
        req = Request._own(out.read_pointer)
        begin
          req.apply(**opts)
        rescue Exception # rubocop:disable Lint/RescueException
          req.close
          raise
        end
      end
    end

    # Send a built request (it may be sent again). stream: true returns once the
    # head is in: read the body with Response#each_chunk / #read.
    # (Called with a Symbol or String first, this is Object#send.)
    def send(*args, **kwargs, &block)
      return super if args.first.is_a?(Symbol) || args.first.is_a?(String)

      send_request(*args, **kwargs)
    end

    # Timeout.timeout, Thread#raise and Thread#kill stop it promptly (see
    # LibHTTPX::Interrupts); so does firing the request's cancel: token.
    def send_request(request, stream: false)
      request._raise_setter_error! # a setter failed on it (and was rescued): not sent without that edit
      with_client do |p|
        out = Native.out_ptr
        rp = request.to_ptr
        token = stream ? Interrupts.new_token : Interrupts.thread_token
        Native.check(Native.httpx_request_set_cancel(rp, token.to_ptr), nil, "set cancel failed") if token
        link = request.cancel_token
        Interrupts.guard(token, link: link) do
          Native.call do |err|
            stream ? Native.httpx_client_send_stream(p, rp, out, err) : Native.httpx_client_send(p, rp, out, err)
          end
          Response.new(out.read_pointer, token: token, link: link)
        end
      end
    end

    # Build, send and free a request; keyword options as Request#apply
    # (params:, headers:, cookies:, content:, data:, json:, auth:, timeout:, follow_redirects:).
    def request(method, url, **opts)
      req = build_request(method, url, **opts)
      begin
        send_request(req)
      ensure
        req.close
      end
    end

    %w[get head options delete post put patch].each do |m|
      define_method(m) { |url, **opts| request(m.upcase, url, **opts) }
    end

    # Streaming request: yields the response with its body unread and closes it
    # after the block (HTTPX client.stream). Without a block, returns it.
    def stream(method, url, **opts)
      req = build_request(method, url, **opts)
      begin
        resp = send_request(req, stream: true)
      ensure
        req.close
      end
      return resp unless block_given?

      begin
        yield resp
      ensure
        resp.close
      end
    end

    # Cookie jar: set one for every host (domain nil) or a given domain.
    def set_cookie(name, value, domain: nil, path: nil)
      with_client { |p| Native.check(Native.httpx_client_cookie_set(p, Native.str(name, "cookie"), Native.str(value, "cookie value"), domain, path), nil, "invalid cookie") }
    end

    # Close the pool and free the client once in-flight calls finish. Responses
    # being streamed keep working. Idempotent.
    def close
      @lock.synchronize do
        return if @closed

        @closed = true
        if @users.zero?
          @ptr.free
        else
          Native.httpx_client_close(@ptr)
        end
      end
      nil
    end

    def closed? = @closed

    private

    def with_client
      @lock.synchronize do
        raise ClientClosed.new(Codes::CLIENT_CLOSED, "Cannot send a request, as the client has been closed.") if @closed

        @users += 1
      end
      begin
        yield @ptr
      ensure
        @lock.synchronize do
          @users -= 1
          @ptr.free if @closed && @users.zero?
        end
      end
    end
  end

  class Client
    # Collects the blocks of a client (hooks, progress, trace, debug) and hands
    # them to the config. Blocks run on the thread that sends (or reads the body),
    # under the GVL; see the README for what each receives.
    class Hooks
      def initialize(event_hooks: nil, progress: nil, trace: nil, debug: nil)
        @request = Array((event_hooks || {})[:request] || (event_hooks || {})["request"])
        @response = Array((event_hooks || {})[:response] || (event_hooks || {})["response"])
        @progress = progress
        @trace = trace
        @debug = debug && Hooks.debug_callable(debug)
      end

      # Runs before each request is sent (redirects and auth steps too); may edit it.
      def request(&block) = @request << block

      # Runs when each response head arrives; may read the body or raise.
      def response(&block) = @response << block

      # |sent, send_total, received, receive_total|; return :abort to stop.
      def progress(&block) = (@progress = block)

      # |event, elapsed, detail|: :connect_start, :connected, :connection_reused,
      # :tls_done, :request_sent, :headers_received, :body_done, :failed (newer libhttpx).
      def trace(&block) = (@trace = block)

      # |kind, data|: :text, :header_out, :header_in, :data_out, :data_in.
      def debug(&block) = (@debug = block)

      # @api private
      def install(cfg)
        @request.each { |h| add(cfg, :httpx_client_config_add_request_hook, Callbacks::REQUEST_HOOK_FN, h) }
        @response.each { |h| add(cfg, :httpx_client_config_add_response_hook, Callbacks::RESPONSE_HOOK_FN, h) }
        add(cfg, :httpx_client_config_set_progress, Callbacks::PROGRESS_FN, @progress) if @progress
        add(cfg, :httpx_client_config_set_trace, Callbacks::TRACE_FN, @trace) if @trace
        return unless @debug

        Native.require!(:httpx_client_config_set_debug, "debug:")
        add(cfg, :httpx_client_config_set_debug, Callbacks::DEBUG_FN, @debug)
      end

      # A Logger-like object (#debug) becomes curl -v style lines; a callable is kept.
      def self.debug_callable(target)
        return target if target.respond_to?(:call)
        raise ArgumentError, "debug: needs a Logger (#debug) or a callable" unless target.respond_to?(:debug)

        DebugLog.new(target)
      end

      private

      def add(cfg, fn, cb, callable)
        raise ArgumentError, "#{fn}: #{callable.inspect} does not respond to #call" unless callable.respond_to?(:call)

        ud = Callbacks.register(callable)
        code = Native.public_send(fn, cfg, cb, ud, Callbacks::FREE_FN)
        return if code == Native::OK

        Callbacks.release(ud) # not taken on error
        Native.check(code, nil, "#{fn} failed")
      end
    end

    # Writes debug data to a Logger as curl -v does: "* text", "> header out",
    # "< header in", "=> Send data, N bytes", "<= Recv data, N bytes".
    class DebugLog
      PREFIX = { text: "* ", header_out: "> ", header_in: "< " }.freeze

      def initialize(logger)
        @logger = logger
      end

      def call(kind, data)
        case kind
        when :data_out then @logger.debug("=> Send data, #{data.bytesize} bytes")
        when :data_in then @logger.debug("<= Recv data, #{data.bytesize} bytes")
        else
          prefix = PREFIX.fetch(kind, "* ")
          data.dup.force_encoding(Encoding::UTF_8).scrub.each_line do |line|
            line = line.chomp
            @logger.debug("#{prefix}#{line}") unless line.empty?
          end
        end
      end
    end
  end

  # Top-level helpers (HTTPX httpx.get(...)): a fresh client per call.
  %w[get head options delete post put patch].each do |m|
    define_singleton_method(m) do |url, **opts|
      client_keys = %i[timeout verify follow_redirects auth trust_env]
      copts = opts.slice(*client_keys)
      Client.open(**copts) { |c| c.request(m.upcase, url, **opts.except(*client_keys)) }
    end
  end

  def self.request(method, url, **opts) = Client.open { |c| c.request(method, url, **opts) }
end
