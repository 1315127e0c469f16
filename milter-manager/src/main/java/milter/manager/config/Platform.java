package milter.manager.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** The platform name upstream's packaging selects defaults by. */
public final class Platform {
    private Platform() {
    }

    public static String detect() {
        String forced = System.getProperty("milter.manager.platform");
        if (forced != null) {
            return forced;
        }
        if (Files.exists(Path.of("/etc/debian_version"))) {
            return "debian";
        }
        if (Files.exists(Path.of("/etc/redhat-release"))) {
            return "redhat";
        }
        if (System.getProperty("os.name", "").toLowerCase().contains("freebsd")) {
            return "freebsd";
        }
        return "unknown";
    }

    static String defaultConnectionSpec() {
        return defaultConnectionSpec(detect());
    }

    /** The MTA-facing socket upstream's packages use on a platform. */
    public static String defaultConnectionSpec(String platform) {
        switch (platform == null ? "unknown" : platform) {
            case "debian":
                return "unix:/run/milter-manager/milter-manager.sock";
            case "redhat":
            case "freebsd":
            case "pkgsrc":
                return "unix:/var/run/milter-manager/milter-manager.sock";
            default:
                return "inet:10025@[127.0.0.1]";
        }
    }
}
