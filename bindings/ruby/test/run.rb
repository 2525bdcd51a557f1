# frozen_string_literal: true

# Runs every test file: ruby -Itest test/run.rb (add -Ilib to test the source
# tree instead of the installed gem).
Dir[File.join(__dir__, "test_*.rb")].sort.each { |f| require f }
