# frozen_string_literal: true

module LibHTTPX
  # HTTP Basic auth (HTTPX auth=(user, pass)).
  class BasicAuth
    attr_reader :username

    def initialize(username, password)
      @username = username.to_s
      @password = password.to_s
    end

    # A new C auth handle (caller frees it).
    def to_native
      out = Native.out_ptr
      Native.check(native_new(Native.str(@username, "username"), Native.str(@password, "password"), out), nil, "invalid credentials")
      out.read_pointer
    end

    private

    def native_new(u, p, out) = Native.httpx_auth_basic(u, p, out)
  end

  # HTTP Digest auth (HTTPX DigestAuth).
  class DigestAuth < BasicAuth
    private

    def native_new(u, p, out) = Native.httpx_auth_digest(u, p, out)
  end

  # Turns auth: arguments into an object with #to_native.
  def self.coerce_auth(auth)
    case auth
    when BasicAuth then auth
    when Array
      raise ArgumentError, "auth must be [username, password]" unless auth.size == 2

      BasicAuth.new(*auth)
    else raise ArgumentError, "unsupported auth #{auth.class}"
    end
  end

  # Yields a temporary C auth handle for auth (the library keeps its own reference).
  def self.with_native_auth(auth)
    ptr = coerce_auth(auth).to_native
    begin
      yield ptr
    ensure
      Native.httpx_auth_free(ptr)
    end
  end

  UNSET = Object.new.tap { |o| def o.inspect = "LibHTTPX::UNSET" }.freeze
end
