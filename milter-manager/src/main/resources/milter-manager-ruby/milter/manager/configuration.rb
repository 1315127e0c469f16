module Milter
  module Manager
    # Ruby values for Java calls: symbols become strings.
    def self.java_value(value)
      value.is_a?(Symbol) ? value.to_s : value
    end

    # A condition as the DSL shows it (milter.applicable_conditions).
    class ApplicableCondition
      attr_reader :name, :description

      def initialize(name, description = nil)
        @name = name
        @description = description
      end

      def ==(other)
        other.is_a?(self.class) and other.name == @name
      end

      def to_s
        @name
      end

      def inspect
        "#<#{self.class} #{@name.inspect}>"
      end
    end

    # A defined milter, read only (configuration.eggs / find_egg).
    class EggView
      def initialize(egg)
        @egg = egg
      end

      def name
        @egg.name
      end

      def connection_spec
        spec = @egg.connectionSpec
        spec.nil? ? nil : spec.toString
      end

      def description
        @egg.description
      end

      def enabled?
        @egg.enabled
      end

      def fallback_status
        @egg.fallbackStatus.nick
      end

      def evaluation_mode?
        @egg.evaluationMode
      end

      def applicable_conditions
        @egg.applicableConditions.to_a
      end

      def command
        @egg.command
      end

      def command_options
        @egg.commandOptions
      end

      def user_name
        @egg.userName
      end

      def connection_timeout
        @egg.connectionTimeout
      end

      def writing_timeout
        @egg.writingTimeout
      end

      def reading_timeout
        @egg.readingTimeout
      end

      def end_of_message_timeout
        @egg.endOfMessageTimeout
      end
    end

    # The +configuration+ object of the DSL (upstream's
    # Milter::Manager::Configuration): raw accessors that record no location,
    # load paths, locations, eggs and conditions.
    class Configuration
      ACCESSORS = {
        "package_platform" => "package.platform",
        "package_options" => "package.options",
        "privilege_mode" => "security.privilege_mode",
        "effective_user" => "security.effective_user",
        "effective_group" => "security.effective_group",
        "log_level" => "log.level",
        "log_path" => "log.path",
        "use_syslog" => "log.use_syslog",
        "syslog_facility" => "log.syslog_facility",
        "log_format" => "log.format",
        "manager_connection_spec" => "manager.connection_spec",
        "manager_unix_socket_mode" => "manager.unix_socket_mode",
        "manager_unix_socket_group" => "manager.unix_socket_group",
        "remove_manager_unix_socket_on_create" =>
          "manager.remove_unix_socket_on_create",
        "remove_manager_unix_socket_on_close" =>
          "manager.remove_unix_socket_on_close",
        "daemon" => "manager.daemon",
        "pid_file" => "manager.pid_file",
        "maintenance_interval" => "manager.maintenance_interval",
        "suspend_time_on_unacceptable" =>
          "manager.suspend_time_on_unacceptable",
        "max_connections" => "manager.max_connections",
        "max_file_descriptors" => "manager.max_file_descriptors",
        "custom_configuration_directory" =>
          "manager.custom_configuration_directory",
        "fallback_status" => "manager.fallback_status",
        "fallback_status_at_disconnect" =>
          "manager.fallback_status_at_disconnect",
        "event_loop_backend" => "manager.event_loop_backend",
        "n_workers" => "manager.n_workers",
        "default_packet_buffer_size" => "manager.packet_buffer_size",
        "connection_check_interval" => "manager.connection_check_interval",
        "chunk_size" => "manager.chunk_size",
        "max_pending_finished_sessions" =>
          "manager.max_pending_finished_sessions",
        "metrics_spec" => "manager.metrics_spec",
        "controller_connection_spec" => "controller.connection_spec",
        "controller_unix_socket_mode" => "controller.unix_socket_mode",
        "controller_unix_socket_group" => "controller.unix_socket_group",
        "remove_controller_unix_socket_on_create" =>
          "controller.remove_unix_socket_on_create",
        "remove_controller_unix_socket_on_close" =>
          "controller.remove_unix_socket_on_close",
      }
      BOOLEANS = [
        "privilege_mode",
        "use_syslog",
        "remove_manager_unix_socket_on_create",
        "remove_manager_unix_socket_on_close",
        "daemon",
        "remove_controller_unix_socket_on_create",
        "remove_controller_unix_socket_on_close",
      ]

      def initialize(session)
        @session = session
      end

      ACCESSORS.each do |name, key|
        define_method(name) do
          @session.get(key)
        end

        define_method("#{name}=") do |value|
          if value.nil?
            @session.reset(key)
          else
            error = @session.set(key, Manager.java_value(value), value.inspect,
                                 nil, 0)
            raise ConfigurationLoader::InvalidValue.message(error) if error
          end
        end

        alias_method("#{name}?", name) if BOOLEANS.include?(name)
      end

      def prefix
        nil
      end

      def parsed_package_options
        options = package_options
        return nil if options.nil?
        parsed = {}
        options.split(/\s*,\s*/).each do |option|
          name, value = option.split(/\s*=\s*/, 2)
          parsed[name.strip] = value
        end
        parsed
      end

      def expand_path(path)
        return path if path.start_with?("/")
        prefix = (parsed_package_options || {})["prefix"]
        prefix ? File.join(prefix, path) : path
      end

      def load_paths
        @session.loadPaths.to_a
      end

      def append_load_path(path)
        @session.appendLoadPath(path.to_s)
      end

      def prepend_load_path(path)
        @session.prependLoadPath(path.to_s)
      end

      def clear_load_paths
        @session.clearLoadPaths
      end

      def resolve_path(path)
        @session.resolvePath(path.to_s).to_a
      end

      # {"KEY" => {"file" => FILE, "line" => LINE}}
      def locations
        result = {}
        @session.locations.each do |key, location|
          file, line = split_location(location)
          result[key] = {"file" => file, "line" => line}
        end
        result
      end

      def get_location(key)
        locations[key]
      end

      def set_location(key, file, line)
        @session.setLocation(key.to_s, file.to_s, Integer(line))
      end

      def reset_location(key)
        @session.resetLocation(key.to_s)
      end

      def eggs
        @session.eggNames.collect {|name| EggView.new(@session.egg(name))}
      end

      def find_egg(name)
        egg = @session.egg(name.to_s)
        egg.nil? ? nil : EggView.new(egg)
      end

      def remove_egg(egg)
        name = egg.respond_to?(:name) ? egg.name : egg.to_s
        @session.removeEgg(name)
      end

      def applicable_conditions
        @session.conditionNames.collect do |name|
          ApplicableCondition.new(name, @session.conditionDescription(name))
        end
      end

      def find_applicable_condition(name)
        name = name.to_s
        return nil unless @session.hasCondition(name)
        ApplicableCondition.new(name, @session.conditionDescription(name))
      end

      private
      def split_location(location)
        file, separator, line = location.rpartition(":")
        [file, line.to_i]
      end
    end
  end
end
