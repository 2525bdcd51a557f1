# frozen_string_literal: true

require "faraday"
require "libhttpx"

module LibHTTPX
  # A Faraday adapter (Faraday >= 1.0) over LibHTTPX::Client:
  #
  #   require "libhttpx/faraday"
  #   conn = Faraday.new(url: "https://api.example.com") do |f|
  #     f.adapter :libhttpx                   # options: anything LibHTTPX::Client.new takes,
  #   end                                     #   e.g. http2: true, limits: {...}
  #   conn.get("/users", page: 2).body
  #
  # - Bodies: String bodies and IO-like ones (multipart) are sent; the response
  #   body is decoded (gzip, deflate, br, zstd) and, as Net::HTTP does, the
  #   Content-Encoding header of a decoded body is dropped. Repeated response
  #   headers are joined with ", ".
  # - Timeouts: request options open_timeout (connect and pool wait), read_timeout,
  #   write_timeout, and timeout (the default of all three); unset means 60 s, as
  #   Net::HTTP. Expiry raises Faraday::TimeoutError (its #wrapped_exception is the
  #   LibHTTPX::TimeoutException, a Timeout::Error).
  # - Failures: TLS -> Faraday::SSLError; connection, network, protocol and proxy
  #   errors -> Faraday::ConnectionFailed (wrapped_exception.cause is the Errno,
  #   e.g. Errno::ECONNREFUSED).
  # - Streaming: req.options.on_data = proc { |chunk, received_bytes| ... } gets
  #   the body as it arrives (Faraday 2's third env argument too).
  # - SSL: ssl: { verify:, ca_file:, client_cert:, client_key:, min_version: }
  #   (ca_path and cert_store are not supported: verification then uses the
  #   system roots). Proxy: Faraday's proxy option (env proxies as Faraday finds
  #   them; libhttpx's own trust_env is off). Redirects and cookies are left to
  #   Faraday middleware, as with Net::HTTP.
  # - Timeout.timeout / Thread#raise around a Faraday call stop it promptly.
  #
  # One LibHTTPX::Client (a connection pool) per adapter and SSL/proxy setting;
  # #close (Faraday::Connection#close) closes them.
  class FaradayAdapter < ::Faraday::Adapter
    DEFAULT_TIMEOUT = 60
    DECODED = %w[gzip x-gzip deflate br zstd identity none].freeze

    def initialize(app = nil, opts = {}, &block)
      super(app, opts, &block)
      @clients = {}
      @lock = Mutex.new
    end

    def call(env)
      super
      request = build_request(env)
      begin
        perform(env, request)
      ensure
        request.close
      end
      @app.call(env)
    rescue LibHTTPX::TimeoutException => e
      raise ::Faraday::TimeoutError, e
    rescue LibHTTPX::TLSError => e
      raise ::Faraday::SSLError, e
    rescue LibHTTPX::TransportError, LibHTTPX::DecodingError => e
      raise ::Faraday::ConnectionFailed, e
    end

    def close
      clients = @lock.synchronize { @clients.values.tap { @clients = {} } }
      clients.each(&:close)
    end

    private

    def perform(env, request)
      client = client_for(env)
      if env[:request].stream_response?
        response = client.send_request(request, stream: true)
        begin
          stream_body(env, response)
          save(env, response, +"")
        ensure
          response.close
        end
      else
        response = client.send_request(request)
        begin
          save(env, response, env[:method] == :head ? +"" : response.content.dup)
        ensure
          response.close
        end
      end
    end

    def stream_body(env, response)
      on_data = env[:request].on_data
      size = 0
      response.each_chunk do |chunk|
        size += chunk.bytesize
        call_on_data(on_data, chunk, size, env)
      end
      call_on_data(on_data, +"", 0, env) if size.zero?
    end

    def call_on_data(on_data, chunk, size, env)
      if on_data.lambda? && on_data.arity == 2
        on_data.call(chunk, size)
      else
        on_data.call(chunk, size, env)
      end
    end

    def save(env, response, body)
      save_response(env, response.status_code, body, nil, response.reason_phrase) do |headers|
        response.headers.each do |name, value|
          next if name.casecmp?("content-encoding") && DECODED.include?(value.strip.downcase)

          headers[name] = headers.key?(name) ? "#{headers[name]}, #{value}" : value
        end
      end
    end

    def build_request(env)
      request = LibHTTPX::Request.new(env[:method].to_s.upcase, env[:url].to_s)
      begin
        body = env[:body]
        length = nil
        env[:request_headers]&.each do |name, value|
          if name.casecmp?("content-length")
            length = Integer(value, exception: false)
            next
          end
          request[name] = value
        end
        if body.respond_to?(:read)
          request.body_stream(body, length: length)
        elsif body && !body.to_s.empty?
          request.set_body(body.to_s)
        end
        request.timeout = timeouts(env[:request])
        request
      rescue Exception # rubocop:disable Lint/RescueException
        request.close
        raise
      end
    end

    def timeouts(req)
      default = req[:timeout] || DEFAULT_TIMEOUT
      open = req[:open_timeout] || default
      { connect: open, read: req[:read_timeout] || default, write: req[:write_timeout] || default, pool: open }
    end

    def client_for(env)
      opts = client_options(env)
      @lock.synchronize { @clients[opts] ||= LibHTTPX::Client.new(**opts) }
    end

    def client_options(env)
      opts = { trust_env: false, follow_redirects: false }
      opts.merge!(@connection_options.transform_keys(&:to_sym)) if @connection_options.is_a?(Hash)
      ssl = env[:ssl]
      if ssl && env[:url].scheme == "https"
        if ssl.respond_to?(:verify?) ? !ssl.verify? : ssl[:verify] == false
          opts[:verify] = false
        elsif ssl[:ca_file]
          opts[:verify] = ssl[:ca_file].to_s
        end
        if ssl[:client_cert] && ssl[:client_key]
          opts[:cert_pem] = [pem(ssl[:client_cert]), pem(ssl[:client_key])]
        end
        min = tls_version(ssl[:min_version])
        opts[:min_tls_version] = min if min
      end
      if (proxy = env[:request][:proxy])
        opts[:proxy] = proxy_url(proxy)
      end
      opts
    end

    def pem(obj) = obj.respond_to?(:to_pem) ? obj.to_pem : obj.to_s

    def tls_version(v)
      return { 0x303 => "1.2", 0x304 => "1.3" }[v] if v.is_a?(Integer)

      case v.to_s
      when /1[._]?3/ then "1.3"
      when /1[._]?2/ then "1.2"
      end
    end

    def proxy_url(proxy)
      uri = proxy[:uri].dup
      if proxy[:user]
        uri.user = URI.encode_www_form_component(proxy[:user])
        uri.password = URI.encode_www_form_component(proxy[:password].to_s)
      end
      uri.to_s
    end
  end
end

Faraday::Adapter.register_middleware(libhttpx: LibHTTPX::FaradayAdapter)
