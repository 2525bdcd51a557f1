# frozen_string_literal: true

module HTTPX
  # Base of every exception this library raises: carries the libhttpx code
  # (Integer, see HTTPX::Codes) and its name.
  class Error < StandardError
    attr_reader :code

    def initialize(code = nil, message = nil)
      @code = code
      super(message || (code && Native.httpx_code_str(code)) || self.class.name)
    end

    # "READ_TIMEOUT", ...
    def code_name = code && Native.httpx_code_str(code)

    def timeout? = !code.nil? && Native.httpx_code_is_timeout(code) == 1

    def self.for_code(code, message)
      (CODE_CLASSES[code] || Error).new(code, message)
    end
  end

  # HTTPX's exception tree (httpx/_exceptions.py).
  class HTTPError < Error; end
  class RequestError < HTTPError; end
  class TransportError < RequestError; end
  class TimeoutException < TransportError; end
  class ConnectTimeout < TimeoutException; end
  class ReadTimeout < TimeoutException; end
  class WriteTimeout < TimeoutException; end
  class PoolTimeout < TimeoutException; end
  class NetworkError < TransportError; end
  class ConnectError < NetworkError; end
  class ReadError < NetworkError; end
  class WriteError < NetworkError; end
  class CloseError < NetworkError; end
  # TLS failures are ConnectErrors in HTTPX.
  class TLSError < ConnectError; end
  class ProtocolError < TransportError; end
  class LocalProtocolError < ProtocolError; end
  class RemoteProtocolError < ProtocolError; end
  class ProxyError < TransportError; end
  class UnsupportedProtocol < TransportError; end
  class DecodingError < RequestError; end
  class TooManyRedirects < RequestError; end
  class HTTPStatusError < HTTPError; end
  class InvalidURL < Error; end
  class StreamError < Error; end
  class StreamConsumed < StreamError; end
  class ClientClosed < Error; end
  # Bad argument (NULL, invalid header, ...).
  class InvalidArgument < Error; end
  # A callback (transport, body reader) failed inside libhttpx.
  class CallbackError < Error; end
  # A callback tried to send on the client that called it.
  class RecursiveCall < CallbackError; end
  # A local file could not be read (CA file, multipart file, .netrc).
  class LocalIOError < Error; end
  class InternalError < Error; end

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
    CONNECT = 20
    READ = 21
    WRITE = 22
    CLOSE = 23
    PROXY = 24
    TLS = 25
    REMOTE_PROTOCOL = 30
    LOCAL_PROTOCOL = 31
    DECODING = 32
    TOO_MANY_REDIRECTS = 40
    HTTP_STATUS = 41
    STREAM_CONSUMED = 42
    CLIENT_CLOSED = 43
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
    Codes::CONNECT => ConnectError,
    Codes::READ => ReadError,
    Codes::WRITE => WriteError,
    Codes::CLOSE => CloseError,
    Codes::PROXY => ProxyError,
    Codes::TLS => TLSError,
    Codes::REMOTE_PROTOCOL => RemoteProtocolError,
    Codes::LOCAL_PROTOCOL => LocalProtocolError,
    Codes::DECODING => DecodingError,
    Codes::TOO_MANY_REDIRECTS => TooManyRedirects,
    Codes::HTTP_STATUS => HTTPStatusError,
    Codes::STREAM_CONSUMED => StreamConsumed,
    Codes::CLIENT_CLOSED => ClientClosed,
    Codes::CALLBACK => CallbackError,
    Codes::RECURSIVE_CALL => RecursiveCall,
    Codes::IO => LocalIOError,
    Codes::INTERNAL => InternalError
  }.freeze
end
