# frozen_string_literal: true

require_relative "lib/libhttpx/version"

Gem::Specification.new do |spec|
  spec.name = "libhttpx"
  spec.version = LibHTTPX::VERSION
  spec.summary = "HTTPX's HTTP client for Ruby through libhttpx (ffi), with a Faraday adapter"
  spec.description = <<~DESC
    An ffi binding of libhttpx, HTTPX's client written in Rust and shipped as a C library:
    pooled thread-safe clients, HTTP/1.1 and HTTP/2, redirects, cookies, Basic/Digest auth,
    proxies, streaming, MockTransport for tests, and a Faraday adapter (:libhttpx).
    Needs the libhttpx shared library installed on the system (or LIBHTTPX_PATH).
    Loads under its own name (require "libhttpx", LibHTTPX), next to the httpx gem.
  DESC
  spec.authors = ["libhttpx contributors"]
  spec.license = "BSD-3-Clause"
  spec.required_ruby_version = ">= 3.0"
  spec.metadata = { "rubygems_mfa_required" => "true" }

  spec.files = Dir.glob("lib/**/*.rb", base: __dir__) + %w[README.md libhttpx.gemspec] +
               Dir.glob("examples/*.rb", base: __dir__)
  spec.require_paths = ["lib"]
  # The system library is found at require time (LibHTTPX::Library), not built here.
  spec.requirements << "libhttpx shared library (libhttpx.so.0), found via LIBHTTPX_PATH, the system loader or pkg-config"

  spec.add_runtime_dependency "ffi", ">= 1.15", "< 2"
  # Faraday is optional: `require "libhttpx/faraday"` needs faraday >= 1.0.
end
