package milter.manager.config.ruby;

import java.util.ArrayList;
import java.util.List;
import milter.core.log.TaggedLogger;
import org.jruby.RubyArray;
import org.jruby.RubyException;
import org.jruby.exceptions.RaiseException;
import org.jruby.runtime.builtin.IRubyObject;

/** Logging of exceptions raised by configuration code run later (stoppers, hooks, checkers). */
final class RubyErrors {
    /** Frames logged per exception: enough to find the line, bounded so a deep recursion cannot flood the log. */
    static final int MAX_FRAMES = 20;

    private RubyErrors() {
    }

    /** Logs {@code OWNER: Class: message} then one line per backtrace frame, all with {@code tags}. */
    static void log(long session, String tags, String owner, Throwable error) {
        TaggedLogger.error(session, tags, owner + ": " + describe(error));
        for (String frame : backtrace(error)) {
            TaggedLogger.error(session, tags, frame);
        }
    }

    static String describe(Throwable error) {
        if (error instanceof RaiseException raise) {
            RubyException exception = raise.getException();
            return exception.getMetaClass().getRealClass().getName() + ": " + exception.message(
                    exception.getRuntime().getCurrentContext()).asJavaString();
        }
        return error.getClass().getName() + ": " + error.getMessage();
    }

    static List<String> backtrace(Throwable error) {
        List<String> frames = new ArrayList<>();
        if (error instanceof RaiseException raise) {
            IRubyObject backtrace = raise.getException().backtrace();
            if (backtrace instanceof RubyArray<?> array) {
                for (int i = 0; i < array.size() && frames.size() < MAX_FRAMES; i++) {
                    frames.add(String.valueOf(array.eltInternal(i)));
                }
            }
            return frames;
        }
        for (StackTraceElement element : error.getStackTrace()) {
            if (frames.size() >= MAX_FRAMES) {
                break;
            }
            frames.add(element.toString());
        }
        return frames;
    }
}
