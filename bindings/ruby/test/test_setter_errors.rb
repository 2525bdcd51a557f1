# frozen_string_literal: true

require_relative "test_helper"

# A failed setter raises at once with the library's own message
# (httpx_client_config_error, httpx_request_error, httpx_transport_error), and a
# handle whose setter failed is refused where it is used.
class LibHTTPXSetterErrorsTest < Minitest::Test
  def setup
    skip "the loaded libhttpx has no setter error getters" unless LibHTTPX::Native.has?(:httpx_request_error)
  end

  def test_config_setter
    e = assert_raises(LibHTTPX::InvalidArgument) { LibHTTPX::Client.new(trust_env: false, headers: { "X-Bad" => "a\r\nInjected: 1" }) }
    assert_match(/CR, LF/, e.message)
    assert_equal LibHTTPX::Codes::INVALID_ARGUMENT, e.code
  end

  def test_request_setter
    LibHTTPX::Client.open(trust_env: false, transport: LibHTTPX::MockTransport.new { LibHTTPX::MockResponse.new(200, text: "ok") }) do |client|
      req = client.build_request("GET", "http://mock/")
      assert_nil req.setter_error
      e = assert_raises(LibHTTPX::InvalidArgument) { req["X-Bad"] = "a\nb" }
      assert_match(/X-Bad.*CR, LF/, e.message)
      req.add_param("ok", "1")
      assert_equal e.message, req.setter_error.message
      sent = assert_raises(LibHTTPX::InvalidArgument) { client.send_request(req) }
      assert_equal e.message, sent.message
      if LibHTTPX::Native.has?(:httpx_multi_new)
        multi = LibHTTPX::Multi.new(client)
        assert_raises(LibHTTPX::InvalidArgument) { multi.add(req) }
        assert_equal 0, multi.size
        multi.close
      end
      copy = req.dup
      assert_nil copy.setter_error
      assert_equal "ok", client.send_request(copy).text
    ensure
      req&.close
      copy&.close
    end
  end

  def test_transport_setter
    skip "no httpx_transport_http_set_local_address" unless LibHTTPX::Native.has?(:httpx_transport_http_set_local_address)
    e = assert_raises(LibHTTPX::InvalidArgument) { LibHTTPX::HTTPTransport.new(local_address: "not-an-address") }
    assert_match(/not-an-address/, e.message)
    t = LibHTTPX::HTTPTransport.new
    assert_raises(LibHTTPX::InvalidArgument) { t.local_address = "not-an-address" }
    refused = assert_raises(LibHTTPX::InvalidArgument) { LibHTTPX::Client.new(trust_env: false, transport: t) }
    assert_match(/not-an-address/, refused.message)
    t.close
  end
end
