# frozen_string_literal: true

module LibHTTPX
  # Version of this gem (it follows libhttpx's; any 0.x libhttpx with the core API loads).
  VERSION = "0.1.0"
end
