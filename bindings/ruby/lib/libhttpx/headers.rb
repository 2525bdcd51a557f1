# frozen_string_literal: true

module LibHTTPX
  # Header lines in order, looked up case-insensitively (HTTPX Headers):
  # headers["X-A"] joins repeated values with ", "; get_list returns them apart.
  class Headers
    include Enumerable

    def initialize(pairs = [])
      @pairs = pairs.map { |n, v| [n.to_s, v.to_s].freeze }.freeze
    end

    def each(&block)
      return to_enum(:each) unless block

      @pairs.each { |n, v| yield n, v }
      self
    end

    def [](name)
      list = get_list(name)
      list.empty? ? nil : list.join(", ")
    end

    def fetch(name, *default)
      v = self[name]
      return v unless v.nil?
      return yield(name) if block_given?
      return default.first unless default.empty?

      raise KeyError, "header not found: #{name}"
    end

    def get_list(name)
      key = name.to_s.downcase
      @pairs.filter_map { |n, v| v if n.downcase == key }
    end

    def key?(name) = !get_list(name).empty?
    alias include? key?

    def keys = @pairs.map { |n, _| n.downcase }.uniq
    def size = @pairs.size
    def to_a = @pairs.map(&:dup)
    def to_h = keys.to_h { |k| [k, self[k]] }
    def inspect = "#<LibHTTPX::Headers #{@pairs.inspect}>"
  end
end
