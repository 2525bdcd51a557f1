# frozen_string_literal: true

require_relative "test_helper"

# LibHTTPX::Multi: several requests at once from one thread, through the multi's fd
# and IO.select (issue 18).
class LibHTTPXMultiTest < Minitest::Test
  def setup
    skip "the loaded libhttpx has no multi interface" unless LibHTTPX::Native.has?(:httpx_multi_new)
    @server = TinyServer.new
    @client = LibHTTPX::Client.new(trust_env: false)
  end

  def teardown
    @client&.close
    @server&.stop
  end

  def test_requests_run_at_once_through_io_select
    multi = LibHTTPX::Multi.new(@client)
    8.times { |i| multi.add(@client.build_request("GET", @server.url("/slow?s=0.4")), tag: "slow#{i}") }
    multi.add("GET", @server.url("/get"), tag: :fast)
    assert_equal 9, multi.size
    assert_kind_of IO, multi.io
    assert_equal 0.0, multi.timeout # work pending
    t0 = TestSupport.monotonic
    done = multi.run(timeout: 20)
    elapsed = TestSupport.monotonic - t0
    assert_equal 9, done.size
    assert done.all?(&:ok?), done.map(&:error).compact.inspect
    assert_equal ["fast"] + (0...8).map { |i| "slow#{i}" }, done.map { |c| c.tag.to_s }.sort
    assert_equal "hello", done.find { |c| c.tag == :fast }.response.text
    assert(done.select { |c| c.tag.to_s.start_with?("slow") }.all? { |c| c.value!.text == "late" })
    # Eight 0.4 s answers one after the other would take 3.2 s.
    assert_operator elapsed, :<, 2.5, "requests did not run at once (#{elapsed.round(2)} s)"
    assert_equal 0, multi.size
    multi.close
    assert multi.closed?
  end

  def test_own_loop_errors_cancel_and_callbacks_on_this_thread
    seen = []
    me = Thread.current
    client = LibHTTPX::Client.new(trust_env: false) do |on|
      on.request { |_req| seen << (Thread.current == me) }
    end
    multi = LibHTTPX::Multi.new(client)
    multi.add("GET", "http://127.0.0.1:#{TestSupport.closed_port}/", tag: :refused)
    multi.add("GET", @server.url("/slow?s=5"), tag: :cancelled)
    multi.add("GET", @server.url("/echo"), tag: :echo, params: { "q" => "1" })
    got = {}
    t0 = TestSupport.monotonic
    cancelled = false
    until got.size == 3
      flunk "still running after 20 s: #{got.keys}" if TestSupport.monotonic - t0 > 20
      IO.select([multi.io], nil, nil, multi.timeout || 0.2)
      multi.perform
      if !cancelled && got.key?(:echo) && got.key?(:refused)
        multi.cancel(:cancelled)
        cancelled = true
      end
      while (c = multi.next)
        got[c.tag] = c
      end
    end
    assert_kind_of LibHTTPX::ConnectError, got[:refused].error
    assert_raises(LibHTTPX::ConnectError) { got[:refused].value! }
    assert_kind_of LibHTTPX::Cancelled, got[:cancelled].error
    assert_operator TestSupport.monotonic - t0, :<, 4.5
    assert_equal({ "q" => "1" }, JSON.parse(got[:echo].response.text)["query"])
    assert_equal [true, true, true], seen
    multi.close
    client.close
  end

  def test_close_with_requests_in_flight
    multi = LibHTTPX::Multi.new(@client)
    3.times { multi.add("GET", @server.url("/slow?s=5")) }
    5.times { multi.perform(0.05) }
    multi.close
    assert_raises(LibHTTPX::InvalidArgument) { multi.perform }
    # The client still works.
    assert_equal "hello", @client.get(@server.url("/get")).text
  end
end
