# frozen_string_literal: true

require_relative "test_helper"
require "stringio"

class LibHTTPXBindingTest < Minitest::Test
  def setup
    @server = TinyServer.new
    @clients = []
  end

  def teardown
    @clients.each(&:close)
    @server.stop
  end

  def client(**opts)
    LibHTTPX::Client.new(trust_env: false, **opts).tap { |c| @clients << c }
  end

  def test_version_and_error_tree
    assert_match(/\A\d+\.\d+\.\d+/, LibHTTPX.lib_version)
    assert LibHTTPX::ReadTimeout < LibHTTPX::TimeoutException
    assert LibHTTPX::TimeoutException < LibHTTPX::TransportError
    assert LibHTTPX::TransportError < LibHTTPX::RequestError
    assert LibHTTPX::RequestError < LibHTTPX::HTTPError
    assert LibHTTPX::ConnectError < LibHTTPX::NetworkError
    assert LibHTTPX::HTTPStatusError < LibHTTPX::HTTPError
    assert LibHTTPX::HTTPError < LibHTTPX::Error
  end

  def test_get
    c = client
    r = c.get(@server.url("/get"))
    assert_equal 200, r.status_code
    assert_equal "OK", r.reason_phrase
    assert_equal "HTTP/1.1", r.http_version
    assert_equal "hello", r.content
    assert_equal Encoding::ASCII_8BIT, r.content.encoding
    assert_equal "hello", r.text
    assert_equal Encoding::UTF_8, r.text.encoding
    assert_equal "yes", r.headers["x-test"]
    assert_equal "yes", r["X-TEST"]
    assert_equal %w[a b], r.headers.get_list("X-Multi")
    assert_equal "a, b", r.headers["x-multi"]
    assert(r.headers.any? { |n, v| n.casecmp?("content-type") && v.start_with?("text/plain") })
    assert_equal @server.url("/get"), r.url
    assert_operator r.elapsed, :>, 0
    assert_same r, r.raise_for_status
    assert r.success?
    assert_equal "GET", r.request.method
    assert_equal @server.url("/get"), r.request.url
    r.close
    r.close # idempotent
    assert r.closed?
  end

  def test_top_level_get
    r = LibHTTPX.get(@server.url("/get"), trust_env: false)
    assert_equal 200, r.status
    assert_equal "hello", r.text
  end

  def test_post_echo
    c = client(base_url: @server.url)
    r = c.post("/echo", content: "ping", headers: { "Content-Type" => "text/plain" })
    e = r.json
    assert_equal "POST", e["method"]
    assert_equal "ping", e["body"]
    assert_equal "text/plain", e["content_type"]

    r = c.post("/echo", json: { "name" => "httpx" })
    assert_equal({ "name" => "httpx" }, JSON.parse(r.json["body"]))
    assert_equal "application/json", r.json["content_type"]

    r = c.post("/echo", data: { "a" => "1", "b" => %w[x y] })
    assert_equal "a=1&b=x&b=y", r.json["body"]
    assert_equal "application/x-www-form-urlencoded", r.json["content_type"]
  end

  def test_build_request_and_send
    c = client(base_url: @server.url, headers: { "X-Api-Key" => "secret", "X-Client" => "ruby" }, params: { "a" => "1" })
    req = c.build_request("put", "/echo")
    req.add_param("b", "2")
    req.remove_header("X-Api-Key")
    req["X-One"] = "1"
    req.json = { "n" => 1 }
    assert_equal "PUT", req.method
    assert_includes req.url, "a=1"
    assert_includes req.url, "b=2"
    assert_nil req["x-api-key"]
    assert_equal "1", req["x-one"]
    assert_equal '{"n":1}', req.content
    2.times do # a request may be sent again
      e = c.send(req).json
      assert_equal "PUT", e["method"]
      assert_equal({ "a" => "1", "b" => "2" }, e["query"])
      assert_equal '{"n":1}', e["body"]
      assert_nil e["headers"]["x-api-key"]
      assert_equal "ruby", e["headers"]["x-client"]
      assert_equal "1", e["headers"]["x-one"]
    end
    assert_equal 3, c.send(:then) { 3 } # Object#send still works
    req.close
    assert_raises(LibHTTPX::InvalidArgument) { req.url }
  end

  def test_streamed_upload
    c = client
    r = c.post(@server.url("/echo"), content: StringIO.new("x" * 100_000))
    assert_equal 100_000, r.json["body"].bytesize
    req = LibHTTPX::Request.new("POST", @server.url("/echo"))
    req.body_stream(%w[ab cd ef].each, length: 6)
    assert_equal "abcdef", c.send(req).json["body"]
    req.close
  end

  def test_raise_for_status
    r = client.get(@server.url("/status/404"))
    assert_equal 404, r.status_code
    err = assert_raises(LibHTTPX::HTTPStatusError) { r.raise_for_status }
    assert_equal LibHTTPX::Codes::HTTP_STATUS, err.code
    assert_includes err.message, "404"
  end

  def test_read_timeout
    c = client(timeout: { connect: 2, read: 0.2, write: 2, pool: 2 })
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    err = assert_raises(LibHTTPX::ReadTimeout) { c.get(@server.url("/slow")) }
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0, :<, 2.5
    assert_kind_of LibHTTPX::TimeoutException, err
    assert_kind_of LibHTTPX::TransportError, err
    assert_equal LibHTTPX::Codes::READ_TIMEOUT, err.code
    assert_equal "READ_TIMEOUT", err.code_name
    assert err.timeout?
    # per-request timeout
    assert_raises(LibHTTPX::TimeoutException) { client.get(@server.url("/slow"), timeout: 0.15) }
  end

  def test_streaming_read
    c = client
    want = (0..4).map { |i| "chunk-#{i}\n" }.join
    chunks = []
    c.stream("GET", @server.url("/stream")) { |r| r.each_chunk(4) { |ch| chunks << ch } }
    assert_equal want, chunks.join
    assert(chunks.all? { |ch| ch.bytesize <= 4 })

    r = c.stream("GET", @server.url("/stream"))
    assert_equal 200, r.status_code
    assert_equal "chunk-0\nch", r.read(10)
    assert_equal want[10..], r.read
    assert_nil r.read(5)
    r.close
  end

  def test_bad_url
    assert_raises(LibHTTPX::InvalidURL) { LibHTTPX::Request.new("GET", "http://exa mple.com/") }
    assert_raises(LibHTTPX::UnsupportedProtocol) { client.get("ftp://127.0.0.1/x") }
    assert_raises(LibHTTPX::InvalidURL) { LibHTTPX::Client.new(base_url: "http://exa mple.com") }
    assert_raises(LibHTTPX::InvalidArgument) { LibHTTPX::Request.new("GET", "http://a\0b/") }
  end

  def test_connect_error
    s = TCPServer.new("127.0.0.1", 0)
    port = s.addr[1]
    s.close
    err = assert_raises(LibHTTPX::ConnectError) { client(timeout: 2).get("http://127.0.0.1:#{port}/") }
    assert_kind_of LibHTTPX::NetworkError, err
  end

  def test_basic_auth
    c = client(auth: %w[user pass])
    assert_equal "welcome user", c.get(@server.url("/auth")).text
    assert_equal 401, c.get(@server.url("/auth"), auth: nil).status_code
    assert_equal 200, client.get(@server.url("/auth"), auth: LibHTTPX::BasicAuth.new("user", "pass")).status_code
  end

  # HTTPX's MockTransport example: echo the request back as JSON.
  def test_mock_transport_json_echo
    calls = 0
    transport = LibHTTPX::MockTransport.new do |request|
      calls += 1
      LibHTTPX::MockResponse.new(200, json: { "method" => request.method, "url" => request.url,
                                           "body" => request.content, "token" => request["x-token"] })
    end
    c = client(transport: transport, base_url: "http://testserver", headers: { "X-Token" => "t0k" })
    transport.close # the client keeps it alive
    r = c.post("/items", json: { "n" => 1 })
    assert_equal 200, r.status_code
    assert_equal "application/json", r.headers["content-type"]
    assert_equal({ "method" => "POST", "url" => "http://testserver/items", "body" => '{"n":1}', "token" => "t0k" }, r.json)
    assert_equal 1, calls
  end

  def test_mock_transport_errors_and_streaming
    boom = Class.new(StandardError)
    transport = LibHTTPX::MockTransport.new do |request|
      case request.url
      when %r{/fail\z} then raise boom, "boom"
      when %r{/rack\z} then [201, { "X-Rack" => "1" }, ["a", "b"]]
      when %r{/stream\z} then LibHTTPX::MockResponse.new(200, stream: StringIO.new("z" * 70_000))
      when %r{/edit\z} then request["X"] = "y" # read-only view
      when %r{/bad\z} then :nonsense
      end
    end
    c = client(transport: transport)
    assert_raises(boom) { c.get("http://mock/fail") }
    assert_raises(LibHTTPX::InvalidArgument) { c.get("http://mock/edit") }
    assert_raises(TypeError) { c.get("http://mock/bad") }
    r = c.get("http://mock/rack")
    assert_equal [201, "1", "ab"], [r.status_code, r["x-rack"], r.text]
    assert_equal 200, c.get("http://mock/empty").status_code
    total = 0
    c.stream("GET", "http://mock/stream") { |resp| resp.each_chunk(1000) { |ch| total += ch.bytesize } }
    assert_equal 70_000, total
  end

  def test_recursive_send_from_block
    c = nil
    transport = LibHTTPX::MockTransport.new do |request|
      c.get("http://mock/inner") if request.url.end_with?("/outer")
      nil
    end
    c = client(transport: transport)
    assert_raises(LibHTTPX::RecursiveCall) { c.get("http://mock/outer") }
  end

  def test_raise_app_exceptions_off
    transport = LibHTTPX::MockTransport.new(raise_app_exceptions: false) { raise "x" }
    assert_equal 500, client(transport: transport).get("http://mock/").status_code
  end

  def test_close_and_threads
    c = LibHTTPX::Client.new(trust_env: false, limits: { max_connections: 10 })
    results = Queue.new
    threads = 4.times.map do
      Thread.new { 5.times { results << c.get(@server.url("/get")).text } }
    end
    threads.each { |t| t.join(30) }
    assert_equal 20, results.size
    resp = c.stream("GET", @server.url("/stream"))
    c.close
    c.close
    assert c.closed?
    assert_raises(LibHTTPX::ClientClosed) { c.get(@server.url("/get")) }
    assert_match(/\Achunk-0/, resp.read) # a streamed response outlives the client
    resp.close
  end

  def test_callback_objects_released
    base = LibHTTPX::Callbacks.live_count
    transport = LibHTTPX::MockTransport.new { LibHTTPX::MockResponse.new(200, stream: StringIO.new("streamed")) }
    c = LibHTTPX::Client.new(transport: transport)
    transport.close
    req = LibHTTPX::Request.new("POST", "http://mock/")
    req.body_stream(StringIO.new("upload"), length: 6)
    assert_equal "streamed", c.send(req).text
    req.close
    unsent = LibHTTPX::Request.new("POST", "http://mock/")
    unsent.body_stream(StringIO.new("never"))
    unsent.close
    assert_equal base + 1, LibHTTPX::Callbacks.live_count # only the transport's block
    c.close
    assert_equal base, LibHTTPX::Callbacks.live_count
  end

  def test_gc_frees_handles
    20.times do
      c = LibHTTPX::Client.new(trust_env: false)
      c.get(@server.url("/get")).status_code
      LibHTTPX::MockTransport.new { nil }
    end
    GC.start
    GC.start
    assert true
  end
end
