package milter.client;

/** Creates the {@link Milter} of each accepted MTA connection. Called on that connection's event loop. */
@FunctionalInterface
public interface MilterFactory {

    /**
     * @param context the new connection (not negotiated yet)
     * @return the milter that will receive this connection's commands
     */
    Milter create(ClientContext context);
}
