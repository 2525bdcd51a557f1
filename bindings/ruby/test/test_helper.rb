# frozen_string_literal: true

require "minitest/autorun"
require "socket"
require "json"
require "uri"
require "zlib"
require "stringio"
require "libhttpx"

require_relative "tiny_server"

module TestSupport
  module_function

  def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  # The directory libhttpx.rb was loaded from (the installed gem's, or lib/).
  def gem_lib_dir
    File.dirname($LOADED_FEATURES.find { |f| f.end_with?("/libhttpx.rb") })
  end

  # A port nothing listens on.
  def closed_port
    s = TCPServer.new("127.0.0.1", 0)
    port = s.addr[1]
    s.close
    port
  end
end
