# frozen_string_literal: true

# Faraday over libhttpx: ruby examples/faraday_example.rb http://127.0.0.1:8080
# (any HTTP server; the CI runs it against test/serve.rb). Needs the libhttpx
# gem, the faraday gem and the libhttpx library (LIBHTTPX_PATH or installed).
require "json"
require "faraday"
require "libhttpx/faraday"

base = ARGV.fetch(0) { abort "usage: #{$PROGRAM_NAME} BASE_URL" }

conn = Faraday.new(url: base, headers: { "X-Example" => "faraday" }) do |f|
  f.request :url_encoded
  f.response :raise_error          # 4xx/5xx -> Faraday::ClientError / ServerError
  f.options.timeout = 5             # connect/read/write, seconds
  f.adapter :libhttpx, http2: false # options go to LibHTTPX::Client.new
end

begin
  r = conn.get("/get")
  puts "GET /get -> #{r.status} #{r.reason_phrase}, #{r.headers["content-type"]}: #{r.body}"

  r = conn.post("/echo", { "name" => "libhttpx", "lang" => "ruby" })
  puts "POST /echo -> #{r.status}: body #{JSON.parse(r.body)["body"]}"

  received = 0
  conn.get("/stream") do |req|
    req.options.on_data = proc { |chunk, total| received = total; print "  chunk: #{chunk.inspect}\n" }
  end
  puts "streamed #{received} bytes"

  conn.get("/slow") { |req| req.options.timeout = 0.2 }
rescue Faraday::TimeoutError => e
  puts "timeout as expected: #{e.class} (#{e.wrapped_exception.class} is a Timeout::Error: #{e.wrapped_exception.is_a?(Timeout::Error)})"
rescue Faraday::ConnectionFailed => e
  abort "connection failed: #{e.message} (cause: #{e.wrapped_exception&.cause.inspect})"
ensure
  conn.close
end
