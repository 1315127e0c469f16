package milter.manager.engine;

import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import milter.core.net.ConnectionSpec;
import milter.core.net.Transport;
import milter.manager.MilterManager;
import milter.manager.condition.ApplicableCondition;
import milter.manager.config.Configuration;
import milter.manager.config.Egg;
import milter.testing.mta.FakeMta;

/**
 * A manager on loopback with scripted children behind it, as engine tests use it: children are defined in egg
 * order, the manager listens on a free port, and {@link #mta()} connects a fake MTA to it. Everything stops on
 * close.
 */
final class ManagerHarness implements AutoCloseable {
    private final EventLoopGroup childGroup = Transport.best().newEventLoopGroup(1, "test-children");
    private final Map<String, ScriptedChild> children = new LinkedHashMap<>();
    private final Map<String, UnaryOperator<Egg.Builder>> eggOptions = new LinkedHashMap<>();
    private final List<ApplicableCondition> conditions = new ArrayList<>();
    private final List<FakeMta> mtas = new ArrayList<>();
    private Consumer<Configuration.Builder> settings = builder -> { };
    private MilterManager manager;

    ScriptedChild child(String name) {
        ScriptedChild child = new ScriptedChild(name, childGroup).start();
        children.put(name, child);
        return child;
    }

    ScriptedChild child(String name, UnaryOperator<Egg.Builder> options) {
        eggOptions.put(name, options);
        return child(name);
    }

    /** An egg whose child is not listening (its port was bound and closed). */
    void deadChild(String name, UnaryOperator<Egg.Builder> options) {
        ScriptedChild child = child(name, options);
        child.close();
    }

    ManagerHarness condition(ApplicableCondition condition) {
        conditions.add(condition);
        return this;
    }

    ManagerHarness settings(Consumer<Configuration.Builder> change) {
        this.settings = change;
        return this;
    }

    ManagerHarness start() {
        Configuration.Builder builder = Configuration.builder();
        conditions.forEach(builder::condition);
        for (ScriptedChild child : children.values()) {
            Egg.Builder egg = Egg.builder(child.name).connectionSpec(child.spec());
            UnaryOperator<Egg.Builder> options = eggOptions.get(child.name);
            builder.egg((options == null ? egg : options.apply(egg)).build());
        }
        settings.accept(builder);
        manager = new MilterManager(builder.build(), ConnectionSpec.parse("inet:0@[127.0.0.1]"), Transport.best(), 1);
        manager.start().toCompletableFuture().join();
        return this;
    }

    MilterManager manager() {
        return manager;
    }

    FakeMta mta() throws IOException {
        FakeMta mta = FakeMta.connect(manager.boundSpec().toString());
        mtas.add(mta);
        return mta;
    }

    @Override
    public void close() throws Exception {
        for (FakeMta mta : mtas) {
            mta.close();
        }
        if (manager != null) {
            manager.close();
        }
        for (ScriptedChild child : children.values()) {
            child.close();
        }
        childGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
