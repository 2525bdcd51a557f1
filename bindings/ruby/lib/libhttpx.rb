# frozen_string_literal: true

# libhttpx for Ruby: an ffi binding of libhttpx (HTTPX's client as a C library),
# with HTTPX's API in Ruby's conventions. Its own name: `require "libhttpx"`,
# `LibHTTPX`, so it loads next to the `httpx` gem (`HTTPX`).
#
#   require "libhttpx"
#   LibHTTPX::Client.open(base_url: "https://example.org", timeout: 5) do |client|
#     response = client.get("/", params: { "q" => "ruby" })
#     response.raise_for_status
#     puts response.text
#   end
#
# The shared library is looked up as LibHTTPX::Library describes: $LIBHTTPX_PATH,
# then libhttpx.so.0 / libhttpx.so through the system loader, then pkg-config.
# The Faraday adapter: `require "libhttpx/faraday"`.
module LibHTTPX
end

require_relative "libhttpx/version"
require_relative "libhttpx/native"
require_relative "libhttpx/errors"
require_relative "libhttpx/headers"
require_relative "libhttpx/callbacks"
require_relative "libhttpx/cancel"
require_relative "libhttpx/auth"
require_relative "libhttpx/request"
require_relative "libhttpx/response"
require_relative "libhttpx/transport"
require_relative "libhttpx/client"
require_relative "libhttpx/multi"
