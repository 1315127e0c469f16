package milter.manager.launcher;

import io.netty.channel.EventLoop;
import java.util.concurrent.CompletionStage;
import milter.core.log.TaggedLogger;
import milter.manager.ChildChannel;
import milter.manager.ChildConnector;
import milter.manager.config.Egg;

/**
 * A connector that asks the {@link ProcessLauncher} to start a child the engine could not reach (privilege mode):
 * {@code [N] [children][start-child] [T] <CMD>@<USER|[current-user]>}. The request is queued; the engine's own
 * retry, five seconds later, finds the child listening or gives it up.
 */
public final class LaunchingChildConnector implements ChildConnector {
    private final ChildConnector delegate;
    private final ProcessLauncher launcher;

    public LaunchingChildConnector(ChildConnector delegate, ProcessLauncher launcher) {
        this.delegate = delegate;
        this.launcher = launcher;
    }

    @Override
    public CompletionStage<ChildChannel> connect(Egg egg, long tag, EventLoop loop) {
        return delegate.connect(egg, tag, loop);
    }

    @Override
    public void startChild(Egg egg, long sessionTag, long childTag) {
        LaunchCommand command = LaunchCommand.of(egg);
        if (command == null) {
            TaggedLogger.debug(sessionTag, "[children][start-child][skip]", () -> "[" + childTag + "] no command: "
                    + egg.name());
            return;
        }
        TaggedLogger.debug(sessionTag, "[children][start-child]", () -> "[" + childTag + "] " + command.describe());
        launcher.launch(command);
        delegate.startChild(egg, sessionTag, childTag);
    }
}
