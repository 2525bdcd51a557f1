# frozen_string_literal: true

require "ffi"
require_relative "library"

module LibHTTPX
  # Raw functions of libhttpx (include/httpx.h). Not a public API.
  module Native
    extend FFI::Library

    # Where the library came from (LIBHTTPX_PATH, a standard name, pkg-config).
    LOADED_FROM = Library.load_into(self)

    OK = 0

    callback :transport_fn, %i[pointer pointer pointer], :uint32
    callback :read_fn, %i[pointer pointer size_t pointer], :uint32
    callback :free_fn, %i[pointer], :void
    callback :request_hook_fn, %i[pointer pointer], :uint32
    callback :response_hook_fn, %i[pointer pointer], :uint32
    callback :progress_fn, %i[pointer uint64 int64 uint64 int64], :int32
    callback :trace_fn, %i[pointer uint32 double string], :void
    callback :debug_fn, %i[pointer uint32 pointer size_t], :void

    def self.fn(name, args, ret, blocking: false)
      attach_function(name, args, ret, blocking: blocking)
    end

    # Functions newer than the oldest libhttpx this gem supports: attached when
    # the loaded library has them (see Native.has?).
    def self.optional_fn(name, args, ret, blocking: false)
      attach_function(name, args, ret, blocking: blocking)
      (@optional ||= {})[name] = true
    rescue FFI::NotFoundError
      (@optional ||= {})[name] = false
    end

    def self.has?(name) = @optional&.fetch(name, false) || false

    # Calls that may do network I/O release the GVL (callbacks take it back).
    IO_CALL = { blocking: true }.freeze

    fn :httpx_version, [], :string
    fn :httpx_code_str, [:uint32], :string
    fn :httpx_code_is_timeout, [:uint32], :int32
    fn :httpx_error_code, [:pointer], :uint32
    fn :httpx_error_message, [:pointer], :string
    fn :httpx_error_free, [:pointer], :void

    fn :httpx_auth_basic, %i[string string pointer], :uint32
    fn :httpx_auth_digest, %i[string string pointer], :uint32
    fn :httpx_auth_netrc, %i[string pointer pointer], :uint32
    fn :httpx_auth_free, [:pointer], :void

    fn :httpx_client_config_new, [:pointer], :uint32
    fn :httpx_client_config_free, [:pointer], :void
    fn :httpx_client_config_set_base_url, %i[pointer string], :uint32
    fn :httpx_client_config_add_header, %i[pointer string string], :uint32
    fn :httpx_client_config_add_param, %i[pointer string string], :uint32
    fn :httpx_client_config_add_cookie, %i[pointer string string string string], :uint32
    fn :httpx_client_config_set_auth, %i[pointer pointer], :uint32
    fn :httpx_client_config_set_timeout, %i[pointer double], :uint32
    fn :httpx_client_config_set_timeouts, %i[pointer double double double double], :uint32
    fn :httpx_client_config_set_limits, %i[pointer int64 int64 double], :uint32
    fn :httpx_client_config_set_trust_env, %i[pointer int32], :uint32
    fn :httpx_client_config_set_verify, %i[pointer int32], :uint32
    fn :httpx_client_config_set_ca_file, %i[pointer string], :uint32
    fn :httpx_client_config_set_client_cert, %i[pointer string string], :uint32
    fn :httpx_client_config_set_ca_pem, %i[pointer pointer size_t], :uint32
    fn :httpx_client_config_set_client_cert_pem, %i[pointer pointer size_t pointer size_t], :uint32
    fn :httpx_client_config_set_min_tls_version, %i[pointer uint32], :uint32
    fn :httpx_client_config_add_proxy, %i[pointer string string uint32], :uint32
    fn :httpx_client_config_set_follow_redirects, %i[pointer int32], :uint32
    fn :httpx_client_config_set_max_redirects, %i[pointer uint32], :uint32
    fn :httpx_client_config_set_http2, %i[pointer int32], :uint32
    fn :httpx_client_config_set_transport, %i[pointer pointer], :uint32
    fn :httpx_client_config_mount, %i[pointer string pointer], :uint32
    fn :httpx_client_config_set_default_encoding, %i[pointer string], :uint32

    fn :httpx_client_config_add_request_hook, %i[pointer request_hook_fn pointer free_fn], :uint32
    fn :httpx_client_config_add_response_hook, %i[pointer response_hook_fn pointer free_fn], :uint32
    fn :httpx_client_config_set_progress, %i[pointer progress_fn pointer free_fn], :uint32
    fn :httpx_client_config_set_trace, %i[pointer trace_fn pointer free_fn], :uint32
    optional_fn :httpx_client_config_set_debug, %i[pointer debug_fn pointer free_fn], :uint32
    optional_fn :httpx_client_config_set_total_timeout, %i[pointer double], :uint32

    # Cancel tokens (httpx_cancel_*): what makes Timeout.timeout, Thread#raise and
    # Thread#kill stop a blocked call promptly (see LibHTTPX::Interrupts).
    optional_fn :httpx_cancel_new, [:pointer], :uint32
    optional_fn :httpx_cancel_fire, [:pointer], :uint32
    optional_fn :httpx_cancel_is_fired, [:pointer], :int32
    optional_fn :httpx_cancel_free, [:pointer], :void
    optional_fn :httpx_request_set_cancel, %i[pointer pointer], :uint32
    optional_fn :httpx_request_set_total_timeout, %i[pointer double], :uint32

    # Many requests from one thread (LibHTTPX::Multi).
    optional_fn :httpx_multi_new, %i[pointer pointer], :uint32
    optional_fn :httpx_multi_free, [:pointer], :void
    optional_fn :httpx_multi_add, %i[pointer pointer uint64 pointer], :uint32
    optional_fn :httpx_multi_perform, %i[pointer double pointer], :uint32, **IO_CALL
    optional_fn :httpx_multi_fd, [:pointer], :int32
    optional_fn :httpx_multi_timeout, %i[pointer pointer], :uint32
    optional_fn :httpx_multi_next, %i[pointer pointer], :uint32
    optional_fn :httpx_multi_cancel, %i[pointer uint64], :uint32
    optional_fn :httpx_completion_tag, [:pointer], :uint64
    optional_fn :httpx_completion_code, [:pointer], :uint32
    optional_fn :httpx_completion_error, [:pointer], :pointer
    optional_fn :httpx_completion_take_response, %i[pointer pointer], :uint32
    optional_fn :httpx_completion_free, [:pointer], :void
    # The first failed setter on a handle (its code and message).
    optional_fn :httpx_client_config_error, %i[pointer pointer], :uint32
    optional_fn :httpx_request_error, %i[pointer pointer], :uint32
    optional_fn :httpx_transport_error, %i[pointer pointer], :uint32

    fn :httpx_client_new, %i[pointer pointer pointer], :uint32
    fn :httpx_client_close, [:pointer], :uint32
    fn :httpx_client_free, [:pointer], :void
    fn :httpx_client_send, %i[pointer pointer pointer pointer], :uint32, **IO_CALL
    fn :httpx_client_send_stream, %i[pointer pointer pointer pointer], :uint32, **IO_CALL
    fn :httpx_get, %i[string pointer pointer], :uint32, **IO_CALL
    fn :httpx_client_cookie_set, %i[pointer string string string string], :uint32
    fn :httpx_client_cookie_clear, [:pointer], :uint32

    fn :httpx_request_new, %i[string string pointer pointer], :uint32
    fn :httpx_request_build, %i[pointer string string pointer pointer], :uint32
    fn :httpx_request_free, [:pointer], :void
    fn :httpx_request_clone, %i[pointer pointer], :uint32
    fn :httpx_request_set_header, %i[pointer string string], :uint32
    fn :httpx_request_add_header, %i[pointer string string], :uint32
    fn :httpx_request_remove_header, %i[pointer string], :uint32
    fn :httpx_request_add_param, %i[pointer string string], :uint32
    fn :httpx_request_set_cookie, %i[pointer string string], :uint32
    fn :httpx_request_set_body, %i[pointer pointer size_t string], :uint32
    fn :httpx_request_set_body_reader, %i[pointer read_fn pointer free_fn int64], :uint32
    fn :httpx_request_set_form, %i[pointer pointer pointer size_t], :uint32
    fn :httpx_request_set_json, %i[pointer string], :uint32
    fn :httpx_request_set_auth, %i[pointer pointer], :uint32
    fn :httpx_request_inherit_auth, [:pointer], :uint32
    fn :httpx_request_set_timeout, %i[pointer double], :uint32
    fn :httpx_request_set_timeouts, %i[pointer double double double double], :uint32
    fn :httpx_request_set_follow_redirects, %i[pointer int32], :uint32
    fn :httpx_request_method, [:pointer], :string
    fn :httpx_request_url, [:pointer], :string
    fn :httpx_request_header_count, [:pointer], :size_t
    fn :httpx_request_header_at, %i[pointer size_t pointer pointer], :uint32
    fn :httpx_request_header_get, %i[pointer string], :pointer
    fn :httpx_request_body, %i[pointer pointer pointer], :uint32

    fn :httpx_response_status, [:pointer], :uint16
    fn :httpx_response_reason, [:pointer], :string
    fn :httpx_response_http_version, [:pointer], :string
    fn :httpx_response_url, [:pointer], :string
    fn :httpx_response_header_count, [:pointer], :size_t
    fn :httpx_response_header_at, %i[pointer size_t pointer pointer], :uint32
    fn :httpx_response_request, [:pointer], :pointer
    fn :httpx_response_history_count, [:pointer], :size_t
    fn :httpx_response_elapsed, [:pointer], :double
    fn :httpx_response_body, %i[pointer pointer pointer pointer], :uint32, **IO_CALL
    fn :httpx_response_text, %i[pointer pointer pointer pointer], :uint32, **IO_CALL
    fn :httpx_response_read, %i[pointer pointer size_t pointer pointer], :uint32, **IO_CALL
    fn :httpx_response_raise_for_status, %i[pointer pointer], :uint32
    fn :httpx_response_close, [:pointer], :uint32
    fn :httpx_response_free, [:pointer], :void

    fn :httpx_transport_callback, %i[transport_fn pointer free_fn pointer], :uint32
    fn :httpx_transport_callback_set_raise_errors, %i[pointer int32], :uint32
    fn :httpx_transport_http, [:pointer], :uint32
    fn :httpx_transport_http_set_retries, %i[pointer uint32], :uint32
    optional_fn :httpx_transport_http_set_local_address, %i[pointer string], :uint32
    fn :httpx_transport_free, [:pointer], :void
    fn :httpx_response_builder_set_status, %i[pointer uint16], :uint32
    fn :httpx_response_builder_add_header, %i[pointer string string], :uint32
    fn :httpx_response_builder_set_body, %i[pointer pointer size_t], :uint32
    fn :httpx_response_builder_set_body_reader, %i[pointer read_fn pointer free_fn], :uint32
    fn :httpx_response_builder_request_body, %i[pointer pointer pointer], :uint32

    # Handles freed exactly once: by #free (explicit close) or by the GC.
    class ClientPtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_client_free(ptr)
    end

    class RequestPtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_request_free(ptr)
    end

    class ResponsePtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_response_free(ptr)
    end

    class TransportPtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_transport_free(ptr)
    end

    class ConfigPtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_client_config_free(ptr)
    end

    class AuthPtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_auth_free(ptr)
    end

    class CancelPtr < FFI::AutoPointer
      def self.release(ptr) = Native.httpx_cancel_free(ptr)
    end

    module_function

    # A C string argument: NUL bytes are rejected (C would cut the string there).
    def str(value, what)
      s = value.to_s
      raise LibHTTPX::InvalidArgument.new(1, "#{what} contains a NUL byte") if s.include?("\0")

      s.encode(Encoding::UTF_8)
    end

    def out_ptr = FFI::MemoryPointer.new(:pointer)

    # [pointer, length] of a copy of bytes (kept alive by the caller's reference).
    def bytes(data)
      data = data.to_s.b
      buf = FFI::MemoryPointer.new(:uint8, [data.bytesize, 1].max)
      buf.put_bytes(0, data)
      [buf, data.bytesize]
    end

    # Raise the HTTPX exception for `code`; `err_ptr` is an httpx_error** (or nil).
    def check(code, err_ptr = nil, what = nil)
      detail = nil
      if err_ptr && !(e = err_ptr.read_pointer).null?
        detail = httpx_error_message(e).dup.force_encoding(Encoding::UTF_8)
        httpx_error_free(e)
      end
      return if code == OK

      e = LibHTTPX::Error.for_code(code, detail || what || httpx_code_str(code))
      raise e, cause: e.errno
    end

    # The error kept on a handle by its first failed setter (`getter`:
    # :httpx_request_error, :httpx_client_config_error or :httpx_transport_error),
    # as the exception to raise; nil when none failed (or the library is older).
    def setter_error(getter, ptr)
      return nil unless has?(getter)

      err = out_ptr
      code = Native.public_send(getter, ptr, err)
      e = err.read_pointer
      msg = nil
      unless e.null?
        msg = httpx_error_message(e).dup.force_encoding(Encoding::UTF_8)
        httpx_error_free(e)
      end
      code == OK ? nil : LibHTTPX::Error.for_code(code, msg || httpx_code_str(code))
    end

    # check for a setter on the handle `ptr` owned by `owner`: its first failure
    # raises with the library's own message (see setter_error), later ones with
    # `what`.
    def check_setter(code, owner, getter, ptr, what = nil)
      return if code == OK

      first = !owner.instance_variable_get(:@__setter_failed)
      owner.instance_variable_set(:@__setter_failed, true)
      if first && (e = setter_error(getter, ptr)) && e.code == code
        raise e, cause: e.errno
      end

      check(code, nil, what)
    end

    # Run a call that takes a trailing httpx_error** and may run Ruby callbacks;
    # an exception raised by a callback is re-raised here.
    def call
      err = out_ptr
      Callbacks.clear_pending
      code = yield err
      pending = Callbacks.take_pending
      if code != OK && pending
        e = err.read_pointer
        httpx_error_free(e) unless e.null?
        raise pending
      end
      check(code, err)
    end

    # NotImplementedError unless the loaded library has `fn`.
    def require!(fn, what)
      return if has?(fn)

      raise NotImplementedError, "#{what} needs a libhttpx with #{fn} (loaded: #{httpx_version} from #{LOADED_FROM})"
    end

    def timeout_seconds(value)
      value.nil? ? -1.0 : Float(value)
    end
  end

  # Version of the loaded libhttpx.
  def self.lib_version = Native.httpx_version

  # The library file in use (the mapped file where the OS tells, else the name
  # or path that was loaded).
  def self.library_path = Library.mapped_file || Native::LOADED_FROM
end
