package milter.manager.config;

import java.nio.file.Files;
import java.nio.file.Path;

/** The platform name upstream's packaging selects defaults by. */
final class Platform {
    private Platform() {
    }

    static String detect() {
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
        switch (detect()) {
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
