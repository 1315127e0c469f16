package milter.manager.config;

import milter.manager.condition.ClientAddress;

/** What a connection checker sees of a session (upstream's {@code ConnectionCheckContext}). */
public interface ConnectionCheckContext {

    /** The SMTP client's address from the MTA's connect command. */
    ClientAddress smtpClientAddress();

    /** The address of the MTA's own connection to the manager (its peer address). */
    ClientAddress smtpServerAddress();

    /** A macro the MTA sent in this session ({@code x} or {@code {x}}), or null. */
    String macro(String name);

    /** The MTA's name and version (macro {@code v}). */
    default String smtpServerName() {
        return macro("v");
    }
}
