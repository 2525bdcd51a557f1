# frozen_string_literal: true

# HTTPX for Ruby: a thin ffi binding of libhttpx (HTTPX's client as a C library).
#
#   require "httpx"
#   HTTPX::Client.open(base_url: "https://example.org", timeout: 5) do |client|
#     response = client.get("/", params: { "q" => "ruby" })
#     response.raise_for_status
#     puts response.text
#   end
#
# The shared library is loaded from ENV["HTTPX_LIB"], else from
# target/release/libhttpx.so of the repository this file lives in.
module HTTPX
end

require_relative "httpx/native"
require_relative "httpx/errors"
require_relative "httpx/headers"
require_relative "httpx/callbacks"
require_relative "httpx/auth"
require_relative "httpx/request"
require_relative "httpx/response"
require_relative "httpx/transport"
require_relative "httpx/client"
