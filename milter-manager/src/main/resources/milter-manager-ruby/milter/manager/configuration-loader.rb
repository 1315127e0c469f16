module Milter
  module Manager
    # What one load shares: the Java session that collects the result and
    # the configuration files read so far (to find, in a backtrace, the line
    # of a configuration file an assignment came from).
    class LoadContext
      LIBRARY = "milter-manager-ruby/milter/"

      attr_reader :session, :files

      def initialize(session)
        @session = session
        @files = Set.new
        @fixed_location = nil
      end

      # [FILE, LINE] of an assignment: the innermost frame in a configuration
      # file, else the innermost frame outside this library.
      def location(locations)
        return @fixed_location if @fixed_location
        frame = locations.find {|location| @files.include?(location.path)}
        frame ||= locations.find {|location| not library?(location.path)}
        frame ||= locations.first
        frame ? [frame.path, frame.lineno] : [nil, 0]
      end

      # Records every location inside the block as LOCATION (what the
      # library does on behalf of a configuration line, e.g. policies).
      def with_location(location)
        saved = @fixed_location
        @fixed_location = location
        yield
      ensure
        @fixed_location = saved
      end

      private
      def library?(path)
        path.include?(LIBRARY)
      end
    end

    module SettingAssignment
      private
      def assign_setting(key, value)
        if value.nil?
          @context.session.reset(key)
        else
          file, line = @context.location(caller_locations(1))
          error = @context.session.set(key, Manager.java_value(value),
                                       value.inspect, file, line)
          raise ConfigurationLoader::InvalidValue.message(error) if error
        end
        value
      end
    end

    # security.*, log.*, manager.* ...: one reader and one writer per key.
    class GroupConfigurationLoader
      include SettingAssignment

      class << self
        def setting(group, name, boolean: false)
          key = "#{group}.#{name}"
          define_method(name) do
            @context.session.get(key)
          end
          define_method("#{name}=") do |value|
            assign_setting(key, value)
          end
          alias_method("#{name}?", name) if boolean
        end
      end

      def initialize(context)
        @context = context
      end
    end

    class PackageConfigurationLoader < GroupConfigurationLoader
      setting "package", :platform

      # {"prefix" => "/usr/pkg", ...}
      def options
        Configuration.new(@context.session).parsed_package_options
      end

      # "k=v,k2=v2" or a Hash.
      def options=(options)
        if options.is_a?(Hash)
          options = options.collect {|name, value| "#{name}=#{value}"}.join(",")
        end
        assign_setting("package.options", options)
      end
    end

    class SecurityConfigurationLoader < GroupConfigurationLoader
      setting "security", :privilege_mode, boolean: true
      setting "security", :effective_user
      setting "security", :effective_group
    end

    class LogConfigurationLoader < GroupConfigurationLoader
      setting "log", :path
      setting "log", :use_syslog, boolean: true
      setting "log", :syslog_facility
      # Not upstream's: "text" (upstream's lines) or "json" (JSON lines).
      setting "log", :format

      def level
        @context.session.get("log.level")
      end

      # "default" (or :default, "") resets the level.
      def level=(level)
        if level.nil? or level.to_s.empty? or level.to_s == "default"
          @context.session.reset("log.level")
        else
          assign_setting("log.level", level.to_s)
        end
      end
    end

    class ControllerConfigurationLoader < GroupConfigurationLoader
      setting "controller", :connection_spec
      setting "controller", :unix_socket_mode
      setting "controller", :unix_socket_group
      setting "controller", :remove_unix_socket_on_create, boolean: true
      setting "controller", :remove_unix_socket_on_close, boolean: true
    end

    class ManagerConfigurationLoader < GroupConfigurationLoader
      setting "manager", :connection_spec
      setting "manager", :unix_socket_mode
      setting "manager", :unix_socket_group
      setting "manager", :remove_unix_socket_on_create, boolean: true
      setting "manager", :remove_unix_socket_on_close, boolean: true
      setting "manager", :daemon, boolean: true
      setting "manager", :pid_file
      setting "manager", :maintenance_interval
      setting "manager", :suspend_time_on_unacceptable
      setting "manager", :max_connections
      setting "manager", :max_file_descriptors
      setting "manager", :custom_configuration_directory
      setting "manager", :fallback_status
      setting "manager", :fallback_status_at_disconnect
      setting "manager", :event_loop_backend
      setting "manager", :n_workers
      setting "manager", :packet_buffer_size
      setting "manager", :connection_check_interval
      setting "manager", :chunk_size
      setting "manager", :max_pending_finished_sessions
      # Not upstream's: where the metrics and health endpoint listens.
      setting "manager", :metrics_spec

      attr_writer :run_gc_on_maintain

      def initialize(context)
        super
        @run_gc_on_maintain = true
        @netstat_connection_checker = nil
      end

      # Accepted for compatibility; the JVM collects garbage by itself.
      def run_gc_on_maintain?
        @run_gc_on_maintain
      end

      # Runs after each maintenance (every manager.maintenance_interval
      # sessions), without arguments.
      def maintained(hook = nil, &block)
        @context.session.addMaintainedHook(to_proc(hook || block, "maintained"))
      end

      # Runs once when the daemon's event loop exists: {|loop| ...}, where
      # loop.add_timeout(seconds) { true_to_repeat } schedules work.
      def event_loop_created(hook = nil, &block)
        @context.session.addEventLoopCreatedHook(
          to_proc(hook || block, "event_loop_created"))
      end

      # {|context| true_when_still_connected}; the same name replaces.
      def define_connection_checker(name, &block)
        raise ArgumentError, "define_connection_checker needs a block" unless block
        @context.session.defineConnectionChecker(name.to_s, block)
      end

      def use_netstat_connection_checker(interval = 5)
        self.connection_check_interval = interval
        netstat_connection_checker.database_lifetime = interval
        @context.session.useNetstatConnectionChecker(Integer(interval))
      end

      def netstat_connection_checker
        @netstat_connection_checker ||= NetstatConnectionChecker.new
      end

      def report_memory_statistics
        @context.session.addMemoryReport
      end

      private
      def to_proc(hook, name)
        raise ArgumentError, "#{name} needs a block" if hook.nil?
        return hook if hook.is_a?(Proc)
        proc {|*args| hook.call(*args)}
      end
    end

    # database.*: recorded and shown; this implementation has no database
    # support (upstream uses ActiveRecord).
    class DatabaseConfigurationLoader < GroupConfigurationLoader
      setting "database", :type
      setting "database", :name
      setting "database", :host
      setting "database", :port
      setting "database", :path
      setting "database", :user
      setting "database", :password

      def initialize(context)
        super
        @extra_options = {}
      end

      def extra_options
        @extra_options
      end

      def extra_options=(options)
        @extra_options = options || {}
      end

      def setup
        type = self.type
        raise ConfigurationLoader::MissingValue.new("database.type") if type.nil?
        if ["mysql", "mysql2"].include?(type) and name.nil?
          raise ConfigurationLoader::MissingValue.new("database.name")
        end
        Logger.warning("[configuration][database][setup][unsupported] " +
                       "<#{type}>: databases are not supported")
      end

      def load_models(path)
        paths = Configuration.new(@context.session).resolve_path(path)
        Logger.warning("[configuration][database][load-models][unsupported] " +
                       "<#{paths.join(', ')}>")
      end
    end

    # The +milter+ of define_milter(NAME) {|milter| ...}.
    class EggConfigurationLoader
      KEYS = [
        "connection_spec",
        "description",
        "enabled",
        "fallback_status",
        "evaluation_mode",
        "command",
        "command_options",
        "user_name",
        "connection_timeout",
        "writing_timeout",
        "reading_timeout",
        "end_of_message_timeout",
      ]

      def initialize(context, draft)
        @context = context
        @draft = draft
      end

      def name
        @draft.name
      end

      KEYS.each do |key|
        define_method(key) do
          @draft.get(key)
        end

        define_method("#{key}=") do |value|
          assign(key, value)
        end
      end

      def enabled?
        @draft.get("enabled")
      end

      def evaluation_mode?
        @draft.get("evaluation_mode")
      end

      # An Array is shell-escaped and joined with spaces.
      def command_options=(options)
        if options.is_a?(Array)
          options = options.collect {|option| Shellwords.escape(option.to_s)}.join(" ")
        end
        assign("command_options", options)
      end

      def applicable_conditions
        @draft.conditions.to_a.collect do |condition_name|
          ApplicableCondition.new(condition_name,
                                  @context.session.conditionDescription(condition_name))
        end
      end

      # Names or condition objects; replaces the list.
      def applicable_conditions=(conditions)
        names = Array(conditions).collect {|condition| condition_name(condition)}
        error = @context.session.setEggConditions(@draft, names, conditions.inspect)
        raise ConfigurationLoader::InvalidValue.message(error) if error
        conditions
      end

      def add_applicable_condition(condition)
        file, line = @context.location(caller_locations(1))
        error = @context.session.addEggCondition(@draft, condition_name(condition),
                                                 condition.inspect, file, line)
        raise ConfigurationLoader::InvalidValue.message(error) if error
        condition
      end

      def clear_applicable_conditions
        self.applicable_conditions = []
      end

      def apply
        @context.session.commitEgg(@draft)
      end

      private
      def condition_name(condition)
        case condition
        when String
          condition
        when ApplicableCondition
          condition.name
        else
          condition.respond_to?(:name) ? condition.name.to_s : condition.to_s
        end
      end

      def assign(key, value)
        error = @draft.set(key, Manager.java_value(value), value.inspect)
        raise ConfigurationLoader::InvalidValue.message(error) if error
        location_key = "milter[#{name}].#{key}"
        if value.nil?
          @context.session.resetLocation(location_key)
        else
          file, line = @context.location(caller_locations(1))
          @context.session.setLocation(location_key, file, line)
        end
        value
      end
    end

    # The +condition+ of define_applicable_condition(NAME) {|condition| ...}.
    class ApplicableConditionConfigurationLoader
      STAGES = [
        "connect",
        "helo",
        "envelope_from",
        "envelope_recipient",
        "data",
        "header",
        "end_of_header",
        "body",
        "end_of_message",
      ]

      def initialize(context, draft)
        @context = context
        @draft = draft
      end

      def name
        @draft.name
      end

      def description
        @draft.description
      end

      def description=(description)
        @draft.setDescription(description.nil? ? nil : description.to_s)
        key = "applicable_condition[#{name}].description"
        if description.nil?
          @context.session.resetLocation(key)
        else
          file, line = @context.location(caller_locations(1))
          @context.session.setLocation(key, file, line)
        end
        description
      end

      STAGES.each do |stage|
        define_method("define_#{stage}_stopper") do |&block|
          raise ArgumentError, "define_#{stage}_stopper needs a block" unless block
          @draft.addStopper(stage, block)
          nil
        end
      end

      def have_stopper?
        @draft.hasStopper
      end

      def apply
        @context.session.commitCondition(@draft)
      end
    end

    # The object milter-manager.conf runs in (instance_eval): the DSL.
    class ConfigurationLoader
      class << self
        # Called by the manager: loads FILE (searched in the load path).
        def run(session, file)
          new(session).__send__(:load_top_level, file.to_s)
          nil
        end
      end

      attr_reader :package, :security, :log, :manager, :controller, :database
      attr_reader :configuration, :load_context

      def initialize(session)
        @load_context = LoadContext.new(session)
        @configuration = Configuration.new(session)
        @package = PackageConfigurationLoader.new(@load_context)
        @security = SecurityConfigurationLoader.new(@load_context)
        @log = LogConfigurationLoader.new(@load_context)
        @manager = ManagerConfigurationLoader.new(@load_context)
        @controller = ControllerConfigurationLoader.new(@load_context)
        @database = DatabaseConfigurationLoader.new(@load_context)
        @policy_manager = PolicyManager.new(self)
      end

      # Loads PATH: absolute, or searched in the load path (a directory there
      # loads all its files; a glob loads every match in every load path).
      def load(path)
        resolve_path!(path.to_s).each do |full_path|
          load_configuration(full_path)
        end
        true
      end

      def load_if_exist(path)
        load(path)
      rescue NonexistentPath => error
        raise unless error.path == path.to_s
        Logger.debug("[configuration][load][nonexistent][ignore] <#{path}>")
        false
      end

      # defaults/PLATFORM.conf, when it exists.
      def load_default
        platform = @package.platform
        return false if platform.nil?
        load_if_exist("defaults/#{platform}.conf")
      end

      # Defines (or redefines) a milter; a redefinition keeps the spec,
      # timeouts, description, enabled flag, user name, command and
      # conditions, resets fallback_status and evaluation_mode, and moves the
      # milter last.
      def define_milter(name)
        name = name.to_s
        record_location("milter[#{name}]", caller_locations(1))
        milter = EggConfigurationLoader.new(@load_context,
                                            @load_context.session.eggDraft(name))
        yield(milter) if block_given?
        milter.apply
        milter
      end

      # Changes a defined milter keeping every field (used for policies).
      def amend_milter(name)
        draft = @load_context.session.amendEgg(name.to_s)
        return nil if draft.nil?
        milter = EggConfigurationLoader.new(@load_context, draft)
        yield(milter) if block_given?
        milter.apply
        milter
      end

      def remove_milter(name)
        @load_context.session.removeEgg(name.to_s)
      end

      def defined_milters
        @load_context.session.eggNames.to_a
      end

      # Defines (or redefines) an applicable condition; only the description
      # of an earlier definition survives.
      def define_applicable_condition(name)
        name = name.to_s
        record_location("applicable_condition[#{name}]", caller_locations(1))
        condition = ApplicableConditionConfigurationLoader.new(
          @load_context, @load_context.session.conditionDraft(name))
        yield(condition) if block_given?
        condition.apply
        condition
      end

      def define_policy(name)
        policy = Policy.new(name, @load_context.location(caller_locations(1)))
        yield(policy) if block_given?
        @policy_manager << policy
        policy
      end

      private
      def record_location(key, locations)
        file, line = @load_context.location(locations)
        @load_context.session.setLocation(key, file, line)
      end

      def resolve_path!(path)
        paths = @configuration.resolve_path(path)
        raise NonexistentPath.new(path) if paths.empty?
        paths
      end

      def load_top_level(file)
        paths = @configuration.resolve_path(file)
        if paths.empty?
          message = "<#{file}>: path #{file} doesn't exist in load path " +
            "(#{@configuration.load_paths.inspect})"
          @load_context.session.missingFile(file, message)
          return
        end
        paths.each do |path|
          load_configuration(path)
        end
        @policy_manager.apply
      rescue Exception => error
        report_abort(file, error)
      end

      def load_configuration(file)
        @load_context.files << file
        @load_context.session.fileLoaded(file)
        Logger.debug("[configuration][load][start] <#{file}>")
        content = File.read(file, mode: "r:UTF-8")
        instance_eval(content, file, 1)
      rescue InvalidValue, MissingValue => error
        report_invalid(file, error)
      ensure
        Logger.debug("[configuration][load][end] <#{file}>")
      end

      def report_invalid(file, error)
        frames = (error.backtrace_locations || []).select do |location|
          location.path == file
        end
        line = frames.empty? ? 0 : frames.first.lineno
        @load_context.session.invalidValue(file, line, error.message,
                                           frames.drop(1).collect(&:to_s))
      end

      def report_abort(top_file, error)
        frames = (error.backtrace_locations || []).select do |location|
          @load_context.files.include?(location.path)
        end
        file = top_file
        line = 0
        unless frames.empty?
          file = frames.first.path
          line = frames.first.lineno
        end
        message = error.message.to_s.strip
        match = /\A(.+?):(\d+): /.match(message) if error.is_a?(SyntaxError)
        if match and @load_context.files.include?(match[1])
          file = match[1]
          line = match[2].to_i
          message = match.post_match
        end
        @load_context.session.aborted(file, line, "#{error.class}: #{message}",
                                      frames.drop(1).collect(&:to_s))
      end
    end
  end
end
