package milter.manager.config.ruby;

import java.util.List;
import java.util.Map;
import milter.manager.condition.ClientAddress;
import milter.manager.condition.StopperContext;
import org.jruby.Ruby;
import org.jruby.RubyClass;
import org.jruby.RubyInstanceConfig;
import org.jruby.RubyModule;
import org.jruby.javasupport.JavaUtil;
import org.jruby.runtime.Block;
import org.jruby.runtime.ThreadContext;
import org.jruby.runtime.builtin.IRubyObject;

/**
 * The process's one JRuby runtime. It outlives configuration loads: the stopper blocks a configuration defines
 * are called later from event-loop threads, several at once (JRuby runs Ruby code on any Java thread, adopting it
 * on first use). Loads are serialised by the caller.
 */
public final class RubyRuntime implements AutoCloseable {
    /** Where the Ruby side of the DSL lives on the class path. */
    public static final String LIBRARY = "uri:classloader:/milter-manager-ruby";

    private final Ruby ruby;
    private final RubyClass childContextClass;
    private final RubyClass ipv4Class;
    private final RubyClass ipv6Class;
    private final RubyClass unixClass;
    private final RubyClass unknownClass;
    private final RubyClass shelfClass;
    private final RubyModule loaderClass;

    private RubyRuntime(Ruby ruby) {
        this.ruby = ruby;
        RubyModule milter = ruby.defineModule("Milter");
        RubyModule manager = milter.defineModuleUnder("Manager");
        this.childContextClass = manager.defineClassUnder("ChildContext", ruby.getObject(),
                (runtime, rubyClass) -> {
                    throw runtime.newTypeError("Milter::Manager::ChildContext is created by the manager only");
                });
        childContextClass.defineAnnotatedMethods(RubyChildContext.class);
        ruby.getLoadService().require("milter/manager/dsl");
        RubyModule socketAddress = (RubyModule) milter.getConstant("SocketAddress");
        this.ipv4Class = (RubyClass) socketAddress.getConstant("IPv4");
        this.ipv6Class = (RubyClass) socketAddress.getConstant("IPv6");
        this.unixClass = (RubyClass) socketAddress.getConstant("Unix");
        this.unknownClass = (RubyClass) socketAddress.getConstant("Unknown");
        this.shelfClass = (RubyClass) manager.getConstant("MailTransactionShelf");
        this.loaderClass = (RubyModule) manager.getConstant("ConfigurationLoader");
    }

    /** Starts a runtime (a second or two) with the DSL library loaded. */
    public static RubyRuntime start() {
        RubyInstanceConfig config = new RubyInstanceConfig();
        config.setLoader(RubyRuntime.class.getClassLoader());
        config.setLoadPaths(List.of(LIBRARY));
        config.setHardExit(false);
        config.setDisableGems(true);
        config.setArgv(new String[0]);
        return new RubyRuntime(Ruby.newInstance(config));
    }

    public Ruby ruby() {
        return ruby;
    }

    /** Runs {@code milter-manager.conf} (or another top-level file) into a session. */
    void load(LoadSession session, String file) {
        ThreadContext thread = ruby.getCurrentContext();
        loaderClass.callMethod(thread, "run",
                new IRubyObject[] {JavaUtil.convertJavaToRuby(ruby, session), ruby.newString(file)});
    }

    /** Evaluates Ruby code (tests and tools). */
    public IRubyObject eval(String script) {
        return ruby.evalScriptlet(script);
    }

    IRubyObject childContext(StopperContext context) {
        return new RubyChildContext(this, childContextClass, context);
    }

    /** {@code Milter::SocketAddress::IPv4/IPv6/Unix/Unknown} for a client address. */
    public IRubyObject socketAddress(ThreadContext thread, ClientAddress address) {
        if (address == null || address.family() == null || address.address() == null) {
            return unknownClass.newInstance(thread, IRubyObject.NULL_ARRAY, Block.NULL_BLOCK);
        }
        switch (address.family()) {
            case INET:
                return ipv4Class.newInstance(thread, ruby.newString(address.address()),
                        ruby.newFixnum(address.port()), Block.NULL_BLOCK);
            case INET6:
                return ipv6Class.newInstance(thread, ruby.newString(address.address()),
                        ruby.newFixnum(address.port()), Block.NULL_BLOCK);
            case UNIX:
                return unixClass.newInstance(thread, ruby.newString(address.address()), Block.NULL_BLOCK);
            default:
                return unknownClass.newInstance(thread, IRubyObject.NULL_ARRAY, Block.NULL_BLOCK);
        }
    }

    IRubyObject mailTransactionShelf(ThreadContext thread, Map<String, Object> shelf) {
        return shelfClass.newInstance(thread, JavaUtil.convertJavaToRuby(ruby, shelf), Block.NULL_BLOCK);
    }

    @Override
    public void close() {
        ruby.tearDown(false);
    }
}
