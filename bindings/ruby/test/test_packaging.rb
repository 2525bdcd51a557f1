# frozen_string_literal: true

require_relative "test_helper"
require "open3"
require "rbconfig"
require "tmpdir"
require "fileutils"

# How the gem finds libhttpx (LIBHTTPX_PATH, the system loader, pkg-config, a
# clear LoadError), and that it loads next to the `httpx` gem. Each case runs in
# a fresh ruby process with a controlled environment and a copy of the library
# in a temporary directory (outside the repository).
class LibHTTPXPackagingTest < Minitest::Test
  include TestSupport

  STANDIN = File.expand_path("fixtures/httpx_standin", __dir__)

  def setup
    @tmp = Dir.mktmpdir("libhttpx-lookup")
    @libdir = File.join(@tmp, "lib")
    FileUtils.mkdir_p(@libdir)
    @real = LibHTTPX.library_path
    assert File.file?(@real), "cannot tell which file was loaded (#{@real.inspect})"
  end

  def teardown
    FileUtils.rm_rf(@tmp)
  end

  def copy_lib(name)
    FileUtils.cp(@real, File.join(@libdir, name))
    File.join(@libdir, name)
  end

  # Environment with every lookup source neutralised; `extra` switches one on.
  def env(extra = {})
    empty = File.join(@tmp, "empty")
    FileUtils.mkdir_p(empty)
    { "LIBHTTPX_PATH" => nil, "LD_LIBRARY_PATH" => nil, "DYLD_LIBRARY_PATH" => nil,
      "PKG_CONFIG_PATH" => empty, "PKG_CONFIG_LIBDIR" => empty, "PKG_CONFIG" => nil }.merge(extra)
  end

  def ruby(env, code, *load_path)
    args = load_path.flat_map { |d| ["-I", d] } + ["-I", gem_lib_dir, "-e", code]
    Open3.capture2e(env, RbConfig.ruby, *args)
  end

  PROBE = 'require "libhttpx"; print LibHTTPX::Native::LOADED_FROM, "|", LibHTTPX.library_path, "|", LibHTTPX.lib_version'

  def loads(env)
    out, status = ruby(env, PROBE)
    assert status.success?, out
    out.split("|")
  end

  # A system-wide libhttpx makes the "nothing found" cases moot.
  def system_lib?
    out, status = ruby(env, PROBE)
    status.success? && !out.empty?
  end

  def test_env_override_file
    path = copy_lib("libhttpx.so")
    from, file, version = loads(env("LIBHTTPX_PATH" => path))
    assert_equal path, from
    assert_equal File.realpath(path), File.realpath(file)
    assert_equal LibHTTPX.lib_version, version
  end

  def test_env_override_directory
    path = copy_lib("libhttpx.so")
    from, = loads(env("LIBHTTPX_PATH" => @libdir))
    assert_equal path, from
  end

  def test_env_override_missing_is_an_error_without_fallback
    out, status = ruby(env("LIBHTTPX_PATH" => "/nonexistent/libhttpx.so", "LD_LIBRARY_PATH" => File.dirname(@real)),
                       'begin; require "libhttpx"; rescue LoadError => e; print e.message; exit 3; end')
    assert_equal 3, status.exitstatus, out
    assert_includes out, "LIBHTTPX_PATH=/nonexistent/libhttpx.so: no such file"
    refute_includes out, "system loader"
  end

  def test_system_loader_so
    copy_lib("libhttpx.so")
    from, file, = loads(env("LD_LIBRARY_PATH" => @libdir))
    assert_equal "libhttpx.so", from
    assert_equal File.realpath(File.join(@libdir, "libhttpx.so")), File.realpath(file)
  end

  def test_system_loader_prefers_soname
    copy_lib("libhttpx.so")
    copy_lib("libhttpx.so.0")
    from, file, = loads(env("LD_LIBRARY_PATH" => @libdir))
    assert_equal "libhttpx.so.0", from
    assert_equal File.realpath(File.join(@libdir, "libhttpx.so.0")), File.realpath(file)
  end

  def write_pc(prefix)
    pcdir = File.join(@tmp, "pc")
    FileUtils.mkdir_p(pcdir)
    File.write(File.join(pcdir, "httpx.pc"), <<~PC)
      prefix=#{prefix}
      libdir=${prefix}/lib
      includedir=${prefix}/include
      Name: httpx
      Description: test
      Version: #{LibHTTPX.lib_version}
      Libs: -L${libdir} -lhttpx
      Cflags: -I${includedir}
    PC
    pcdir
  end

  def test_pkg_config
    skip "pkg-config not installed" unless system("pkg-config --version", out: File::NULL, err: File::NULL)
    skip "a system-wide libhttpx is installed" if system_lib?
    copy_lib("libhttpx.so")
    pcdir = write_pc(@tmp)
    from, = loads(env("PKG_CONFIG_PATH" => pcdir, "PKG_CONFIG_LIBDIR" => pcdir))
    assert_equal File.join(@libdir, "libhttpx.so"), from
  end

  # A DESTDIR-style staging tree: httpx.pc says /usr/lib, the files are under the sysroot.
  def test_pkg_config_sysroot
    skip "pkg-config not installed" unless system("pkg-config --version", out: File::NULL, err: File::NULL)
    skip "a system-wide libhttpx is installed" if system_lib?
    staged = File.join(@tmp, "stage", "usr", "lib")
    FileUtils.mkdir_p(staged)
    FileUtils.cp(@real, File.join(staged, "libhttpx.so.0"))
    pcdir = write_pc("/usr")
    from, = loads(env("PKG_CONFIG_PATH" => pcdir, "PKG_CONFIG_LIBDIR" => pcdir,
                      "PKG_CONFIG_SYSROOT_DIR" => File.join(@tmp, "stage")))
    assert_equal File.join(staged, "libhttpx.so.0"), from
  end

  def test_load_error_names_what_was_tried
    skip "a system-wide libhttpx is installed" if system_lib?
    out, status = ruby(env, 'begin; require "libhttpx"; rescue LoadError => e; print e.message; exit 3; end')
    assert_equal 3, status.exitstatus, out
    assert_includes out, "libhttpx not found"
    assert_includes out, "LIBHTTPX_PATH: not set"
    assert_includes out, "system loader: libhttpx.so.0"
    assert_includes out, "system loader: libhttpx.so:"
    assert_includes out, "pkg-config httpx"
    out, = ruby(env("PKG_CONFIG" => "/nonexistent/pkg-config"), 'begin; require "libhttpx"; rescue LoadError => e; print e.message; end')
    assert_includes out, "/nonexistent/pkg-config not runnable"
  end

  # Both gems in one process, in either order; each keeps its own namespace,
  # Headers class and Faraday adapter.
  COEXIST = <<~RUBY
    order = ARGV[0] == "libhttpx-first" ? %w[libhttpx httpx] : %w[httpx libhttpx]
    begin; require "faraday"; rescue LoadError; end
    order.each { |lib| require lib }
    raise "HTTPX is not the stand-in" unless HTTPX::STANDIN && HTTPX::Headers.new("A" => "1")["a"] == "1"
    raise "LibHTTPX::Headers is HTTPX's" if LibHTTPX::Headers.equal?(HTTPX::Headers)
    raise "shared errors" if LibHTTPX::ReadTimeout <= HTTPX::Error
    t = LibHTTPX::MockTransport.new { |r| LibHTTPX::MockResponse.new(200, text: "hi " + r.url) }
    c = LibHTTPX::Client.new(transport: t)
    body = c.get("http://mock/x").text
    c.close
    adapters = []
    if defined?(Faraday)
      require "libhttpx/faraday"
      adapters << Faraday::Adapter.lookup_middleware(:libhttpx).name
      adapters << Faraday::Adapter.lookup_middleware(:httpx).name
    end
    print [body, HTTPX::VERSION, LibHTTPX::VERSION, *adapters].join("|")
  RUBY

  def test_loads_next_to_the_httpx_gem
    lib_env = env("LIBHTTPX_PATH" => @real)
    %w[httpx-first libhttpx-first].each do |order|
      out, status = Open3.capture2e(lib_env, RbConfig.ruby, "-I", STANDIN, "-I", gem_lib_dir, "-e", COEXIST, order)
      assert status.success?, "#{order}: #{out}"
      parts = out.split("|")
      assert_equal ["hi http://mock/x", "1.3.0-standin", LibHTTPX::VERSION], parts[0, 3], order
      assert_equal %w[LibHTTPX::FaradayAdapter HTTPX::FaradayAdapter], parts[3, 2] if parts.size > 3
    end
  end
end
