# frozen_string_literal: true

# Runs the test server alone (for the examples): ruby test/serve.rb PORTFILE
# writes the port to PORTFILE and serves until killed.
require_relative "tiny_server"

server = TinyServer.new
File.write(ARGV.fetch(0), server.port.to_s)
sleep
