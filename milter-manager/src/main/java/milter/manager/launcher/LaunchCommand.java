package milter.manager.launcher;

import java.util.Objects;
import milter.manager.config.Egg;

/**
 * What the launcher is asked to run: a command line as the configuration wrote it ({@code milter.command}, then a
 * space and {@code milter.command_options} when set) and the user to run it as (null: the daemon's own user).
 */
public record LaunchCommand(String commandLine, String userName) {
    public LaunchCommand {
        Objects.requireNonNull(commandLine, "commandLine");
        if (userName != null && userName.isEmpty()) {
            userName = null;
        }
    }

    /** The egg's start command, or null when it has none. */
    public static LaunchCommand of(Egg egg) {
        if (egg.command() == null || egg.command().isEmpty()) {
            return null;
        }
        String line = egg.commandOptions() == null || egg.commandOptions().isEmpty() ? egg.command()
                : egg.command() + " " + egg.commandOptions();
        return new LaunchCommand(line, egg.userName());
    }

    /** {@code <CMD>@<USER>}, {@code [current-user]} standing for no user, as upstream logs it. */
    public String describe() {
        return "<" + commandLine + ">@<" + (userName == null ? "[current-user]" : userName) + ">";
    }
}
