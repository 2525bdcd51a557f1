# frozen_string_literal: true

require_relative "test_helper"

begin
  require "faraday"
rescue LoadError
  warn "faraday not installed (apt-get install ruby-faraday): skipping the adapter tests"
end

if defined?(Faraday)
  require "libhttpx/faraday"
  require "timeout"
  require "tempfile"

  # The Faraday adapter against Debian's ruby-faraday (1.x; Faraday 2 works the same).
  class LibHTTPXFaradayTest < Minitest::Test
    include TestSupport

    def setup
      @server = TinyServer.new
      @conns = []
    end

    def teardown
      @conns.each(&:close)
      @server.stop
    end

    def conn(**adapter_opts, &block)
      Faraday.new(url: @server.url) do |f|
        block&.call(f)
        f.adapter :libhttpx, **adapter_opts
      end.tap { |c| @conns << c }
    end

    def test_registered
      assert_equal LibHTTPX::FaradayAdapter, Faraday::Adapter.lookup_middleware(:libhttpx)
    end

    def test_get_with_params_and_headers
      r = conn.get("/echo", { "q" => "ruby", "n" => "1" }, { "X-Custom" => "yes" })
      assert_equal 200, r.status
      assert_equal "OK", r.reason_phrase
      e = JSON.parse(r.body)
      assert_equal "GET", e["method"]
      assert_equal({ "q" => "ruby", "n" => "1" }, e["query"])
      assert_equal "yes", e["headers"]["x-custom"]
      assert_match(/\AFaraday v/, e["headers"]["user-agent"])
      assert_equal "application/json", r.headers["Content-Type"]
      assert_equal "application/json", r.headers["content-type"]
    end

    def test_response_headers_repeated_and_body_binary
      r = conn.get("/get")
      assert_equal "hello", r.body
      assert_equal "yes", r.headers["x-test"]
      assert_equal "a, b", r.headers["X-Multi"]
      assert r.success?
    end

    def test_post_bodies
      c = conn { |f| f.request :url_encoded }
      e = JSON.parse(c.post("/echo", "a" => "1", "b" => "two words").body)
      assert_equal "POST", e["method"]
      assert_equal "a=1&b=two+words", e["body"]
      assert_equal "application/x-www-form-urlencoded", e["content_type"]

      e = JSON.parse(conn.put("/echo", '{"n":1}', "Content-Type" => "application/json").body)
      assert_equal ["PUT", '{"n":1}', "application/json"], [e["method"], e["body"], e["content_type"]]

      e = JSON.parse(conn.delete("/echo").body)
      assert_equal "DELETE", e["method"]

      r = conn.head("/get")
      assert_equal 200, r.status
      assert_equal "", r.body
    end

    def test_multipart_io_body
      Tempfile.create("up") do |f|
        f.write("file-content-" * 1000)
        f.flush
        c = conn { |b| b.request :multipart }
        r = c.post("/echo", "file" => Faraday::UploadIO.new(f.path, "text/plain"), "name" => "x")
        e = JSON.parse(r.body)
        assert_match(%r{\Amultipart/form-data; boundary=}, e["content_type"])
        assert_includes e["body"], "file-content-" * 1000
        assert_includes e["body"], %(name="name")
      end
    end

    def test_gzip_decoded
      r = conn.get("/gzip")
      assert_equal "hello gzip" * 100, r.body
      assert_nil r.headers["content-encoding"]
    end

    def test_status_errors_through_middleware
      c = conn { |f| f.response :raise_error }
      assert_raises(Faraday::ResourceNotFound) { c.get("/status/404") }
      assert_equal 500, conn.get("/status/500").status
    end

    def test_read_timeout_maps_to_faraday_timeout_error
      c = conn
      t0 = monotonic
      err = assert_raises(Faraday::TimeoutError) { c.get("/slow") { |req| req.options.timeout = 0.2 } }
      assert_operator monotonic - t0, :<, 2.5
      assert_kind_of LibHTTPX::ReadTimeout, err.wrapped_exception
      assert_kind_of Timeout::Error, err.wrapped_exception
      assert_raises(Faraday::TimeoutError) { c.get("/slow") { |req| req.options.read_timeout = 0.2 } }
    end

    def test_connection_refused_maps_to_connection_failed
      c = Faraday.new(url: "http://127.0.0.1:#{closed_port}") { |f| f.adapter :libhttpx }
      @conns << c
      err = assert_raises(Faraday::ConnectionFailed) { c.get("/") { |req| req.options.open_timeout = 2 } }
      assert_kind_of LibHTTPX::ConnectError, err.wrapped_exception
      assert_kind_of Errno::ECONNREFUSED, err.wrapped_exception.cause
    end

    def test_streaming_on_data
      chunks = []
      sizes = []
      r = conn.get("/stream") do |req|
        req.options.on_data = proc do |chunk, received|
          chunks << chunk
          sizes << received
        end
      end
      want = (0..4).map { |i| "chunk-#{i}\n" }.join
      assert_equal want, chunks.join
      assert_equal want.bytesize, sizes.last
      assert_equal "", r.body
      assert_equal 200, r.status
    end

    def test_adapter_options_reach_the_client
      c = conn(limits: { max_connections: 2 }, timeout: 3)
      assert_equal "hello", c.get("/get").body
    end

    def test_timeout_timeout_around_faraday
      skip "libhttpx without cancel tokens" unless LibHTTPX::CancelToken.supported?
      c = conn
      t0 = monotonic
      assert_raises(Timeout::Error) { Timeout.timeout(0.2) { c.get("/slow?s=10") } }
      assert_operator monotonic - t0, :<, 1.5
    end

    def test_threads_share_a_connection
      c = conn
      bodies = Queue.new
      4.times.map { Thread.new { 3.times { bodies << c.get("/get").body } } }.each { |t| t.join(30) }
      assert_equal 12, bodies.size
    end
  end
end
