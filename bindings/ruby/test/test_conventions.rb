# frozen_string_literal: true

require_relative "test_helper"
require "timeout"
require "logger"
require "rbconfig"

# Ruby's conventions: the exception tree, Errno causes, threads, Timeout.timeout,
# Thread#raise/#kill, cancel tokens, and blocks for hooks/progress/trace/debug.
class LibHTTPXConventionsTest < Minitest::Test
  include TestSupport

  def setup
    @server = TinyServer.new
    @clients = []
  end

  def teardown
    @clients.each(&:close)
    @server.stop
  end

  def client(**opts, &block)
    LibHTTPX::Client.new(trust_env: false, **opts, &block).tap { |c| @clients << c }
  end

  def test_own_namespace
    refute defined?(::HTTPX), "libhttpx must not define ::HTTPX (the httpx gem's namespace)"
    assert_equal LibHTTPX::VERSION, Gem::Version.new(LibHTTPX::VERSION).to_s
  end

  def test_exception_tree_follows_ruby
    # Timeouts are Timeout::Errors, as Net::ReadTimeout is, and still HTTPX's TransportErrors.
    [LibHTTPX::ConnectTimeout, LibHTTPX::ReadTimeout, LibHTTPX::WriteTimeout, LibHTTPX::PoolTimeout,
     LibHTTPX::TotalTimeout].each do |k|
      assert k < Timeout::Error, k
      assert k < LibHTTPX::TimeoutException, k
      assert k < LibHTTPX::TransportError, k
      assert k < LibHTTPX::RequestError, k
      assert k < LibHTTPX::HTTPError, k
      assert k < LibHTTPX::Error, k
    end
    assert LibHTTPX::ConnectError < LibHTTPX::NetworkError
    assert LibHTTPX::NetworkError < StandardError
    assert LibHTTPX::TLSError < LibHTTPX::ConnectError
    assert LibHTTPX::ResolveError < LibHTTPX::ConnectError
    assert LibHTTPX::InvalidURL < ArgumentError
    assert LibHTTPX::InvalidArgument < ArgumentError
    assert LibHTTPX::HTTPStatusError < LibHTTPX::HTTPError
    refute LibHTTPX::HTTPStatusError < LibHTTPX::RequestError
    refute LibHTTPX::ConnectError < Timeout::Error
    # Every class maps from a code and carries it.
    LibHTTPX::CODE_CLASSES.each do |code, klass|
      e = LibHTTPX::Error.for_code(code, "m")
      assert_instance_of klass, e
      assert_kind_of LibHTTPX::Error, e
      assert_equal code, e.code
      assert_equal "m", e.message
    end
    assert_instance_of LibHTTPX::UnknownError, LibHTTPX::Error.for_code(77, "x")
    assert_equal "boom", LibHTTPX::ReadError.new("boom").message
  end

  def test_read_timeout_is_a_timeout_error
    c = client(timeout: { connect: 2, read: 0.2, write: 2, pool: 2 })
    err = assert_raises(Timeout::Error) { c.get(@server.url("/slow")) }
    assert_kind_of LibHTTPX::ReadTimeout, err
    assert err.timeout?
  end

  def test_connection_refused_carries_errno
    err = assert_raises(LibHTTPX::ConnectError) { client(timeout: 2).get("http://127.0.0.1:#{closed_port}/") }
    assert_kind_of Errno::ECONNREFUSED, err.cause
    assert_kind_of Errno::ECONNREFUSED, err.errno
    assert_kind_of LibHTTPX::TransportError, err
  end

  def test_errno_mapping
    e = LibHTTPX::Error.for_code(LibHTTPX::Codes::READ, "read failed: Connection reset by peer (os error 104)")
    assert_kind_of Errno::ECONNRESET, e.errno
    e = LibHTTPX::Error.for_code(LibHTTPX::Codes::IO, "cannot open /x: No such file or directory")
    assert_kind_of Errno::ENOENT, e.errno
    assert_kind_of SocketError, LibHTTPX::Error.for_code(LibHTTPX::Codes::RESOLVE, "no such host").errno
    assert_nil LibHTTPX::Error.for_code(LibHTTPX::Codes::HTTP_STATUS, "404 (os error 2)").errno
  end

  def test_missing_ca_file_carries_errno
    err = assert_raises(LibHTTPX::Error) { LibHTTPX::Client.new(verify: "/nonexistent/ca.pem").close }
    assert_kind_of SystemCallError, err.cause if err.is_a?(LibHTTPX::LocalIOError)
  end

  # The GVL is released while a request blocks: another Ruby thread keeps ticking.
  def test_other_threads_run_while_a_request_blocks
    c = client(timeout: 5)
    ticks = []
    stop = false
    ticker = Thread.new do
      until stop
        ticks << monotonic
        sleep 0.005
      end
    end
    sleep 0.05
    t0 = monotonic
    assert_equal "late", c.get(@server.url("/slow?s=0.6")).text
    elapsed = monotonic - t0
    stop = true
    ticker.join(2)
    during = ticks.select { |t| t >= t0 && t <= t0 + elapsed }
    gaps = during.each_cons(2).map { |a, b| b - a }
    assert_operator elapsed, :>=, 0.5
    assert_operator during.size, :>, 20, "only #{during.size} ticks in #{elapsed.round(3)} s"
    assert_operator gaps.max.to_f, :<, 0.25, "the ticker stalled #{gaps.max.to_f.round(3)} s"
  end

  def test_timeout_timeout_stops_a_blocked_request
    skip "libhttpx without cancel tokens" unless LibHTTPX::CancelToken.supported?
    c = client(timeout: nil)
    t0 = monotonic
    assert_raises(Timeout::Error) { Timeout.timeout(0.2) { c.get(@server.url("/slow?s=10")) } }
    elapsed = monotonic - t0
    # Measured: ~0.21-0.25 s on an idle machine (timer 0.2 s + watcher poll + cancel).
    assert_operator elapsed, :<, 1.5, "took #{elapsed.round(3)} s"
    assert_equal 0, LibHTTPX::Interrupts.watching
    assert_equal "hello", c.get(@server.url("/get")).text # the client still works
  end

  def test_timeout_timeout_stops_a_streamed_body_read
    skip "libhttpx without cancel tokens" unless LibHTTPX::CancelToken.supported?
    c = client(timeout: nil)
    got = []
    t0 = monotonic
    assert_raises(Timeout::Error) do
      Timeout.timeout(0.3) { c.stream("GET", @server.url("/stall")) { |r| r.each_chunk { |ch| got << ch } } }
    end
    assert_operator monotonic - t0, :<, 1.5
    assert_equal ["first\n"], got
  end

  def test_thread_raise_stops_a_blocked_request
    skip "libhttpx without cancel tokens" unless LibHTTPX::CancelToken.supported?
    c = client(timeout: nil)
    stop = Class.new(StandardError)
    started = Queue.new
    t = Thread.new do
      started << true
      c.get(@server.url("/slow?s=10"))
      :finished
    rescue stop => e
      e
    end
    started.pop
    sleep 0.2
    t0 = monotonic
    t.raise(stop, "stop now")
    assert t.join(3), "the thread did not stop"
    assert_operator monotonic - t0, :<, 1.5
    assert_kind_of stop, t.value
  end

  def test_thread_kill_stops_a_blocked_request_and_runs_ensure
    skip "libhttpx without cancel tokens" unless LibHTTPX::CancelToken.supported?
    c = client(timeout: nil)
    ensured = Queue.new
    t = Thread.new do
      c.get(@server.url("/slow?s=10"))
    ensure
      ensured << :ran
    end
    sleep 0.3
    t0 = monotonic
    t.kill
    assert t.join(3), "the thread did not die"
    assert_operator monotonic - t0, :<, 1.5
    assert_equal 1, ensured.size
    refute t.alive?
  end

  # The watcher thread must not inherit the calls' deferral: a process that made a
  # guarded call exits (it once hung in Ruby's at-exit thread cleanup).
  def test_process_exits_after_guarded_calls
    code = 'require "libhttpx"; require "timeout"
      t = LibHTTPX::MockTransport.new { LibHTTPX::MockResponse.new(200, text: "ok") }
      c = LibHTTPX::Client.new(transport: t)
      Timeout.timeout(5) { c.get("http://mock/").text }
      Thread.new { c.get("http://mock/") }.join
      print LibHTTPX::Interrupts.watching'
    pid = nil
    out = IO.popen([RbConfig.ruby, "-I", TestSupport.gem_lib_dir, "-e", code, err: %i[child out]]) do |io|
      pid = io.pid
      deadline = monotonic + 20
      sleep 0.05 while Process.waitpid(pid, Process::WNOHANG).nil? && monotonic < deadline
      Process.kill(:KILL, pid) if monotonic >= deadline && (Process.waitpid(pid, Process::WNOHANG) rescue nil).nil? # rubocop:disable Style/RescueModifier
      io.read
    end
    assert_equal "0", out
  end

  def test_cancel_token
    skip "libhttpx without cancel tokens" unless LibHTTPX::CancelToken.supported?
    c = client(timeout: nil)
    token = LibHTTPX::CancelToken.new
    refute token.cancelled?
    Thread.new { sleep 0.2; token.cancel }
    t0 = monotonic
    err = assert_raises(LibHTTPX::Cancelled) { c.get(@server.url("/slow?s=10"), cancel: token) }
    assert_operator monotonic - t0, :<, 1.5
    assert_equal LibHTTPX::Codes::CANCELLED, err.code
    assert token.cancelled?
    # An already fired token sends nothing; other requests are unaffected.
    assert_raises(LibHTTPX::Cancelled) { c.get(@server.url("/get"), cancel: token) }
    assert_equal "hello", c.get(@server.url("/get")).text
  end

  # Timeout.timeout is delivered and leaves nothing behind. Without cancel tokens the
  # call ends on its own first: libhttpx before deadline-aware I/O restarted
  # SO_RCVTIMEO after each EINTR (Ruby signals a thread with a pending interrupt every
  # ~100 ms), so it ended only when the server answered (1.5 s); since then at its
  # read timeout (0.5 s); with tokens at once (~0.2 s).
  def test_timeout_timeout_without_leaks
    c = client(timeout: 0.5)
    t0 = monotonic
    assert_raises(Timeout::Error) { Timeout.timeout(0.2) { c.get(@server.url("/slow?s=1.5")) } }
    assert_operator monotonic - t0, :<, 5
    assert_equal 0, LibHTTPX::Interrupts.watching
    base = LibHTTPX::Callbacks.live_count
    assert_equal "hello", c.get(@server.url("/get")).text
    assert_equal base, LibHTTPX::Callbacks.live_count
  end

  def test_event_hooks_as_blocks
    seen = []
    c = client(base_url: @server.url) do |on|
      on.request { |req| req["X-Hooked"] = "yes"; seen << [:request, req.method, req.url] }
      on.response { |resp| seen << [:response, resp.status_code] }
    end
    e = c.get("/echo").json
    assert_equal "yes", e["headers"]["x-hooked"]
    assert_equal [[:request, "GET", @server.url("/echo")], [:response, 200]], seen
  end

  def test_event_hooks_option_and_raise_for_status_in_hook
    c = client(event_hooks: { response: [->(resp) { resp.raise_for_status }] })
    assert_equal 200, c.get(@server.url("/get")).status_code
    err = assert_raises(LibHTTPX::HTTPStatusError) { c.get(@server.url("/status/404")) }
    assert_includes err.message, "404"
  end

  def test_hook_exception_is_reraised
    boom = Class.new(StandardError)
    c = client { |on| on.request { |_| raise boom, "no" } }
    assert_raises(boom) { c.get(@server.url("/get")) }
  end

  def test_progress_block
    calls = []
    c = client { |on| on.progress { |sent, st, recv, rt| calls << [sent, st, recv, rt] } }
    assert_equal 50_000, c.get(@server.url("/big?n=50000")).content.bytesize
    refute_empty calls
    assert_equal 50_000, calls.last[2]
    assert_equal 50_000, calls.last[3]
    # :abort stops the transfer
    c2 = client(progress: ->(_s, _st, recv, _rt) { recv > 1000 ? :abort : nil })
    assert_raises(LibHTTPX::CallbackError) { c2.get(@server.url("/big?n=200000")).content }
  end

  def test_trace_block
    events = []
    c = client { |on| on.trace { |event, elapsed, detail| events << [event, elapsed, detail] } }
    c.get(@server.url("/get"))
    names = events.map(&:first)
    assert_includes names, :connect_start
    assert_includes names, :headers_received
    assert(events.all? { |_, el, _| el.is_a?(Float) && el >= 0 })
  end

  def test_debug_logger
    skip "libhttpx without httpx_client_config_set_debug" unless LibHTTPX::Native.has?(:httpx_client_config_set_debug)
    out = StringIO.new
    logger = Logger.new(out)
    logger.formatter = ->(_sev, _t, _p, msg) { "#{msg}\n" }
    c = client(debug: logger)
    c.get(@server.url("/get"))
    log = out.string
    assert_match(%r{^> GET /get HTTP/1\.1$}, log)
    assert_match(%r{^< HTTP/1\.1 200 OK$}, log)
    assert_match(/^\* /, log)
    kinds = []
    client { |on| on.debug { |kind, _data| kinds << kind } }.get(@server.url("/get"))
    assert_includes kinds, :header_out
    assert_includes kinds, :header_in
  end

  def test_callbacks_released
    base = LibHTTPX::Callbacks.live_count
    c = LibHTTPX::Client.new(trust_env: false, progress: proc {}, trace: proc {}) { |on| on.request { nil } }
    c.get(@server.url("/get")).close # an open response keeps the client's hooks alive
    assert_equal base + 3, LibHTTPX::Callbacks.live_count
    c.close
    assert_equal base, LibHTTPX::Callbacks.live_count
  end
end
