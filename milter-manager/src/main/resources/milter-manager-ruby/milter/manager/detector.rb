module Milter
  module Manager
    # Finds a milter installed by the platform's packages and defines it
    # (defaults/PLATFORM.conf). Deliberately small: it looks only at files
    # (service units, init scripts, the package's own configuration) under
    # the package option "root" (default "/"); it runs nothing and changes
    # nothing. A milter is defined only when it is installed and its socket
    # is found. The command that starts it (systemctl or the init script)
    # is used only in privilege mode.
    class PackageDetector
      SPEC_FILES = {
        "clamav-milter" => [
          ["etc/clamav/clamav-milter.conf", /^\s*MilterSocket\s+(\S+)/],
          ["etc/mail/clamav-milter.conf", /^\s*MilterSocket\s+(\S+)/],
          ["usr/local/etc/clamav-milter.conf", /^\s*MilterSocket\s+(\S+)/],
        ],
        "opendkim" => [
          ["etc/opendkim.conf", /^\s*Socket\s+(\S+)/],
          ["usr/local/etc/mail/opendkim.conf", /^\s*Socket\s+(\S+)/],
        ],
        "milter-greylist" => [
          ["etc/milter-greylist/greylist.conf", /^\s*socket\s+"([^"]+)"/],
          ["etc/mail/greylist.conf", /^\s*socket\s+"([^"]+)"/],
          ["usr/local/etc/mail/greylist.conf", /^\s*socket\s+"([^"]+)"/],
        ],
      }
      FIXED_SPECS = {
        "rspamd" => "inet:11332@[127.0.0.1]",
      }
      SYSTEMD_DIRECTORIES = [
        "etc/systemd/system",
        "lib/systemd/system",
        "usr/lib/systemd/system",
      ]

      attr_reader :name, :connection_spec

      def initialize(configuration, name, &connection_spec_detector)
        @configuration = configuration
        @name = name
        @connection_spec_detector = connection_spec_detector
        options = configuration.parsed_package_options || {}
        @root = options["root"] || "/"
        @connection_spec = nil
        @installed = false
        @enabled = false
      end

      def detect
        @installed = (not unit_file.nil? or not rc_script.nil?)
        return unless @installed
        @enabled = enabled_by_platform?
        spec = @connection_spec_detector.call if @connection_spec_detector
        spec ||= spec_from_package_configuration
        spec ||= spec_from_variables
        spec ||= FIXED_SPECS[@name]
        @connection_spec = normalize_spec(spec)
      end

      def detected?
        @installed and not @connection_spec.nil?
      end

      def enabled?
        @enabled
      end

      def apply(loader)
        return unless detected?
        spec = @connection_spec
        enabled = @enabled
        start_command, start_options = command
        loader.define_milter(@name) do |milter|
          milter.enabled = enabled
          milter.connection_spec = spec
          if start_command
            milter.command = start_command
            milter.command_options = start_options
          end
          yield(milter) if block_given?
        end
      end

      private
      def path(relative)
        File.join(@root, relative)
      end

      def unit_file
        SYSTEMD_DIRECTORIES.each do |directory|
          candidate = path(File.join(directory, "#{@name}.service"))
          return candidate if File.file?(candidate)
        end
        nil
      end

      def rc_script
        rc_directories.each do |directory|
          candidate = path(File.join(directory, @name))
          return candidate if File.file?(candidate)
        end
        nil
      end

      def rc_directories
        ["etc/init.d"]
      end

      def variable_files
        ["etc/default/#{@name}"]
      end

      def enabled_by_platform?
        if unit_file
          pattern = path("etc/systemd/system/*.wants/#{@name}.service")
          not Dir.glob(pattern).empty?
        else
          not rc_script.nil?
        end
      end

      def command
        if unit_file
          ["/usr/bin/systemctl", ["start", @name]]
        elsif rc_script
          [File.join("/", rc_script.sub(/\A#{Regexp.escape(@root)}\/?/, "")), ["start"]]
        else
          [nil, nil]
        end
      end

      def spec_from_package_configuration
        (SPEC_FILES[@name] || []).each do |relative, pattern|
          file = path(relative)
          next unless File.file?(file)
          File.foreach(file) do |line|
            return $1 if pattern =~ line
          end
        end
        nil
      end

      def spec_from_variables
        variable_files.each do |relative|
          file = path(relative)
          next unless File.file?(file)
          File.foreach(file) do |line|
            case line
            when /^\s*(?:SOCKET|SOCKFILE|MILTER_SOCKET)\s*=\s*["']?([^"'\s#]+)/
              return $1
            end
          end
        end
        nil
      end

      def normalize_spec(spec)
        return nil if spec.nil? or spec.empty?
        spec = "unix:#{spec}" if spec.start_with?("/")
        spec.sub(/\A(?:(?:unix|local):)+/, "unix:")
      end
    end

    class DebianDetector < PackageDetector
    end

    class RedHatDetector < PackageDetector
      private
      def variable_files
        ["etc/sysconfig/#{@name}"]
      end
    end

    # FreeBSD and pkgsrc: rc.d scripts, NAME_enable/NAME_socket in rc.conf.
    class FreeBSDRCDetector < PackageDetector
      private
      def rc_directories
        ["usr/local/etc/rc.d"]
      end

      def rc_conf_files
        ["etc/rc.conf", "etc/rc.conf.local"]
      end

      def enabled_by_platform?
        variable = "#{@name.gsub(/-/, '_')}_enable"
        rc_conf_files.any? do |relative|
          file = path(relative)
          File.file?(file) and
            File.foreach(file).any? {|line| /^\s*#{variable}\s*=\s*"?yes"?/i =~ line}
        end
      end

      def spec_from_variables
        variable = "#{@name.gsub(/-/, '_')}_(?:socket|sockfile)"
        rc_conf_files.each do |relative|
          file = path(relative)
          next unless File.file?(file)
          File.foreach(file) do |line|
            return $1 if /^\s*#{variable}\s*=\s*"?([^"\s]+)/ =~ line
          end
        end
        nil
      end
    end

    class PkgsrcRCDetector < FreeBSDRCDetector
      private
      def rc_directories
        ["etc/rc.d", "usr/pkg/etc/rc.d"]
      end
    end
  end
end
