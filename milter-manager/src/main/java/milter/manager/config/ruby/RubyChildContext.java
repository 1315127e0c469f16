package milter.manager.config.ruby;

import java.util.Map;
import milter.core.protocol.Status;
import milter.manager.condition.StopperContext;
import org.jruby.Ruby;
import org.jruby.RubyClass;
import org.jruby.RubyHash;
import org.jruby.RubyObject;
import org.jruby.anno.JRubyClass;
import org.jruby.anno.JRubyMethod;
import org.jruby.runtime.ThreadContext;
import org.jruby.runtime.builtin.IRubyObject;

/**
 * The {@code context} a stopper block receives ({@code Milter::Manager::ChildContext}): a Ruby object written in
 * Java so that a stopper call costs no Ruby-level allocation beyond it. Valid during the stopper call only.
 */
@JRubyClass(name = "Milter::Manager::ChildContext")
public final class RubyChildContext extends RubyObject {
    private final transient RubyRuntime owner;
    private final transient StopperContext context;
    private IRubyObject children;
    private IRubyObject shelf;

    RubyChildContext(RubyRuntime owner, RubyClass rubyClass, StopperContext context) {
        super(owner.ruby(), rubyClass);
        this.owner = owner;
        this.context = context;
    }

    /** The wrapped context, for Java helpers that a configuration calls with {@code context}. */
    public StopperContext stopperContext() {
        return context;
    }

    @JRubyMethod(name = "name")
    public IRubyObject name(ThreadContext thread) {
        return RubyStrings.wire(thread.runtime, context.name());
    }

    @JRubyMethod(name = "[]")
    public IRubyObject macro(ThreadContext thread, IRubyObject name) {
        return RubyStrings.wire(thread.runtime, context.macro(name.asJavaString()));
    }

    /** Sets a macro for the child's pending command; nil sets nothing (a macro cannot be removed). */
    @JRubyMethod(name = "[]=")
    public IRubyObject setMacro(ThreadContext thread, IRubyObject name, IRubyObject value) {
        if (!value.isNil()) {
            context.setMacro(name.asJavaString(), RubyStrings.toWire(value));
        }
        return value;
    }

    @JRubyMethod(name = "reject?")
    public IRubyObject reject(ThreadContext thread) {
        return thread.runtime.newBoolean(context.status() == Status.REJECT);
    }

    @JRubyMethod(name = "temporary_failure?")
    public IRubyObject temporaryFailure(ThreadContext thread) {
        return thread.runtime.newBoolean(context.status() == Status.TEMPORARY_FAILURE);
    }

    @JRubyMethod(name = "accept?")
    public IRubyObject accept(ThreadContext thread) {
        return thread.runtime.newBoolean(context.status() == Status.ACCEPT);
    }

    @JRubyMethod(name = "discard?")
    public IRubyObject discard(ThreadContext thread) {
        return thread.runtime.newBoolean(context.status() == Status.DISCARD);
    }

    @JRubyMethod(name = "quitted?")
    public IRubyObject quitted(ThreadContext thread) {
        return thread.runtime.newBoolean(context.quitted());
    }

    @JRubyMethod(name = "postfix?")
    public IRubyObject postfix(ThreadContext thread) {
        return thread.runtime.newBoolean(context.postfix());
    }

    @JRubyMethod(name = "authenticated?")
    public IRubyObject authenticated(ThreadContext thread) {
        return thread.runtime.newBoolean(context.authenticated());
    }

    @JRubyMethod(name = "n_processing_sessions")
    public IRubyObject processingSessions(ThreadContext thread) {
        return thread.runtime.newFixnum(context.processingSessions());
    }

    @JRubyMethod(name = "children")
    public IRubyObject children(ThreadContext thread) {
        if (children == null) {
            Ruby ruby = thread.runtime;
            RubyHash hash = RubyHash.newHash(ruby);
            for (Map.Entry<String, StopperContext> entry : context.children().entrySet()) {
                hash.op_aset(thread, RubyStrings.wire(ruby, entry.getKey()), owner.childContext(entry.getValue()));
            }
            children = hash;
        }
        return children;
    }

    @JRubyMethod(name = "mail_transaction_shelf")
    public IRubyObject mailTransactionShelf(ThreadContext thread) {
        if (shelf == null) {
            shelf = owner.mailTransactionShelf(thread, context.mailTransactionShelf());
        }
        return shelf;
    }
}
