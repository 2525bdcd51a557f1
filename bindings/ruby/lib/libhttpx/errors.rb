# frozen_string_literal: true

require "timeout"
require "socket"

module LibHTTPX
  # Every exception this library raises includes LibHTTPX::Error, so
  # `rescue LibHTTPX::Error` catches them all. The tree follows HTTPX's
  # (httpx/_exceptions.py) and Ruby's conventions at once:
  #
  #   LibHTTPX::Error (module: #code, #code_name, #timeout?, #errno)
  #   ├─ LibHTTPX::HTTPError (module)
  #   │  ├─ LibHTTPX::RequestError (module)
  #   │  │  ├─ LibHTTPX::TransportError (module)
  #   │  │  │  ├─ TimeoutException < Timeout::Error       (like Net::ReadTimeout)
  #   │  │  │  │  ├─ ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
  #   │  │  │  │  └─ TotalTimeout                         (total_timeout: expired)
  #   │  │  │  ├─ NetworkError < StandardError            (cause: the Errno, e.g. Errno::ECONNREFUSED)
  #   │  │  │  │  ├─ ConnectError
  #   │  │  │  │  │  ├─ TLSError
  #   │  │  │  │  │  └─ ResolveError                      (cause: a SocketError)
  #   │  │  │  │  ├─ ReadError, WriteError, CloseError
  #   │  │  │  ├─ ProtocolError < StandardError > LocalProtocolError, RemoteProtocolError
  #   │  │  │  ├─ ProxyError < StandardError
  #   │  │  │  └─ UnsupportedProtocol < StandardError
  #   │  │  ├─ DecodingError, TooManyRedirects, BodyTooLarge < StandardError
  #   │  │  └─ Cancelled < StandardError                  (a CancelToken fired)
  #   │  └─ HTTPStatusError < StandardError               (raise_for_status)
  #   ├─ InvalidURL < ArgumentError, InvalidArgument < ArgumentError
  #   ├─ StreamError < StandardError > StreamConsumed
  #   ├─ ClientClosed < StandardError
  #   ├─ CallbackError < StandardError > RecursiveCall
  #   ├─ LocalIOError < StandardError                    (cause: the Errno, e.g. Errno::ENOENT)
  #   └─ InternalError, UnknownError < StandardError
  #
  # The group nodes are modules because a timeout must be both a Timeout::Error
  # (so `rescue Timeout::Error` code and Faraday-style wrappers see it) and a
  # TransportError; rescue works the same for modules and classes. Exceptions
  # raised inside your own blocks (hooks, MockTransport, body streams) are
  # re-raised as they are, not wrapped.
  module Error
    attr_reader :code

    # new(code, message), new(message) or new.
    def initialize(code = nil, message = nil)
      code, message = nil, code if message.nil? && code.is_a?(String)
      @code = code
      super(message || (code && Native.httpx_code_str(code)) || self.class.name)
    end

    # "READ_TIMEOUT", ...
    def code_name = code && Native.httpx_code_str(code)

    def timeout? = !code.nil? && Native.httpx_code_is_timeout(code) == 1

    # The operating system's error behind a network or file failure, as Ruby
    # would have raised it (Errno::ECONNREFUSED, Errno::ECONNRESET, Errno::ENOENT;
    # a SocketError when a host name did not resolve), or nil. Also the
    # exception's #cause.
    def errno
      return @errno if defined?(@errno)

      @errno = LibHTTPX::Error.errno_for(code, message)
    end

    # An exception instance for a libhttpx result code.
    def self.for_code(code, message)
      (CODE_CLASSES[code] || UnknownError).new(code, message)
    end

    OS_ERROR = /\(os error (\d+)\)/
    # Messages of errors that carry no "(os error N)" but name the condition.
    TEXT_ERRNO = {
      /connection refused/i => :ECONNREFUSED,
      /connection reset/i => :ECONNRESET,
      /broken pipe/i => :EPIPE,
      /network is unreachable/i => :ENETUNREACH,
      /no route to host/i => :EHOSTUNREACH,
      /no such file or directory/i => :ENOENT,
      /permission denied/i => :EACCES
    }.freeze
    ERRNO_CODES = [20, 21, 22, 23, 24, 60].freeze # CONNECT, READ, WRITE, CLOSE, PROXY, IO

    def self.errno_for(code, message)
      return SocketError.new(message) if code == Codes::RESOLVE
      return nil unless ERRNO_CODES.include?(code)

      if (m = OS_ERROR.match(message.to_s))
        return SystemCallError.new(message, m[1].to_i)
      end

      TEXT_ERRNO.each do |re, name|
        return Errno.const_get(name).new(message) if re.match?(message.to_s) && Errno.const_defined?(name)
      end
      nil
    end
  end

  module HTTPError; include Error; end
  module RequestError; include HTTPError; end
  module TransportError; include RequestError; end

  class TimeoutException < Timeout::Error; include TransportError; end
  class ConnectTimeout < TimeoutException; end
  class ReadTimeout < TimeoutException; end
  class WriteTimeout < TimeoutException; end
  class PoolTimeout < TimeoutException; end
  # The whole send took longer than total_timeout:.
  class TotalTimeout < TimeoutException; end

  class NetworkError < StandardError; include TransportError; end
  class ConnectError < NetworkError; end
  class ReadError < NetworkError; end
  class WriteError < NetworkError; end
  class CloseError < NetworkError; end
  # TLS failures are ConnectErrors in HTTPX.
  class TLSError < ConnectError; end
  # The host name could not be resolved.
  class ResolveError < ConnectError; end
  class ProtocolError < StandardError; include TransportError; end
  class LocalProtocolError < ProtocolError; end
  class RemoteProtocolError < ProtocolError; end
  class ProxyError < StandardError; include TransportError; end
  class UnsupportedProtocol < StandardError; include TransportError; end
  class DecodingError < StandardError; include RequestError; end
  class TooManyRedirects < StandardError; include RequestError; end
  # A buffered body went over its size cap.
  class BodyTooLarge < StandardError; include RequestError; end
  # The request's LibHTTPX::CancelToken fired. (Timeout.timeout, Thread#raise and
  # Thread#kill use a token of their own and raise their own exception instead.)
  class Cancelled < StandardError; include RequestError; end
  class HTTPStatusError < StandardError; include HTTPError; end
  class InvalidURL < ArgumentError; include Error; end
  # Bad argument (NULL, invalid header, ...).
  class InvalidArgument < ArgumentError; include Error; end
  class StreamError < StandardError; include Error; end
  class StreamConsumed < StreamError; end
  class ClientClosed < StandardError; include Error; end
  # A callback (transport, body reader, hook) failed inside libhttpx.
  class CallbackError < StandardError; include Error; end
  # A callback tried to send on the client that called it.
  class RecursiveCall < CallbackError; end
  # A local file could not be read (CA file, multipart file, .netrc).
  class LocalIOError < StandardError; include Error; end
  class InternalError < StandardError; include Error; end
  # A code this version of the gem does not know.
  class UnknownError < StandardError; include Error; end

  # Result codes of libhttpx (include/httpx.h).
  module Codes
    OK = 0
    INVALID_ARGUMENT = 1
    INVALID_URL = 2
    UNSUPPORTED_PROTOCOL = 3
    CONNECT_TIMEOUT = 10
    READ_TIMEOUT = 11
    WRITE_TIMEOUT = 12
    POOL_TIMEOUT = 13
    TOTAL_TIMEOUT = 14
    CONNECT = 20
    READ = 21
    WRITE = 22
    CLOSE = 23
    PROXY = 24
    TLS = 25
    RESOLVE = 26
    REMOTE_PROTOCOL = 30
    LOCAL_PROTOCOL = 31
    DECODING = 32
    TOO_MANY_REDIRECTS = 40
    HTTP_STATUS = 41
    STREAM_CONSUMED = 42
    CLIENT_CLOSED = 43
    CANCELLED = 44
    BODY_TOO_LARGE = 45
    CALLBACK = 50
    RECURSIVE_CALL = 51
    IO = 60
    INTERNAL = 99
  end

  CODE_CLASSES = {
    Codes::INVALID_ARGUMENT => InvalidArgument,
    Codes::INVALID_URL => InvalidURL,
    Codes::UNSUPPORTED_PROTOCOL => UnsupportedProtocol,
    Codes::CONNECT_TIMEOUT => ConnectTimeout,
    Codes::READ_TIMEOUT => ReadTimeout,
    Codes::WRITE_TIMEOUT => WriteTimeout,
    Codes::POOL_TIMEOUT => PoolTimeout,
    Codes::TOTAL_TIMEOUT => TotalTimeout,
    Codes::CONNECT => ConnectError,
    Codes::READ => ReadError,
    Codes::WRITE => WriteError,
    Codes::CLOSE => CloseError,
    Codes::PROXY => ProxyError,
    Codes::TLS => TLSError,
    Codes::RESOLVE => ResolveError,
    Codes::REMOTE_PROTOCOL => RemoteProtocolError,
    Codes::LOCAL_PROTOCOL => LocalProtocolError,
    Codes::DECODING => DecodingError,
    Codes::TOO_MANY_REDIRECTS => TooManyRedirects,
    Codes::HTTP_STATUS => HTTPStatusError,
    Codes::STREAM_CONSUMED => StreamConsumed,
    Codes::CLIENT_CLOSED => ClientClosed,
    Codes::CANCELLED => Cancelled,
    Codes::BODY_TOO_LARGE => BodyTooLarge,
    Codes::CALLBACK => CallbackError,
    Codes::RECURSIVE_CALL => RecursiveCall,
    Codes::IO => LocalIOError,
    Codes::INTERNAL => InternalError
  }.freeze
end
