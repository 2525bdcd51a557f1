# frozen_string_literal: true

require "socket"
require "json"
require "uri"
require "zlib"
require "stringio"

# A tiny HTTP/1.1 server on 127.0.0.1 (a thread per connection, one request per
# connection) for the binding tests. Routes:
#   /get         200 "hello" with X-Test and a repeated X-Multi header
#   /echo        JSON of method, path, query, headers, body, content_type
#   /slow        answers after 3 s (?s=N: N s), or when the client goes away
#   /stall       sends the head and one chunk, then stalls 10 s (or until the client goes away)
#   /stream      chunked body "chunk-0\n" .. "chunk-4\n"
#   /gzip        gzip-encoded "hello gzip" x 100
#   /big         ?n=N bytes of "x"
#   /status/NNN  status NNN
#   /auth        Basic user:pass or 401
class TinyServer
  attr_reader :port

  def initialize
    @server = TCPServer.new("127.0.0.1", 0)
    @port = @server.addr[1]
    @threads = []
    @lock = Mutex.new
    @acceptor = Thread.new { accept_loop }
  end

  def url(path = "") = "http://127.0.0.1:#{@port}#{path}"

  def stop
    @server.close rescue nil # rubocop:disable Style/RescueModifier
    @acceptor.join(2)
    @lock.synchronize { @threads.dup }.each { |t| t.kill; t.join(2) }
  end

  private

  def accept_loop
    loop do
      sock = @server.accept
      t = Thread.new(sock) { |s| serve(s) }
      @lock.synchronize { @threads << t }
    end
  rescue IOError, Errno::EBADF, Errno::EINVAL
    nil
  end

  def serve(sock)
    line = sock.gets or return
    method, target, = line.split(" ", 3)
    headers = {}
    while (h = sock.gets) && h != "\r\n"
      name, value = h.split(":", 2)
      headers[name.strip.downcase] = value.to_s.strip
    end
    body = read_body(sock, headers)
    uri = URI.parse(target)
    route(sock, method, uri, headers, body)
  rescue StandardError
    nil
  ensure
    sock.close rescue nil # rubocop:disable Style/RescueModifier
  end

  def read_body(sock, headers)
    if headers["transfer-encoding"].to_s.downcase.include?("chunked")
      body = +"".b
      loop do
        size = sock.gets.to_s.strip.to_i(16)
        if size.zero?
          sock.gets
          break
        end
        body << sock.read(size)
        sock.read(2)
      end
      body
    elsif (n = headers["content-length"].to_i).positive?
      sock.read(n)
    else
      "".b
    end
  end

  def reply(sock, status, body, headers = {})
    reason = { 200 => "OK", 401 => "Unauthorized", 404 => "Not Found", 500 => "Internal Server Error" }[status] || "Status"
    out = +"HTTP/1.1 #{status} #{reason}\r\n"
    headers.each { |k, v| Array(v).each { |x| out << "#{k}: #{x}\r\n" } }
    out << "Content-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n"
    sock.write(out)
    sock.write(body)
  end

  def route(sock, method, uri, headers, body)
    query = URI.decode_www_form(uri.query.to_s).to_h
    case uri.path
    when "/get"
      reply(sock, 200, "hello", "Content-Type" => "text/plain; charset=utf-8", "X-Test" => "yes", "X-Multi" => %w[a b])
    when "/echo"
      reply(sock, 200, JSON.generate("method" => method, "path" => uri.path, "query" => query, "headers" => headers,
                                     "body" => body.force_encoding("UTF-8"), "content_type" => headers["content-type"]),
            "Content-Type" => "application/json")
    when "/slow"
      sock.wait_readable(Float(query.fetch("s", "3"))) # returns early if the client closes the connection
      reply(sock, 200, "late")
    when "/stall"
      sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nfirst\n\r\n")
      sock.flush
      sock.wait_readable(10)
    when "/gzip"
      io = StringIO.new(+"".b)
      gz = Zlib::GzipWriter.new(io)
      gz.write("hello gzip" * 100)
      gz.close
      reply(sock, 200, io.string, "Content-Encoding" => "gzip", "Content-Type" => "text/plain")
    when "/big"
      reply(sock, 200, "x" * Integer(query.fetch("n", "100000")))
    when "/stream"
      sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
      5.times do |i|
        chunk = "chunk-#{i}\n"
        sock.write("#{chunk.bytesize.to_s(16)}\r\n#{chunk}\r\n")
        sock.flush
      end
      sock.write("0\r\n\r\n")
    when %r{\A/status/(\d+)\z}
      reply(sock, Regexp.last_match(1).to_i, "status")
    when "/auth"
      if headers["authorization"] == "Basic #{["user:pass"].pack("m0")}"
        reply(sock, 200, "welcome user")
      else
        reply(sock, 401, "", "WWW-Authenticate" => 'Basic realm="x"')
      end
    else
      reply(sock, 404, "not found")
    end
  end
end
