# frozen_string_literal: true

require "ffi"

module LibHTTPX
  # Finds the libhttpx shared library the way Ethon finds libcurl:
  #
  # 1. ENV["LIBHTTPX_PATH"]: the library file itself, or a directory holding it.
  #    When it is set, nothing else is tried (an explicit choice that fails must
  #    not silently load some other copy).
  # 2. The standard names through the system loader (LD_LIBRARY_PATH, ld.so.cache,
  #    the default directories): libhttpx.so.0, then libhttpx.so (macOS:
  #    libhttpx.0.dylib, libhttpx.dylib).
  # 3. pkg-config: `pkg-config --variable=libdir httpx` (ENV["PKG_CONFIG"] names
  #    another pkg-config; ENV["PKG_CONFIG_SYSROOT_DIR"] is put in front when
  #    pkg-config did not apply it), then the standard names in that directory.
  #
  # If nothing loads, LoadError says what was tried and why each attempt failed.
  module Library
    ENV_VAR = "LIBHTTPX_PATH"
    PKG_CONFIG_NAME = "httpx"

    module_function

    # File names of the library on this platform, most specific first.
    def names
      if FFI::Platform.mac?
        %w[libhttpx.0.dylib libhttpx.dylib]
      elsif FFI::Platform.windows?
        %w[httpx.dll libhttpx.dll]
      else
        %w[libhttpx.so.0 libhttpx.so]
      end
    end

    # Opens the library into `mod` (an FFI::Library); returns the name or path
    # that loaded. Raises LoadError naming every attempt.
    def load_into(mod, env: ENV)
      tried = []
      each_candidate(env, tried) do |candidate, how|
        begin
          mod.ffi_lib(candidate)
          return candidate
        rescue LoadError => e
          tried << "#{how} #{candidate}: #{short(e.message)}"
        end
      end
      raise LoadError, "libhttpx not found. Tried:\n  #{tried.join("\n  ")}\n" \
                       "Install libhttpx (`make install` or your package manager), or set #{ENV_VAR} " \
                       "to the library file (e.g. target/release/libhttpx.so) or its directory."
    end

    # Yields [candidate, description]; failures that need no dlopen go to tried.
    def each_candidate(env, tried)
      override = env[ENV_VAR]
      if override && !override.empty?
        if File.directory?(override)
          names.each { |n| yield File.join(override, n), "#{ENV_VAR}=#{override}:" }
        elsif File.exist?(override)
          yield override, "#{ENV_VAR}:"
        else
          tried << "#{ENV_VAR}=#{override}: no such file or directory"
        end
        return
      end
      tried << "#{ENV_VAR}: not set"
      names.each { |n| yield n, "system loader:" }
      libdir, why = pkg_config_libdir(env)
      if libdir
        found = names.map { |n| File.join(libdir, n) }.select { |f| File.exist?(f) }
        tried << "pkg-config #{PKG_CONFIG_NAME}: libdir #{libdir} holds none of #{names.join(", ")}" if found.empty?
        found.each { |f| yield f, "pkg-config #{PKG_CONFIG_NAME}:" }
      else
        tried << "pkg-config #{PKG_CONFIG_NAME}: #{why}"
      end
    end

    # [libdir, nil] or [nil, reason].
    def pkg_config_libdir(env)
      require "open3"
      exe = env["PKG_CONFIG"].to_s.empty? ? "pkg-config" : env["PKG_CONFIG"]
      out, status = Open3.capture2e(exe, "--variable=libdir", PKG_CONFIG_NAME)
      return [nil, "#{exe} --variable=libdir #{PKG_CONFIG_NAME} failed: #{short(out)}"] unless status.success?

      dir = out.strip
      return [nil, "no libdir in #{PKG_CONFIG_NAME}.pc"] if dir.empty?

      # pkgconf applies the sysroot to variables itself; pkg-config does not.
      sysroot = env["PKG_CONFIG_SYSROOT_DIR"].to_s.chomp("/")
      [sysroot.empty? || dir.start_with?("#{sysroot}/") ? dir : File.join(sysroot, dir), nil]
    rescue SystemCallError => e
      [nil, "#{exe} not runnable (#{e.message})"]
    end

    def short(msg) = msg.to_s.strip.gsub(/\s+/, " ")[0, 300]

    # The file the process actually mapped (Linux: /proc/self/maps), else nil.
    def mapped_file
      File.foreach("/proc/self/maps") do |line|
        path = line.split(" ", 6)[5]&.strip
        return path if path && File.basename(path).match?(/\Alibhttpx\.(so|dylib)/)
      end
      nil
    rescue SystemCallError
      nil
    end
  end
end
