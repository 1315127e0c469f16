package milter.manager.config.ruby;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import milter.core.log.TaggedLogger;
import milter.manager.config.ConnectionChecker;
import milter.manager.config.HookEventLoop;
import org.jruby.Ruby;
import org.jruby.RubyClass;
import org.jruby.RubyModule;
import org.jruby.RubyProc;
import org.jruby.javasupport.JavaUtil;
import org.jruby.runtime.Block;
import org.jruby.runtime.ThreadContext;
import org.jruby.runtime.builtin.IRubyObject;

/** Java faces of the Ruby blocks a configuration hands to the daemon; each one guards itself. */
public final class RubyHooks {
    static final String MAINTAIN_ERROR = "[configuration][maintain][error]";
    static final String EVENT_LOOP_CREATED_ERROR = "[configuration][event-loop-created][error]";
    static final String TIMEOUT_ERROR = "[configuration][timeout][error]";
    static final String CONNECTION_CHECK_ERROR = "[configuration][connection-check][error]";

    /** Stands for {@code manager.use_netstat_connection_checker} until the daemon has a real checker. */
    static final ConnectionChecker NETSTAT_PLACEHOLDER = context -> true;

    /** {@code manager.report_memory_statistics}: RSS of the process, heap use of the JVM. */
    static final Runnable MEMORY_REPORT = RubyHooks::reportMemory;

    private RubyHooks() {
    }

    static Runnable maintained(RubyRuntime runtime, RubyProc hook) {
        return () -> {
            try {
                hook.call(runtime.ruby().getCurrentContext(), IRubyObject.NULL_ARRAY);
            } catch (RuntimeException | StackOverflowError e) {
                RubyErrors.log(TaggedLogger.NO_SESSION, MAINTAIN_ERROR, "maintained", e);
            }
        };
    }

    static Consumer<HookEventLoop> eventLoopCreated(RubyRuntime runtime, RubyProc hook) {
        return loop -> {
            try {
                Ruby ruby = runtime.ruby();
                ThreadContext thread = ruby.getCurrentContext();
                RubyClass facade = (RubyClass) ((RubyModule) ruby.getModule("Milter")).getConstant("EventLoop");
                IRubyObject rubyLoop = facade.newInstance(thread, JavaUtil.convertJavaToRuby(ruby, loop),
                        Block.NULL_BLOCK);
                hook.call(thread, new IRubyObject[] {rubyLoop});
            } catch (RuntimeException | StackOverflowError e) {
                RubyErrors.log(TaggedLogger.NO_SESSION, EVENT_LOOP_CREATED_ERROR, "event_loop_created", e);
            }
        };
    }

    /** A {@code loop.add_timeout(seconds) { ... }} block: true repeats, anything else or an exception stops. */
    public static BooleanSupplier timeoutCallback(RubyProc block) {
        return () -> {
            try {
                return block.call(block.getRuntime().getCurrentContext(), IRubyObject.NULL_ARRAY).isTrue();
            } catch (RuntimeException | StackOverflowError e) {
                RubyErrors.log(TaggedLogger.NO_SESSION, TIMEOUT_ERROR, "add_timeout", e);
                return false;
            }
        };
    }

    /** An exception counts as "connected", as upstream does, so a broken checker never drops a session. */
    static ConnectionChecker connectionChecker(RubyRuntime runtime, String name, RubyProc checker) {
        return context -> {
            try {
                Ruby ruby = runtime.ruby();
                ThreadContext thread = ruby.getCurrentContext();
                RubyModule manager = (RubyModule) ((RubyModule) ruby.getModule("Milter")).getConstant("Manager");
                RubyClass facade = (RubyClass) manager.getConstant("ConnectionCheckContext");
                IRubyObject rubyContext = facade.newInstance(thread, JavaUtil.convertJavaToRuby(ruby, context),
                        Block.NULL_BLOCK);
                return checker.call(thread, new IRubyObject[] {rubyContext}).isTrue();
            } catch (RuntimeException | StackOverflowError e) {
                RubyErrors.log(TaggedLogger.NO_SESSION, CONNECTION_CHECK_ERROR, name, e);
                return true;
            }
        };
    }

    private static void reportMemory() {
        long rss = -1;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            rss = -1;
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        TaggedLogger.statistics(TaggedLogger.NO_SESSION, "[maintain][memory]",
                "(" + rss + "KB) heap-used:" + heap.getUsed() / 1024 + "KB heap-committed:"
                        + heap.getCommitted() / 1024 + "KB");
    }
}
